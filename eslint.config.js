// ESLint flat config. The import-boundary rules enforce the "may import" column of
// ARCHITECTURE.md §2 (VS Code's code-layering rule is the model); test/unit/lint-boundaries.test.ts
// proves that each forbidden import fails.
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'node:*',
  'fs',
  'fs/*',
  'path',
  'os',
  'crypto',
  'child_process',
  'worker_threads',
  'net',
  'tls',
  'http',
  'https',
  'url',
  'util',
  'events',
  'stream',
  'buffer',
  'process',
];

const electronOnly = { group: ['electron', 'electron/*'], message: 'Only main/electron/ and preload/ may import electron (ARCHITECTURE.md §2).' };

/** @param {string[]} group @param {string} message */
const deny = (group, message) => ({ group, message });

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'release/', 'artifacts/', 'test/fixtures/lint/**', '.native/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-eval': 'error',
      'no-implied-eval': 'error',
      'no-new-func': 'error',
      'svelte/no-at-html-tags': 'error',
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: {
      globals: { ...globals.browser },
      parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] },
    },
  },
  // --- boundaries -----------------------------------------------------------
  {
    files: ['common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            deny(['*', '!zod', '!./*', '!../*', '!./**', '!../**'], 'common/ may import nothing but zod and common/ (ARCHITECTURE.md §2).'),
            deny(['../main/**', '../../main/**', '../renderer/**', '../../renderer/**', '../preload/**', '../../preload/**'], 'common/ may import only common/.'),
            deny(nodeBuiltins, 'common/ runs in every process: no Node built-ins.'),
            electronOnly,
          ],
        },
      ],
    },
  },
  {
    files: ['main/**/*.ts'],
    ignores: ['main/electron/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            electronOnly,
            deny(['**/renderer/**', '**/preload/**', '**/test/**'], 'main/ may import common/, Node and npm only.'),
            deny(['**/electron/**'], 'main/ services must not depend on main/electron/ (only main/index.ts wires it).'),
          ],
        },
      ],
    },
  },
  {
    files: ['main/index.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [electronOnly] }] },
  },
  {
    files: ['main/electron/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [deny(['**/renderer/**', '**/preload/**', '**/test/**'], 'main/electron/ may import main/, common/ and electron.')] },
      ],
    },
  },
  {
    files: ['preload/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            deny(['**/main/**', '**/renderer/**', '**/test/**'], 'preload/ may import common/ and electron only.'),
            deny(nodeBuiltins, 'preload/ runs sandboxed: no Node built-ins.'),
          ],
        },
      ],
    },
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.svelte'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            electronOnly,
            deny(['**/main/**', '**/preload/**', '**/test/**'], 'renderer/ may import common/ and its own files only.'),
            deny(nodeBuiltins, 'renderer/ runs in a sandboxed page: no Node built-ins.'),
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'scripts/**/*.{ts,mjs,js}', '*.config.{ts,js}'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
