/**
 * local/discard-reason (eslint.config.js): a `void <promise>` or a `.catch(() => undefined)` must
 * say why on its line or the line above (issue 11 item 8). Linted without type information, as
 * lint-boundaries does: then every `void` but `void 0` counts as dropping a promise.
 */
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { beforeAll, describe, expect, it } from 'vitest';

let eslint: ESLint;
beforeAll(async () => {
  eslint = new ESLint({
    overrideConfigFile: 'eslint.config.js',
    overrideConfig: tseslint.configs.disableTypeChecked,
    ignore: false,
  });
  await eslint.calculateConfigForFile('main/index.ts');
}, 60_000);

let texts = 0;
async function findings(body: string, filePath = 'main/ipc/example.ts') {
  const text = `export async function work(): Promise<void> {}\nexport function run(): void {\n${body}\n}\n`;
  // A new (virtual) file name per text: with CI=true typescript-eslint assumes a single run and
  // reuses what it parsed for a file name, so a second text under the same name would be linted
  // as the first (seen in .ci/run).
  const [result] = await eslint.lintText(text, { filePath: filePath.replace(/\.ts$/, `-${++texts}.ts`) });
  return result!.messages.filter((m) => m.ruleId === 'local/discard-reason');
}

describe('local/discard-reason', () => {
  it('refuses a bare void of a promise', async () => {
    const found = await findings('  void work();');
    expect(found.map((m) => [m.line, m.severity])).toEqual([[3, 2]]);
    expect(found[0]!.message).toMatch(/say why/);
  });

  it('refuses a catch that swallows the failure, in each spelling', async () => {
    const found = await findings(
      ['  work().catch(() => undefined);', '  work().catch(() => {});', '  work().catch(() => null);'].join('\n'),
    );
    expect(found.map((m) => m.line)).toEqual([3, 4, 5]);
  });

  it('accepts each when a // comment on the line above or the same line gives the reason', async () => {
    const body = [
      '  // shutdown is best effort: the process exits next',
      '  void work();',
      '  work().catch(() => undefined); // the caller already reported this failure',
    ].join('\n');
    expect(await findings(body)).toEqual([]);
  });

  it('does not count a comment two lines up, a one-word comment or a block comment', async () => {
    const body = [
      '  // shutdown is best effort: the process exits next',
      '  const x = 1;',
      '  void work();',
      '  // ok',
      '  void work();',
      '  /* best effort: nothing to report */',
      '  void work();',
      '  void x;',
    ].join('\n');
    expect((await findings(body)).map((m) => m.line)).toEqual([5, 7, 9, 10]);
  });

  it('leaves void 0 and a catch that handles the error alone', async () => {
    const body = ['  void 0;', '  work().catch((err: unknown) => console.error(err));'].join('\n');
    expect(await findings(body)).toEqual([]);
  });

  it('applies to the renderer and the harness too', async () => {
    expect(await findings('  void work();', 'renderer/src/lib/example.ts')).toHaveLength(1);
    expect(await findings('  void work();', 'test/support/harness/example.ts')).toHaveLength(1);
  });
});
