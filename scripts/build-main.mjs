#!/usr/bin/env node
// Bundles the Electron main process and the preload with esbuild (ARCHITECTURE.md §2).
//   main/index.ts            → dist/main/index.cjs      (Node/Electron main, CommonJS)
//   main/**/*-worker.ts      → dist/main/<name>.cjs     (worker_threads entries, beside index.cjs)
//   preload/index.ts         → dist/preload/index.cjs   (sandboxed preload: one file, requires only 'electron')
// Native modules stay external: they are loaded from node_modules (N-API) or, for SQLCipher,
// from the Electron-ABI build in .native/electron/ (scripts/rebuild-electron-native.mjs).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
// --outdir=DIR builds into DIR/main and DIR/preload instead of dist/ (used by the build test).
const outArg = process.argv.find((a) => a.startsWith('--outdir='))?.slice('--outdir='.length);
const outRoot = outArg ? resolve(outArg) : join(root, 'dist');
const outMain = join(outRoot, 'main');
const outPreload = join(outRoot, 'preload');

// sharp (image previews, issue 16) loads libvips through @img/sharp-<platform> at run time: never bundled.
const NATIVE_EXTERNALS = ['better-sqlite3-multiple-ciphers', '@napi-rs/keyring', '@node-rs/argon2', 'sharp'];
const ELECTRON_NODE_TARGET = 'node22'; // Electron 45 ships Node 22.

function findWorkers(dir) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) found.push(...findWorkers(p));
    else if (/-worker\.ts$/.test(name)) found.push(p);
  }
  return found;
}

// ESM dependencies may read import.meta.url; in a CommonJS bundle give them this file's URL.
const importMetaShim = {
  banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__importMetaUrl' },
};

const common = {
  bundle: true,
  format: 'cjs',
  logLevel: 'warning',
  legalComments: 'none',
  sourcemap: false,
  absWorkingDir: root,
};

async function main() {
  const workers = findWorkers(join(root, 'main'));
  await build({
    ...common,
    ...importMetaShim,
    entryPoints: [
      { in: join(root, 'main', 'index.ts'), out: 'index' },
      ...workers.map((w) => ({ in: w, out: basename(w, '.ts') })),
    ],
    outdir: outMain,
    outExtension: { '.js': '.cjs' },
    platform: 'node',
    target: ELECTRON_NODE_TARGET,
    external: ['electron', ...NATIVE_EXTERNALS],
  });
  await build({
    ...common,
    entryPoints: [join(root, 'preload', 'index.ts')],
    outfile: join(outPreload, 'index.cjs'),
    // A sandboxed preload gets a browser-like environment plus require('electron') only.
    platform: 'browser',
    target: 'chrome140',
    // Parsed on every page load; most of its size is zod (the contract's schemas) — see report.
    minify: true,
    external: ['electron'],
  });
  const preload = readFileSync(join(outPreload, 'index.cjs'), 'utf8');
  const required = [...preload.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]);
  const stray = required.filter((r) => r !== 'electron');
  if (stray.length > 0) throw new Error(`sandboxed preload may require only 'electron', found: ${stray.join(', ')}`);
  const rel = (p) => relative(root, p);
  console.log(
    `built ${rel(join(outMain, 'index.cjs'))}${workers.length ? ` + ${workers.length} worker(s)` : ''}, ${rel(join(outPreload, 'index.cjs'))}`,
  );
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
