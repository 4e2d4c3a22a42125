/**
 * scripts/build-main.mjs: the main bundle leaves only Electron, Node built-ins and the native
 * modules to runtime `require`; the sandboxed preload is one file that requires only 'electron';
 * worker bundles never touch Electron.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const NATIVE = ['better-sqlite3-multiple-ciphers', '@napi-rs/keyring', '@node-rs/argon2', 'sharp'];
const requires = (code: string) => [
  ...new Set([...code.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]!)),
];

let out: string;
let build: ReturnType<typeof spawnSync>;
beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'build-main-'));
  build = spawnSync(process.execPath, ['scripts/build-main.mjs', `--outdir=${out}`], { encoding: 'utf8' });
}, 120_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('build-main', () => {
  it('builds', () => {
    expect(build.stderr, String(build.stderr)).toBe('');
    expect(build.status).toBe(0);
  });

  it('bundles the sandboxed preload into one file that requires only electron', () => {
    expect(readdirSync(join(out, 'preload'))).toEqual(['index.cjs']);
    expect(requires(readFileSync(join(out, 'preload', 'index.cjs'), 'utf8'))).toEqual(['electron']);
  });

  it('leaves only electron, Node built-ins and native modules external in main', () => {
    const code = readFileSync(join(out, 'main', 'index.cjs'), 'utf8');
    const external = requires(code).filter((r) => !r.startsWith('node:') && !builtinModules.includes(r));
    for (const r of external) expect(['electron', ...NATIVE], r).toContain(r);
    expect(external).toContain('electron');
    // Image previews (main/attachments/image-preview.ts): sharp's native libvips is loaded, not bundled.
    expect(external).toContain('sharp');
    expect(code).not.toMatch(/playwright|test\/support|vitest/);
  });

  it('builds worker entries beside index.cjs, without Electron', () => {
    for (const file of readdirSync(join(out, 'main')).filter((f) => f.endsWith('-worker.cjs'))) {
      expect(requires(readFileSync(join(out, 'main', file), 'utf8')), file).not.toContain('electron');
    }
  });
});
