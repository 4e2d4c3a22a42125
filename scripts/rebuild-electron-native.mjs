#!/usr/bin/env node
// Builds better-sqlite3-multiple-ciphers against Electron's headers into .native/electron/,
// leaving node_modules' Node build untouched (the tests run in Node). The Electron shell passes
// the result to the store as better-sqlite3's `nativeBinding` (main/electron/native-binding.ts),
// and electron-builder ships it as resources/native/better_sqlite3.node (electron-builder.yml).
//
//   node scripts/rebuild-electron-native.mjs [--dry-run] [--arch=x64|arm64]
//
// Needs a C++ toolchain (build-essential / Xcode CLT / VS Build Tools), Python 3, and network
// access to https://electronjs.org/headers (node-gyp downloads Electron's headers once into
// .native/electron-gyp). Run it on each target OS/arch before `npm run dist`.
// @napi-rs/keyring and @node-rs/argon2 are N-API modules: ABI-stable, no rebuild needed.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(join(root, 'package.json'));
const args = process.argv.slice(2);
const dryRun = args.includes('--dry-run');
const arch = args.find((a) => a.startsWith('--arch='))?.slice('--arch='.length) ?? process.arch;

// The version electron-builder will package (read from the installed package; never starts it,
// never downloads the Electron binary).
const electronVersion = JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')).version;
const pkgDir = join(root, 'node_modules', 'better-sqlite3-multiple-ciphers');
const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
const outDir = join(root, '.native', 'electron');
const workDir = join(root, '.native', 'build-better-sqlite3');
const devDir = join(root, '.native', 'electron-gyp');

const gypArgs = [
  nodeGyp,
  'rebuild',
  '--release',
  `--target=${electronVersion}`,
  `--arch=${arch}`,
  '--dist-url=https://electronjs.org/headers',
  `--devdir=${devDir}`,
];

console.log(
  `better-sqlite3-multiple-ciphers for Electron ${electronVersion} (${arch}) → ${join('.native', 'electron', 'better_sqlite3.node')}`,
);
if (dryRun) {
  console.log(`would run in ${workDir}: node ${gypArgs.join(' ')}`);
  process.exit(0);
}
if (!existsSync(pkgDir)) {
  console.error('node_modules/better-sqlite3-multiple-ciphers is missing: run npm install first.');
  process.exit(1);
}
// Build a copy so node_modules keeps the Node-ABI binary that the test suite loads.
rmSync(workDir, { recursive: true, force: true });
cpSync(pkgDir, workDir, { recursive: true, filter: (src) => !src.startsWith(join(pkgDir, 'build')) });
const result = spawnSync(process.execPath, gypArgs, {
  cwd: workDir,
  stdio: 'inherit',
  env: { ...process.env, npm_config_runtime: 'electron' },
});
if (result.status !== 0) {
  console.error('node-gyp failed. Check the toolchain and that https://electronjs.org/headers is reachable.');
  process.exit(result.status ?? 1);
}
mkdirSync(outDir, { recursive: true });
copyFileSync(join(workDir, 'build', 'Release', 'better_sqlite3.node'), join(outDir, 'better_sqlite3.node'));
rmSync(workDir, { recursive: true, force: true });
console.log('done');
