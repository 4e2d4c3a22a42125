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

/** Test folders: each imports its own files and test/support/, never another's (issue 11 item 8). */
const TEST_FOLDERS = ['test-unit', 'test-integration', 'test-e2e', 'test-bench'];
const testFolder = (self) => ({
  layers: { except: TEST_FOLDERS.filter((f) => f !== self) },
  npm: true,
  node: true,
  electron: true,
});

/**
 * Layer → what it may import. layers: folders it may reach with relative imports (a list, or
 * { except: [...] } for "all but these"); paths: folders inside a layer it may not reach that it
 * may still import ('main/crypto/'); npm: true (any), false (none) or an allow-list; node: Node
 * built-ins; electron: the electron module.
 */
const LAYERS = {
  common: { layers: ['common'], npm: ['zod'], node: false, electron: false },
  main: { layers: ['common', 'main'], npm: true, node: true, electron: false },
  'main-entry': { layers: ['common', 'main', 'main-electron'], npm: true, node: true, electron: false },
  'main-electron': { layers: ['common', 'main', 'main-electron'], npm: true, node: true, electron: true },
  preload: { layers: ['common', 'preload'], npm: false, node: false, electron: true },
  renderer: { layers: ['common', 'renderer'], npm: 'browser', node: false, electron: false },
  // The browser harness is the app's second transport (`npm run demo`, the e2e tests): like
  // main/electron/ it wraps main/'s router, but in plain Node over a loopback WebSocket, so it
  // never needs electron, main/electron/ or the renderer's source (it serves the built files).
  harness: { layers: ['common', 'main', 'harness'], npm: ['ws', 'esbuild'], node: true, electron: false },
  // shim.ts is bundled into the page: browser code, like preload/ but without electron.
  'harness-shim': { layers: ['common'], npm: false, node: false, electron: false },
  // demo.ts is the launcher around the harness: it also starts Prosody (test/support/prosody.ts)
  // and finds the Electron binary to spawn (scripts/electron-binary.mjs), without importing electron.
  'harness-demo': {
    layers: ['common', 'main', 'harness', 'test-support', 'scripts'],
    npm: false,
    node: true,
    electron: false,
  },
  // clinic-admin (issue 15): the administrator's CLI shares the app's OpenPGP code, and for
  // `wipe --send` the hardened XMPP transport and the admin-command stanza; nothing else of main/
  // (paths: folders or files reachable beyond whole layers; import targets have no extension).
  admin: {
    layers: ['common', 'admin'],
    paths: [
      'main/crypto/',
      'main/xmpp/transport/',
      'main/xmpp/admin-commands',
      // `report` (issue 15 item 4): the anchored batches in the compliance archive, and the accounts' published keys.
      'main/xmpp/audit-anchor-stanza',
      'main/xmpp/pep-keys',
      // `rooms` (issue 18 §1): the safe room configuration and the stanzas that make and manage a room.
      'main/xmpp/room-setup',
      // … and what a room's disco#info says of it (an announcement room, `rooms create --announcement`).
      'main/xmpp/room-config',
      // … and service discovery, to find the room service and list its rooms.
      'main/xmpp/disco',
    ],
    npm: true,
    node: true,
    electron: false,
  },
  // The patient gateway (issue 17): a separate Node service beside the XMPP server; it shares only
  // common/'s pure modules with the app, never main/ or the renderer.
  gateway: { layers: ['common', 'gateway'], npm: true, node: true, electron: false },
  'test-support': { layers: { except: TEST_FOLDERS }, npm: true, node: true, electron: true },
  'test-unit': testFolder('test-unit'),
  'test-integration': testFolder('test-integration'),
  'test-e2e': testFolder('test-e2e'),
  'test-bench': testFolder('test-bench'),
};

/** @param {string} rel path relative to the repo root, '/'-separated (a file, or an import target without extension) */
function layerOf(rel) {
  if (rel === 'main/index.ts') return 'main-entry';
  if (rel.startsWith('main/electron/')) return 'main-electron';
  if (rel.startsWith('admin/')) return 'admin';
  if (rel.startsWith('gateway/')) return 'gateway';
  for (const name of ['common', 'main', 'preload', 'renderer']) if (rel.startsWith(`${name}/`)) return name;
  const bare = rel.replace(/\.[cm]?[jt]s$/, '');
  if (bare === 'test/support/harness/shim') return 'harness-shim';
  if (bare === 'test/support/harness/demo') return 'harness-demo';
  if (bare === 'test/support/harness' || rel.startsWith('test/support/harness/')) return 'harness';
  if (rel.startsWith('test/support/')) return 'test-support';
  for (const name of ['unit', 'integration', 'e2e', 'bench'])
    if (rel.startsWith(`test/${name}/`)) return `test-${name}`;
  if (rel.startsWith('scripts/')) return 'scripts';
  if (rel.startsWith('..')) return 'outside';
  return 'other';
}

const LAYER_NAMES = {
  'main-entry': 'main/index.ts',
  'main-electron': 'main/electron/',
  harness: 'test/support/harness/',
  'harness-shim': 'test/support/harness/shim.ts (page code)',
  'harness-demo': 'test/support/harness/demo.ts',
  'test-support': 'test/support/',
};
const nameOf = (layer) => LAYER_NAMES[layer] ?? `${layer.replace(/^test-/, 'test/')}/`;
const mayReach = (rules, layer) =>
  Array.isArray(rules.layers) ? rules.layers.includes(layer) : !rules.layers.except.includes(layer);
const mayReachPath = (rules, target) => (rules.paths ?? []).some((p) => target.startsWith(p));

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
        if (!mayReach(rules, targetLayer) && !mayReachPath(rules, target))
          what = `${targetLayer === 'other' || targetLayer === 'outside' ? target : nameOf(targetLayer)} (${spec})`;
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
          data: { from: nameOf(layer), what },
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

/**
 * `void p` and `p.catch(() => undefined)` throw a promise's outcome away. Sometimes that is right
 * (a best-effort close during shutdown, a result another path reports), but the reader must be
 * told why: each needs a `//` comment on its line or the line above (for a `.catch`, also above
 * its chain or statement). Counted: `void x` where x
 * is a promise (with type information; without it, any `void` but `void 0`), and any `.catch`
 * whose handler takes no argument and does nothing (`() => undefined`, `() => {}`, `() => null`).
 * `void state.field` in a Svelte $effect (reading a value to track it) is not a promise: allowed.
 */
/** @type {import('eslint').Rule.RuleModule} */
const discardReason = {
  meta: {
    type: 'suggestion',
    schema: [],
    messages: {
      void: "`void` drops this promise's outcome: say why in a // comment on this line or the line above.",
      swallow: '`.catch(() => undefined)` hides this failure: say why in a // comment on this line or the line above.',
    },
  },
  create(context) {
    const explainedLines = new Set();
    for (const c of context.sourceCode.getAllComments())
      if (c.type === 'Line' && c.value.trim().length >= 8) explainedLines.add(c.loc.start.line);
    const explained = (line) => explainedLines.has(line) || explainedLines.has(line - 1);
    const services = context.sourceCode.parserServices;
    const checker = services?.program ? services.program.getTypeChecker() : null;
    const thenable = (type) => (type.isUnion() ? type.types.some(thenable) : type.getProperty('then') !== undefined);
    const isPromise = (node) =>
      !checker || thenable(checker.getTypeAtLocation(services.esTreeNodeToTSNodeMap.get(node)));
    const ignoresError = (fn) =>
      (fn.type === 'ArrowFunctionExpression' || fn.type === 'FunctionExpression') &&
      fn.params.length === 0 &&
      ((fn.body.type === 'BlockStatement' && fn.body.body.length === 0) ||
        (fn.body.type === 'Identifier' && fn.body.name === 'undefined') ||
        (fn.body.type === 'Literal' && fn.body.value === null) ||
        (fn.body.type === 'UnaryExpression' && fn.body.operator === 'void' && fn.body.argument.type === 'Literal'));
    return {
      UnaryExpression(node) {
        if (node.operator !== 'void' || node.argument.type === 'Literal' || !isPromise(node.argument)) return;
        if (!explained(node.loc.start.line)) context.report({ node, messageId: 'void' });
      },
      CallExpression(node) {
        const callee = node.callee;
        if (callee.type !== 'MemberExpression' || callee.computed || callee.property.name !== 'catch') return;
        if (node.arguments.length !== 1 || !ignoresError(node.arguments[0])) return;
        // The comment may also sit above the statement (or chain) a formatter spread over lines.
        let stmt = node;
        while (stmt.parent && !/(Statement|Declaration)$/.test(stmt.type)) stmt = stmt.parent;
        const lines = [callee.property.loc.start.line, node.loc.start.line, stmt.loc.start.line];
        if (!lines.some(explained)) context.report({ node, messageId: 'swallow' });
      },
    };
  },
};

/** typescript-eslint's recommended type-aware rules (the `recommendedTypeCheckedOnly` preset's rule set). */
const typeCheckedRules = tseslint.configs.recommendedTypeCheckedOnly.at(-1).rules;

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'release/', 'artifacts/', 'test/fixtures/lint/**', '.native/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    plugins: { local: { rules: { layering, 'discard-reason': discardReason } } },
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
  // Type-aware rules (issue 11 item 8): what review kept catching by hand — a promise nobody
  // awaits or catches, an async function handed to a callback whose result is ignored. Types come
  // from the project each file belongs to (tsconfig.json lists tsconfig.node.json,
  // tsconfig.web.json and tsconfig.e2e.json). JS files (scripts/*.mjs, configs) are in no
  // project: syntax rules only.
  {
    files: ['**/*.ts', '**/*.svelte'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // The rules only: the preset's parser entry would replace the Svelte parser in .svelte files.
      ...typeCheckedRules,
      // `void p` stays the one way to say "not awaited, on purpose" (ignoreVoid, the default):
      // turning it off would only trade each `void p` for a `.catch(() => undefined)`, which hides
      // more. Instead local/discard-reason makes every `void <promise>` and empty catch say why.
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }],
      '@typescript-eslint/no-misused-promises': 'error',
      // Passing on a caught error of unknown type is fine (only-throw-error allows the same for
      // `throw`); what this rule is for is rejecting with a string or a plain object.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      'local/discard-reason': 'error',
    },
  },
  {
    // Issue 11: the next feature lands in a small function, not in an overgrown closure. A factory
    // such as createMessaging counts whole, everything inside it included, as
    // scripts/function-sizes.mjs measures it; split along responsibilities when this trips.
    files: ['main/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 119, skipBlankLines: false, skipComments: false }] },
  },
  {
    // Tests keep the promise rules but not the ones that fight test idioms: a mock is an
    // `async () => value` without await, expect(obj.method) passes a method unbound, and a test
    // reads parsed JSON and hostile payloads as `any` on purpose.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // In a .svelte file the lint's TypeScript program sees an imported component (and a
    // bind:this instance) as `any`; svelte-check, which does type them, already runs in
    // `npm run typecheck`. The no-unsafe-* rules would flag every such use.
    files: ['**/*.svelte'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
