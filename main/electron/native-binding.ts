/**
 * Where the Electron-ABI build of better-sqlite3-multiple-ciphers lives. node_modules keeps the
 * Node build (tests run in Node); scripts/rebuild-electron-native.mjs compiles a second copy
 * against Electron's headers into .native/electron/, electron-builder ships it as an extra
 * resource, and the store opens it through better-sqlite3's `nativeBinding` option.
 */
import { join } from 'node:path';

const SQLITE_BINDING_FILE = 'better_sqlite3.node';

export function sqliteNativeBindingPath(opts: {
  isPackaged: boolean;
  resourcesPath: string;
  appPath: string;
  exists: (path: string) => boolean;
}): string | undefined {
  const candidate = opts.isPackaged
    ? join(opts.resourcesPath, 'native', SQLITE_BINDING_FILE)
    : join(opts.appPath, '.native', 'electron', SQLITE_BINDING_FILE);
  return opts.exists(candidate) ? candidate : undefined;
}
