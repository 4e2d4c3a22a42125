/**
 * Finds the installed Electron binary WITHOUT triggering a download: `require('electron')`
 * downloads a missing binary, which CI and clinic build machines must never do
 * (ELECTRON_SKIP_BINARY_DOWNLOAD=1). Returns null when it is not installed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export function findElectronBinary(root = process.cwd()): string | null {
  const pkgDir = resolve(root, 'node_modules', 'electron');
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  let rel: string;
  try {
    rel = readFileSync(join(pkgDir, 'path.txt'), 'utf8').trim();
  } catch {
    return null;
  }
  const bin = override ? join(override, rel) : join(pkgDir, 'dist', rel);
  return rel && existsSync(bin) ? bin : null;
}
