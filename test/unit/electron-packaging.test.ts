/**
 * Packaging invariants in electron-builder.yml: Electron fuses (issue 2 §2), asar, what goes
 * into the package, per-machine installers, hardened runtime, no committed secrets; and the
 * file validates against electron-builder's own schema.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { defaultPolicy, policySchema } from '../../main/policy/schema';

const text = readFileSync('electron-builder.yml', 'utf8');
const config = parse(text) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed YAML, checked field by field below

describe('electron-builder.yml', () => {
  it('flips the security fuses', () => {
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableCookieEncryption: true,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it('packs the app into asar and ships only the built bundles', () => {
    expect(config.asar).toBe(true);
    const files = config.files as string[];
    expect(files).toContain('dist/**/*');
    expect(files.filter((f) => !f.startsWith('!')).every((f) => f.startsWith('dist/'))).toBe(true);
    expect(files).toContain('!**/test/**');
    for (const f of files.filter((x) => !x.startsWith('!')))
      expect(f).not.toMatch(/test|harness|support|scripts|\.native/);
  });

  it('unpacks sharp and its libvips packages from asar (native code for image previews)', () => {
    expect(config.asarUnpack).toEqual(expect.arrayContaining(['node_modules/sharp/**/*', 'node_modules/@img/**/*']));
  });

  it('ships the policy template, icons and the Electron-ABI SQLCipher binding as resources', () => {
    const extra = config.extraResources as { from: string; to: string }[];
    expect(extra).toContainEqual({ from: 'resources/policy.default.json', to: 'policy.default.json' });
    expect(extra).toContainEqual({ from: '.native/electron/better_sqlite3.node', to: 'native/better_sqlite3.node' });
    expect(extra).toContainEqual({ from: 'resources/icons', to: 'icons' });
    expect(existsSync('resources/icons/tray.png')).toBe(true);
    expect(config.npmRebuild).toBe(false);
    expect(existsSync(config.beforePack as string)).toBe(true);
  });

  // The app never reads this file (the defaults are the schema's, built into the signed code);
  // it is IT's template for the managed policy, so it must list every key with the built-in
  // value and be a policy the loader accepts as is.
  it('ships a policy template that is exactly the built-in defaults', () => {
    const template: unknown = JSON.parse(readFileSync('resources/policy.default.json', 'utf8'));
    expect(template).toStrictEqual(defaultPolicy);
    expect(policySchema.parse(template)).toStrictEqual(defaultPolicy);
  });

  it('builds per-machine NSIS and MSI installers for IT', () => {
    const targets = (config.win.target as { target: string }[]).map((t) => t.target);
    expect(targets).toEqual(expect.arrayContaining(['nsis', 'msi']));
    expect(config.nsis).toMatchObject({ perMachine: true, oneClick: false });
    expect(config.msi).toMatchObject({ perMachine: true });
    expect(config.win.verifyUpdateCodeSignature).toBe(true);
  });

  it('signs macOS builds with the hardened runtime and minimal entitlements', () => {
    expect(config.mac.hardenedRuntime).toBe(true);
    expect(config.mac.target).toContain('dmg');
    const plist = readFileSync(config.mac.entitlements as string, 'utf8');
    const keys = [...plist.matchAll(/<key>([^<]+)<\/key>/g)].map((m) => m[1]);
    expect(keys).toContain('com.apple.security.cs.allow-jit');
    for (const risky of [
      'disable-library-validation',
      'allow-dyld-environment-variables',
      'allow-unsigned-executable-memory',
      'get-task-allow',
    ]) {
      expect(
        keys.some((k) => k!.endsWith(risky)),
        risky,
      ).toBe(false);
    }
  });

  it('builds deb and AppImage for Linux', () => {
    expect(config.linux.target).toEqual(expect.arrayContaining(['deb', 'AppImage']));
  });

  it('takes signing material from the environment only', () => {
    for (const key of ['cscLink', 'cscKeyPassword', 'certificateFile', 'certificatePassword', 'certificateSha1']) {
      expect(text).not.toMatch(new RegExp(`^\\s*${key}\\s*:`, 'm'));
    }
    const values: string[] = [];
    const walk = (v: unknown): void => {
      if (typeof v === 'string') values.push(v);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(config);
    for (const v of values) expect(v).not.toMatch(/-----BEGIN|\.pfx$|\.p12$|^MII/);
  });

  it('uses the appId the shell registers for Windows notifications', async () => {
    const { APP_USER_MODEL_ID } = await import('../../main/electron/hardening');
    expect(APP_USER_MODEL_ID).toBe(config.appId);
  });

  it('publishes to a generic (self-hosted) feed', () => {
    expect(config.publish).toMatchObject({ provider: 'generic' });
    expect(config.publish.url).toMatch(/^https:\/\//);
  });

  it('passes electron-builder’s schema validation', async () => {
    const require = createRequire(import.meta.url);
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
      validateConfiguration(c: unknown, logger: unknown): Promise<void>;
    };
    const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
    await expect(validateConfiguration(structuredClone(config), new DebugLogger(false))).resolves.toBeUndefined();
    await expect(
      validateConfiguration({ ...structuredClone(config), electronFuses: { runAsNode: 'no' } }, new DebugLogger(false)),
    ).rejects.toThrow();
    // Loading electron-builder and compiling its JSON schema takes 2–6 s on a loaded 2-core runner:
    // past the unit default of 5 s, so this test gets room (a limit for hangs, not a speed check).
  }, 30_000);
});
