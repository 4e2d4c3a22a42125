// ESLint flat config. The `local/layering` rule enforces the "may import" column of
// ARCHITECTURE.md §2 (VS Code's `local/code-layering` is the model): it resolves each import
// (static, dynamic, re-export, require) against the importing file's folder and refuses
// imports across the wrong line. test/unit/lint-boundaries.test.ts proves each forbidden import fails.
import js from '@eslint/js';
import { builtinModules } from 'node:module';
import { dirname, relative, resolve, sep } from 'node:path';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Packages that only work in Node: never in a page, even one that could bundle them. */
const nodeOnlyPackages = [
  'better-sqlite3-multiple-ciphers',
  'better-sqlite3',
  '@napi-rs/keyring',
  '@node-rs/argon2',
  '@xmpp/client',
  'ws',
  'electron-updater',
  'openpgp',
];

/**
 * Layer → what it may import. layers: folders it may reach with relative imports;
 * npm: true (any), false (none) or an allow-list; node: Node built-ins; electron: the electron module.
 */
const LAYERS = {
  common: { layers: ['common'], npm: ['zod'], node: false, electron: false },
  main: { layers: ['common', 'main'], npm: true, node: true, electron: false },
  'main-entry': { layers: ['common', 'main', 'main-electron'], npm: true, node: true, electron: false },
  'main-electron': { layers: ['common', 'main', 'main-electron'], npm: true, node: true, electron: true },
  preload: { layers: ['common', 'preload'], npm: false, node: false, electron: true },
  renderer: { layers: ['common', 'renderer'], npm: 'browser', node: false, electron: false },
};

/** @param {string} rel path relative to the repo root, '/'-separated */
function layerOf(rel) {
  if (rel === 'main/index.ts') return 'main-entry';
  if (rel.startsWith('main/electron/')) return 'main-electron';
  for (const name of ['common', 'main', 'preload', 'renderer']) if (rel.startsWith(`${name}/`)) return name;
  if (rel.startsWith('..')) return 'outside';
  return 'other';
}

const builtins = new Set(builtinModules);
const packageName = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);

/** @type {import('eslint').Rule.RuleModule} */
const layering = {
  meta: {
    type: 'problem',
    schema: [],
    messages: { denied: '{{from}} may not import {{what}} (ARCHITECTURE.md §2 import table).' },
  },
  create(context) {
    const cwd = context.cwd;
    const file = context.filename;
    const fileRel = relative(cwd, file).split(sep).join('/');
    const layer = layerOf(fileRel);
    const rules = LAYERS[layer];
    if (!rules) return {};
    const check = (node, raw) => {
      if (typeof raw !== 'string') return;
      const spec = raw.replace(/[?#].*$/, '');
      let what = null;
      if (spec.startsWith('.') || spec.startsWith('/')) {
        const target = relative(cwd, resolve(dirname(file), spec))
          .split(sep)
          .join('/');
        const targetLayer = layerOf(target);
        if (!rules.layers.includes(targetLayer))
          what = `${targetLayer === 'other' || targetLayer === 'outside' ? target : `${targetLayer}/`} (${spec})`;
      } else if (spec === 'electron' || spec.startsWith('electron/')) {
        if (!rules.electron) what = "'electron' (only main/electron/ and preload/ may)";
      } else if (spec.startsWith('node:') || builtins.has(spec) || builtins.has(packageName(spec))) {
        if (!rules.node) what = `the Node built-in '${spec}'`;
      } else {
        const pkg = packageName(spec);
        const allowed =
          rules.npm === true ||
          (rules.npm === 'browser' && !nodeOnlyPackages.includes(pkg)) ||
          (Array.isArray(rules.npm) && rules.npm.includes(pkg));
        if (!allowed) what = `the package '${pkg}'`;
      }
      if (what)
        context.report({
          node,
          messageId: 'denied',
          data: {
            from: `${layer === 'main-entry' ? 'main/index.ts' : layer.replace('main-electron', 'main/electron') + '/'}`,
            what,
          },
        });
    };
    const literal = (n) => (n && n.type === 'Literal' ? n.value : undefined);
    return {
      ImportDeclaration: (n) => check(n, literal(n.source)),
      ExportNamedDeclaration: (n) => n.source && check(n, literal(n.source)),
      ExportAllDeclaration: (n) => check(n, literal(n.source)),
      ImportExpression: (n) => check(n, literal(n.source)),
      TSImportEqualsDeclaration: (n) =>
        n.moduleReference.type === 'TSExternalModuleReference' && check(n, literal(n.moduleReference.expression)),
      CallExpression: (n) => {
        if (n.callee.type === 'Identifier' && n.callee.name === 'require' && n.arguments.length === 1)
          check(n, literal(n.arguments[0]));
      },
    };
  },
};

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'release/', 'artifacts/', 'test/fixtures/lint/**', '.native/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    plugins: { local: { rules: { layering } } },
    languageOptions: { globals: { ...globals.node } },
    rules: {
      'local/layering': 'error',
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
  {
    files: ['renderer/**/*.ts', 'preload/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['test/**/*.ts', 'scripts/**/*.{ts,mjs,js,cjs}', '*.config.{ts,js}'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
