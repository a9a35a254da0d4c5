// The admin's authentication and authorization (Django's auth app), used through this file.
export { registerAdminAuth, requireUser, requirePerm, staffGuard, adminGuard, csrfTokenFor, safeNext, AdminAuth, SESSION_COOKIE, CSRF_COOKIE, CSRF_HEADER, CSRF_FIELD } from './auth-plugin.js';
export type { AdminAuthOptions, Identity } from './auth-plugin.js';
export { registerAdminRoutes, type AdminRouteOptions } from './routes.js';
export { loadSecrets, rotateSecret, type SecretRing } from './secret.js';
export { createUser, createSuperuser, hasSuperuser, getUser, getUserByUsername, listUsers, updateUser, deleteUser, loadAuthUser } from './users.js';
export type { AuthUser, UserRecord, NewUser, UserChanges } from './users.js';
export { createsuperuserCommand, createtokenCommand, type CommandIO, type CreatesuperuserOptions } from './commands.js';
export { terminalIO } from './terminal.js';
export { createGroup, updateGroup, deleteGroup, getGroup, listGroups } from './groups.js';
export { createToken, revokeToken, listTokens, authenticateToken } from './tokens.js';
export { recordChange, auditLog, listLog, added, changed, deleted, type Change, type ChangeAction, type LogEntry } from './audit.js';
export { PERMISSIONS, PERMISSION_MODELS, isPermission, userHasPerm, effectivePermissions, type Permission } from './permissions.js';
export { hashPassword, verifyPassword, passwordProblems } from './passwords.js';
export { registerAdminConsole } from './console-routes.js';
export { header as adminHeader, sendPage as sendAdminPage, escapeHtml, CSS_PATH as ADMIN_CSS_PATH } from './pages.js';
export type { Page } from './store-util.js';
