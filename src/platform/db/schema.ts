// Table types for Kysely. Each feature's tables are added here with its migration.
import type { ColumnType, Generated } from 'kysely';

export interface InstanceTable {
  key: string;
  value: string;
}

export interface Database {
  seler_instance: InstanceTable;
  beat_periodic_task: BeatPeriodicTaskTable;
  beat_run: BeatRunTable;
  auth_user: AuthUserTable;
  auth_group: AuthGroupTable;
  auth_user_group: AuthUserGroupTable;
  auth_group_permission: AuthGroupPermissionTable;
  auth_user_permission: AuthUserPermissionTable;
  auth_token: AuthTokenTable;
  auth_session: AuthSessionTable;
  auth_login_counter: AuthLoginCounterTable;
  admin_log: AdminLogTable;
  seler_secret: SelerSecretTable;
}

// Beat (migration 0002). Instants are epoch ms in bigint columns: pg returns int8 as a string, so reads are `number | string`.
type Millis = ColumnType<number | string, number, number>;
type NullableMillis = ColumnType<number | string | null, number | null | undefined, number | null>;

export interface BeatPeriodicTaskTable {
  id: Generated<number | string>;
  name: string;
  task: string;
  /** JSON array. */
  args: string;
  /** JSON object. */
  kwargs: string;
  queue: string | null;
  priority: number | null;
  expires: NullableMillis;
  expire_seconds: number | null;
  one_off: number;
  start_time: NullableMillis;
  enabled: number;
  description: string;
  schedule_kind: string;
  /** The Schedule JSON ({interval}|{crontab}|{solar}|{clocked}). */
  schedule: string;
  source: string;
  /** JSON: the values the configuration declares (config and builtin rows only). */
  declared: string | null;
  /** JSON array of field names an operator changed away from the declared value. */
  overridden: string;
  missed_run_policy: string;
  overlap_policy: string;
  last_run_at: NullableMillis;
  total_run_count: number;
  last_task_id: string | null;
  /** The claim cursor: the next due time, null when nothing is due (disabled or finished). */
  next_run_at: NullableMillis;
  date_created: Millis;
  date_changed: Millis;
}

export interface BeatRunTable {
  id: Generated<number | string>;
  periodic_task_id: number | string;
  task_id: string;
  scheduled_for: Millis;
  trigger: string;
  claimed_at: Millis;
  /** Null while claimed but not yet handed to the broker. */
  enqueued_at: NullableMillis;
  /** Null for a run that was (or is to be) enqueued; 'skipped' | 'expired' | 'failed' otherwise. */
  status: string | null;
  note: string | null;
}

// Admin auth (migration 0003): ids are bigint (pg returns them as strings), instants epoch ms, flags 0/1.
type Id = number | string;

export interface AuthUserTable {
  id: Generated<Id>;
  username: string;
  email: string;
  /** `scrypt$N$r$p$salt$hash`, or `!` for a user who cannot log in with a password. */
  password: string;
  is_active: number;
  is_staff: number;
  is_superuser: number;
  date_joined: Millis;
  last_login: NullableMillis;
}

export interface AuthGroupTable {
  id: Generated<Id>;
  name: string;
}

export interface AuthUserGroupTable {
  user_id: Id;
  group_id: Id;
}

export interface AuthGroupPermissionTable {
  group_id: Id;
  codename: string;
}

export interface AuthUserPermissionTable {
  user_id: Id;
  codename: string;
}

export interface AuthTokenTable {
  id: Generated<Id>;
  user_id: Id;
  name: string;
  /** sha256 hex of the token; the token itself is shown once. */
  token_hash: string;
  /** The token's first characters, to recognise it in a list. */
  prefix: string;
  created: Millis;
  last_used: NullableMillis;
  revoked: NullableMillis;
}

export interface AuthSessionTable {
  /** sha256 hex of the cookie's session id. */
  id: string;
  user_id: Id;
  created: Millis;
  /** Absolute end; the idle limit is checked against last_seen. */
  expires: Millis;
  last_seen: Millis;
  ip: string;
  user_agent: string;
}

// Migration 0005: log-in throttle counters (src/admin/throttle.ts).
export interface AuthLoginCounterTable {
  key: string;
  count: number;
  /** End of the counting window, or of the lock. */
  expires: Millis;
}

export interface AdminLogTable {
  id: Generated<Id>;
  action_time: Millis;
  user_id: Id | null;
  username: string;
  action: string;
  object_type: string;
  object_id: string | null;
  object_repr: string;
  /** JSON, Django-style: [{"added":{}}], [{"changed":{"fields":[...]}}], [{"deleted":{}}]. */
  change_message: string;
}

// Migration 0006: the admin's signing secrets, one row per generation (src/admin/secret.ts).
export interface SelerSecretTable {
  generation: number;
  secret: string;
  activates: Millis;
  retires: NullableMillis;
}
