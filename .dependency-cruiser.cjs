// The import rules of docs/ARCHITECTURE.md, checked by test/static-checks.test.ts (`npx depcruise src web`).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: modules that need each other to load. Move what both need into a third module.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'feature-through-its-entry',
      severity: 'error',
      comment:
        'A feature (src/<feature>/) uses another only through its index.ts or contract.ts; platform/ is shared by all. ' +
        'A task module may also import tasks/define-task.ts, the light entry for declaring tasks (the index brings the ' +
        'worker and the routes, which `seler call`, registering every task, should not load). ' +
        'The composition layer (src/*.ts and the command line, src/cli/) may load single modules, so that a command ' +
        'loads only what it needs; tests may reach into any module they exercise.',
      from: { path: '^src/([^/]+)/', pathNot: ['^src/cli/', '\\.test\\.ts$'] },
      to: {
        path: '^src/[^/]+/',
        pathNot: ['^src/$1/', '^src/platform/', '^src/[^/]+/(index|contract)\\.ts$', '^src/tasks/define-task\\.ts$'],
      },
    },
    {
      name: 'platform-imports-no-feature',
      severity: 'error',
      comment: 'platform/ is the infrastructure every feature builds on: it imports none of them.',
      from: { path: '^src/platform/', pathNot: '\\.test\\.ts$' },
      to: { path: '^src/', pathNot: '^src/platform/' },
    },
    {
      name: 'browser-imports-only-contracts',
      severity: 'error',
      comment:
        'The pages import only contract modules of the server, so nothing of the server reaches the bundle; thumbnails/options.ts is the one with values the page shares (formats, limits, the first-bytes check), and imports nothing.',
      from: { path: '^web/' },
      to: { path: '^src/', pathNot: ['^src/[^/]+/contract\\.ts$', '^src/beat/schedules/types\\.ts$', '^src/thumbnails/options\\.ts$'] },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      comment: 'An import of a module that does not exist (seler/tasks is the package itself, as a task module outside it imports it).',
      from: {},
      to: { couldNotResolve: true, pathNot: '^seler(/|$)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
    // Type-only imports count: a cycle of types is still two modules that cannot be understood apart.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.check.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'], exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
