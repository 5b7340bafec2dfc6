// The console's lint: the shared config of the repository root, plus React's
// rules (hooks, accessibility of JSX) and the console's place in the layering
// of docs/architecture.md: it talks to the API over HTTP only, so its src
// imports nothing of the other workspaces, core included (not even types).
import jsxA11y from 'eslint-plugin-jsx-a11y';
import reactHooks from 'eslint-plugin-react-hooks';
import shared from '../../eslint.config.mjs';

export default [
  ...shared,
  { files: ['src/**/*.{ts,tsx}'], ...reactHooks.configs.flat.recommended },
  { files: ['src/**/*.tsx'], ...jsxA11y.flatConfigs.recommended },
  {
    // A scrolling box (a wide table, the messages, a snippet) is focusable, so it scrolls from the keyboard.
    files: ['src/**/*.tsx'],
    rules: { 'jsx-a11y/no-noninteractive-tabindex': ['error', { tags: ['pre'], roles: ['tabpanel', 'region', 'log'], allowExpressionValues: true }] },
  },
  {
    files: ['src/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^@datagen/', message: 'the console talks to the API over HTTP only: it imports no workspace of this repository, core included (docs/architecture.md).' },
            { regex: '^\\.\\./', message: 'the console src imports only its own files (docs/architecture.md).' },
          ],
        },
      ],
    },
  },
];
