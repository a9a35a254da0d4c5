// ESLint (flat config): typescript-eslint's recommended rules, without type information so it stays
// fast. Checked by test/static-checks.test.ts (`npx eslint .`); TypeScript itself checks the types.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The few globals of the plain JavaScript files (bin/, scripts/, fixtures): Node's. */
const nodeGlobals = Object.fromEntries(['process', 'console', 'URL', 'Buffer', 'setTimeout', 'clearTimeout', 'module', 'require'].map((name) => [name, 'readonly']));

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'bench/.corpus/', 'bench/.profiles/', 'test-results/', 'scratch/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `{ secret: _ignored, ...rest }` and `_`-named parameters are how the code says "left out on purpose".
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // `cond ? a() : b()` and `x && y()` as statements are used deliberately for short branches.
      '@typescript-eslint/no-unused-expressions': ['error', { allowShortCircuit: true, allowTernary: true }],
      // Control characters are matched on purpose: names, keys and input are refused or cleaned of them.
      'no-control-regex': 'off',
      // A `let` that closures defined before its one assignment read (an SSE stream, a list view) cannot be const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: nodeGlobals },
  },
  {
    // Tests reach into objects the types keep closed (a private field, a malformed body on purpose).
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
