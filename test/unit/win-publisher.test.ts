/**
 * A signed Windows build never ships without publisherName (issue 14 item 5): electron-builder's
 * own signing manager derives it from the certificate's CN (checked here with a real openssl-made
 * .pfx), and scripts/win-publisher.cjs, run from the beforePack hook, fails a signed build where
 * none resolves (a custom sign hook without a certificate).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const require = createRequire(import.meta.url);
const { checkWindowsPublisher } = require('../../scripts/win-publisher.cjs') as {
  checkWindowsPublisher(context: unknown, env?: NodeJS.ProcessEnv): Promise<string[] | null>;
};
const { WindowsSignToolManager } = require('app-builder-lib/out/codeSign/windowsSignToolManager') as {
  WindowsSignToolManager: new (packager: unknown) => unknown;
};

let dir: string;
let pfx: string;
const PASSWORD = 'build-test-only';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'win-publisher-'));
  pfx = join(dir, 'codesign.pfx');
  const o = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  o(
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-keyout', 'k.pem', '-out', 'c.pem'].concat([
      '-subj',
      '/CN=Example Clinic Group Ltd/O=Example Clinic Group Ltd',
      '-addext',
      'extendedKeyUsage=codeSigning',
    ]),
  );
  o(['pkcs12', '-export', '-inkey', 'k.pem', '-in', 'c.pem', '-out', pfx, '-passout', `pass:${PASSWORD}`]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A beforePack context whose signing manager is electron-builder's real one. */
function context(win: Record<string, unknown>, platform = 'win32') {
  const packager = {
    platformSpecificBuildOptions: win,
    forceCodeSigning: false,
    getCscPassword: () => PASSWORD,
    getCscLink: () => null,
    projectDir: process.cwd(),
    info: {},
  };
  const manager = new WindowsSignToolManager(packager);
  return {
    electronPlatformName: platform,
    packager: { ...packager, signingManager: { value: Promise.resolve(manager) } },
  };
}

describe('publisherName of a signed Windows build', () => {
  it("comes from the signing certificate's CN when electron-builder.yml leaves it unset", async () => {
    const config = parse(readFileSync('electron-builder.yml', 'utf8')) as { win: Record<string, unknown> };
    expect(config.win.verifyUpdateCodeSignature).toBe(true);
    expect((config.win.signtoolOptions as { publisherName?: unknown } | undefined)?.publisherName).toBeUndefined();
    expect(readFileSync('scripts/before-pack.cjs', 'utf8')).toMatch(/await checkWindowsPublisher\(context\)/);
    const names = await checkWindowsPublisher(context({ signtoolOptions: { certificateFile: pfx } }), {});
    expect(names).toEqual(['Example Clinic Group Ltd']);
  });

  it('fails a signed build that resolves none, naming CSC_PUBLISHER_NAME', async () => {
    const hookOnly = context({ signtoolOptions: { sign: 'scripts/hsm-sign.cjs' } });
    await expect(checkWindowsPublisher(hookOnly, {})).rejects.toThrow(/no publisherName.*CSC_PUBLISHER_NAME/);
    const given = context({
      signtoolOptions: { sign: 'scripts/hsm-sign.cjs', publisherName: 'Example Clinic Group Ltd' },
    });
    expect(await checkWindowsPublisher(given, { CSC_PUBLISHER_NAME: 'Example Clinic Group Ltd' })).toEqual([
      'Example Clinic Group Ltd',
    ]);
  });

  it('leaves unsigned and non-Windows builds alone', async () => {
    expect(await checkWindowsPublisher(context({}), {})).toBeNull();
    expect(await checkWindowsPublisher(context({ signtoolOptions: { sign: 'x' } }, 'linux'), {})).toBeNull();
  });
});
