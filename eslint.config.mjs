// ESLint 9 flat config for every workspace. Each workspace runs
// `eslint --no-error-on-unmatched-pattern src test` from its own folder;
// ESLint finds this file by looking up from there.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

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
