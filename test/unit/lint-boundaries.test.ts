/**
 * The import table of ARCHITECTURE.md §2, enforced by `local/layering` in eslint.config.js.
 * Each fixture under test/fixtures/lint/{deny,allow}/ names the path it pretends to live at
 * (`virtual-path:` on its first line); ESLint lints its text as if it were there.
 * deny/: must fail with local/layering.  allow/: must lint clean.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const FIXTURES = 'test/fixtures/lint';

function fixtures(kind: 'deny' | 'allow') {
  return readdirSync(join(FIXTURES, kind)).map((name) => {
    const text = readFileSync(join(FIXTURES, kind, name), 'utf8');
    const virtualPath = /virtual-path:\s*(\S+)/.exec(text.split('\n')[0] ?? '')?.[1];
    if (!virtualPath) throw new Error(`${name}: first line must name a virtual-path`);
    return { name, text, virtualPath };
  });
}

let eslint: ESLint;
beforeAll(async () => {
  // The layering rule reads import strings only; the type-aware rules would need every fixture's
  // virtual path to be in a tsconfig project, and would make the whole-tree lint below slow.
  eslint = new ESLint({
    overrideConfigFile: 'eslint.config.js',
    overrideConfig: tseslint.configs.disableTypeChecked,
    ignore: false,
  });
  // Loading the config and its plugins is the slow part: done once here, not in the first test.
  await eslint.calculateConfigForFile('common/index.ts');
}, 60_000);

async function lint(text: string, filePath: string) {
  const [result] = await eslint.lintText(text, { filePath });
  return result!.messages;
}

describe('forbidden imports fail lint', () => {
  const deny = fixtures('deny');
  it('covers every forbidden direction the architecture names', () => {
    const names = deny.map((f) => f.name).join(' ');
    for (const pattern of [
      'renderer-imports-main',
      'renderer-imports-electron',
      'common-imports-fs',
      'common-imports-node-path',
      'common-imports-npm-package',
      'main-service-imports-electron',
      'preload-imports-main',
      'harness-imports-renderer',
      'harness-imports-electron',
      'harness-imports-main-electron',
      'harness-shim-imports-node',
      'test-integration-imports-unit',
      'test-unit-imports-integration',
      'test-bench-imports-e2e',
      'test-support-imports-unit',
      'admin-imports-main-session',
      'admin-imports-main-xmpp-messaging',
      'admin-imports-electron',
      'gateway-imports-main',
      'gateway-imports-main-crypto',
      'gateway-imports-renderer',
      'gateway-imports-electron',
    ]) {
      expect(names).toContain(pattern);
    }
  });
  for (const f of deny) {
    it(`${f.name} (as ${f.virtualPath})`, async () => {
      const messages = await lint(f.text, f.virtualPath);
      const layering = messages.filter((m) => m.ruleId === 'local/layering');
      expect(layering.length, JSON.stringify(messages)).toBeGreaterThan(0);
      expect(layering[0]!.severity).toBe(2);
      expect(layering[0]!.message).toMatch(/may not import/);
    });
  }
});

describe('allowed imports pass lint', () => {
  for (const f of fixtures('allow')) {
    it(`${f.name} (as ${f.virtualPath})`, async () => {
      const messages = await lint(f.text, f.virtualPath);
      expect(messages, JSON.stringify(messages)).toEqual([]);
    });
  }
});

describe('the real tree', () => {
  it('main/electron is the only main code that imports electron, and preload the only other; test folders share only test/support', async () => {
    const results = await eslint.lintFiles(['common', 'main', 'preload', 'renderer/src', 'admin', 'gateway', 'test']);
    const layering = results.flatMap((r) =>
      r.messages.filter((m) => m.ruleId === 'local/layering').map((m) => `${r.filePath}:${m.line} ${m.message}`),
    );
    expect(layering).toEqual([]);
  }, 240_000);
});
