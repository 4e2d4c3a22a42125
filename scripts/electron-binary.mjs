// Finds the installed Electron executable WITHOUT require('electron'): that package's index.js
// tries to download the binary when it is missing. Used by test/e2e/electron-launch.test.ts and
// available to scripts/demo.mjs ("open in Electron where its binary is installed").
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * @param {string} root the repository root
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {{ path: string | null, reason: string }}
 */
export function findElectronBinary(root, env = process.env) {
  const pkg = join(root, 'node_modules', 'electron');
  if (!existsSync(join(pkg, 'package.json'))) return { path: null, reason: 'the electron package is not installed' };
  const pathFile = join(pkg, 'path.txt');
  const override = env.ELECTRON_OVERRIDE_DIST_PATH;
  if (!existsSync(pathFile) && !override) {
    return {
      path: null,
      reason:
        'Electron binary not installed (ELECTRON_SKIP_BINARY_DOWNLOAD): node_modules/electron/path.txt is missing',
    };
  }
  const exe = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : 'electron';
  const full = override ? join(override, exe) : join(pkg, 'dist', exe);
  return existsSync(full) ? { path: full, reason: '' } : { path: null, reason: `Electron binary not found at ${full}` };
}
