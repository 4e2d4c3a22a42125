#!/usr/bin/env node
// `npm run demo`: checks the system packages as `npm test` does (scripts/system-deps.mjs: as
// root installs the missing ones, otherwise prints the apt command), builds what is missing or
// stale, then runs test/support/harness/demo.ts (a throwaway Prosody with a demo clinic + the
// app in Electron or the browser harness) inside scripts/with-keyring.sh, so the OS keychain is
// real but throwaway. Ctrl+C cleans up.
//
// Environment: CLINIC_DEMO_BROWSER=1 forces the browser harness even where Electron exists;
// CLINIC_DEMO_WORKSTATIONS=N (1–4, default 2) browser workstations; CLINIC_DEMO_NO_BUILD=1 skips
// the build step (the demo test: `npm test` has just built).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { findElectronBinary } from './electron-binary.mjs';
import { ensureSystemDeps } from './system-deps.mjs';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);

/** Newest modification time under the given folders (source files only). */
function newest(dirs) {
  let max = 0;
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else max = Math.max(max, st.mtimeMs);
    }
  };
  for (const d of dirs) if (existsSync(d)) walk(d);
  return max;
}

const stale = (output, sources) => !existsSync(output) || statSync(output).mtimeMs < newest(sources);

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) {
    console.error(`\`${[cmd, ...args].join(' ')}\` failed`);
    process.exit(r.status ?? 1);
  }
}

const electronInstalled = () => !process.env.CLINIC_DEMO_BROWSER && findElectronBinary(root).path !== null;

// Before building: on a fresh machine the first thing to say is what to install (or, as root,
// to install it), not a Prosody error half-way through the start.
if (!ensureSystemDeps('demo')) process.exit(1);

const mayBuild = !process.env.CLINIC_DEMO_NO_BUILD;
if (mayBuild && stale('dist/renderer/index.html', ['renderer', 'common'])) {
  console.log('Building the renderer…');
  run('npx', ['vite', 'build', '--logLevel', 'warn']);
}
if (mayBuild && electronInstalled()) {
  if (existsSync('scripts/build-main.mjs') && stale('dist/main/index.cjs', ['main', 'common', 'preload'])) {
    console.log('Building main and preload…');
    run('node', ['scripts/build-main.mjs']);
  }
  if (existsSync('scripts/rebuild-electron-native.mjs') && !existsSync('.native/electron')) {
    console.log("Building native modules for Electron's ABI…");
    run('node', ['scripts/rebuild-electron-native.mjs']);
  }
}

// `node --import tsx` rather than `npx tsx`: one process, so Ctrl+C reaches the demo itself and
// nothing in between exits before its cleanup has finished.
const demo = [process.execPath, '--import', 'tsx', 'test/support/harness/demo.ts'];
const [cmd, ...args] = process.platform === 'linux' ? ['bash', 'scripts/with-keyring.sh', ...demo] : demo;
const child = spawn(cmd, args, { stdio: 'inherit' });

// Ctrl+C reaches the whole process group; the demo cleans up and exits, and we wait for it.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
