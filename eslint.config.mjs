// ESLint 9 flat config for every workspace. Each workspace runs
// `eslint --no-error-on-unmatched-pattern src test` from its own folder;
// ESLint finds this file by looking up from there.
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

// The layering of docs/architecture.md. Paths below are relative to this
// file's folder, whichever workspace ESLint runs from.
const ROOT = import.meta.dirname;
const CORE = 'packages/core/src';
const SEE = '(docs/architecture.md)';

/**
 * A layer of packages/core/src may import only what `allowed` names (paths
 * under packages/core/src, its own folder included); any other file of core
 * is refused. An allow-list, so a new module of core is refused everywhere
 * until it is given a place in the layering here and in the doc.
 */
const layer = (targets, allowed, message) => ({
  target: targets.map((t) => `${CORE}/${t}`),
  from: CORE,
  except: allowed.map((a) => `./${a}`),
  message: `${message} ${SEE}`,
});

const coreLayers = [
  layer(['model'], ['model'], 'model/ is the bottom layer: it imports nothing else of ours.'),
  layer(['contract.ts'], ['model'], 'contract.ts (the HTTP contract) may import model/ only.'),
  layer(['config.ts'], ['model', 'contract.ts'], 'config.ts may import model/ and contract.ts only.'),
  layer(['logger.ts', 'metrics.ts'], ['model', 'config.ts'], 'logger.ts and metrics.ts may import model/ and config.ts only.'),
  layer(['redis'], ['redis', 'config.ts', 'model'], 'redis/ may import config.ts and model/ only.'),
  layer(
    ['engine'],
    ['engine', 'model', 'contract.ts', 'llm/provider.ts', 'llm/errors.ts'],
    'engine/ is pure logic: it may import model/, contract.ts and the llm ports (llm/provider.ts, llm/errors.ts) only.',
  ),
  // The two llm files engine/ may import are ports: they stay as low as
  // engine's own imports, so engine -> port never loops back into llm/.
  layer(
    ['llm/provider.ts', 'llm/errors.ts'],
    ['llm/provider.ts', 'llm/errors.ts', 'model', 'contract.ts'],
    'llm/provider.ts and llm/errors.ts are the ports engine/ calls: they may import model/, contract.ts and each other only.',
  ),
  layer(
    ['llm'],
    ['llm', 'model', 'contract.ts', 'config.ts', 'metrics.ts', 'logger.ts', 'redis', 'engine'],
    'llm/ may import model/, contract.ts, config.ts, metrics.ts, logger.ts, redis/ and engine/ only; never store/, queue/, jobs/, eval/ or testing/.',
  ),
  layer(
    ['store'],
    ['store', 'model', 'contract.ts', 'redis'],
    'store/ may import model/, contract.ts and redis/ only; never engine/, llm/, queue/ or jobs/.',
  ),
  layer(['queue'], ['queue', 'model', 'redis'], 'queue/ may import model/ and redis/ only; never store/, engine/, llm/ or jobs/.'),
  layer(
    ['jobs'],
    ['jobs', 'model', 'contract.ts', 'config.ts', 'logger.ts', 'metrics.ts', 'redis', 'engine', 'llm', 'store', 'queue'],
    'jobs/ may import every layer below it; never eval/, testing/ or index.ts.',
  ),
  layer(
    ['webhooks'],
    ['webhooks', 'model', 'contract.ts', 'config.ts', 'logger.ts', 'metrics.ts', 'redis', 'store', 'queue', 'jobs'],
    'webhooks/ sits on the job service: it may import jobs/ and what jobs/ may (but engine/ and llm/); never eval/, testing/ or index.ts.',
  ),
  {
    target: `${CORE}/index.ts`,
    from: [`${CORE}/eval`, `${CORE}/testing`],
    message: `index.ts is the public face of @datagen/core: it never exports eval/ or testing/ (testing is '@datagen/core/testing'). ${SEE}`,
  },
  {
    // Core's own tests may use the shared test support (a Redis process of their own); its source never.
    target: 'packages/core/src',
    from: ['apps', 'test'],
    message: `packages/core's source never imports an app or the test support. ${SEE}`,
  },
];

// What the resolver gives for the two entry points of @datagen/core.
const CORE_ENTRY = ['./dist/index.d.ts', './dist/index.js'];
const CORE_TESTING_ENTRY = ['./dist/testing/index.d.ts', './dist/testing/index.js'];
// apps/console has its own eslint config (it extends this one), which also keeps it off @datagen/* entirely: it talks HTTP only.
const APPS = ['api', 'worker', 'cli', 'bench', 'console'];

const appZones = APPS.flatMap((app) => {
  const bench = app === 'bench';
  const others = APPS.filter((other) => other !== app);
  return [
    {
      target: `apps/${app}/src`,
      from: 'packages/core',
      except: bench ? [...CORE_ENTRY, ...CORE_TESTING_ENTRY] : CORE_ENTRY,
      message: bench
        ? `the bench imports core only as '@datagen/core' or '@datagen/core/testing', never by a path into packages/core. ${SEE}`
        : `an app imports core only as '@datagen/core', never by a path into packages/core; '@datagen/core/testing' is for tests and the bench. ${SEE}`,
    },
    // The bench starts the real API and worker in-process, through their
    // built packages (@datagen/api/dist/server, @datagen/worker/dist/worker);
    // no other app uses another, and none reaches into another's src.
    {
      target: `apps/${app}/src`,
      from: bench ? ['apps/api/src', 'apps/worker/src', 'apps/cli'] : others.map((other) => `apps/${other}`),
      message: bench
        ? `the bench uses the API and worker only through their built packages (@datagen/api/dist/..., @datagen/worker/dist/...), never their src. ${SEE}`
        : `an app's src never imports another app. ${SEE}`,
    },
  ];
});

// Deep paths into @datagen/core's build are not resolvable through its
// `exports`, so no-restricted-paths cannot see them: name them here.
const deepCore = (testingToo) => ({
  regex: testingToo ? '^@datagen/core/' : '^@datagen/core/(?!testing$)',
  message: testingToo
    ? `import core only as '@datagen/core' ('@datagen/core/testing' is for tests and the bench). ${SEE}`
    : `import core only as '@datagen/core' or '@datagen/core/testing'. ${SEE}`,
});

export default defineConfig(
  { ignores: ['**/dist/', '**/node_modules/', '**/coverage/', '**/.turbo/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // `_`-prefixed names are deliberate: Express error handlers need four
      // parameters, destructuring may skip fields.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // `arr[i]!` is the idiom under noUncheckedIndexedAccess, in hot loops above all.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [
        createTypeScriptImportResolver({
          alwaysTryTypes: true,
          // Each workspace's tsconfig for its src, tsconfig.test.json (what
          // ts-jest compiles with) for tests; a file in none is slow to resolve.
          project: [`${ROOT}/packages/*/tsconfig.json`, `${ROOT}/apps/*/tsconfig.json`, `${ROOT}/tsconfig.test.json`],
          noWarnOnMultipleProjects: true,
        }),
      ],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: ROOT, zones: [...coreLayers, ...appZones] }],
    },
  },
  {
    files: ['apps/api/src/**', 'apps/worker/src/**', 'apps/cli/src/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            deepCore(true),
            { regex: '^@datagen/(?!core(/|$))', message: `an app's src never imports another app. ${SEE}` },
          ],
        },
      ],
    },
  },
  {
    files: ['apps/bench/src/**', 'apps/*/test/**', 'test/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [deepCore(false)] }] },
  },
  {
    // Tests and test-support code under src/testing.
    files: ['**/test/**', '**/src/testing/**', '**/*.test.ts', '**/*.spec.ts'],
    rules: {
      // JSON answers read in tests are loosely typed on purpose.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // Plain CommonJS files (jest config, jest global setup).
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', exports: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
);
