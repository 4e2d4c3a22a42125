/**
 * Where a worker's entry file is and how to start it, from sources or from the bundle.
 * - Bundled (dist/main/index.cjs): scripts/build-main.mjs builds every main/**\/*-worker.ts to
 *   dist/main/<name>.cjs beside index.cjs, and electron-builder ships dist/** as is. In the bundle
 *   `import.meta.url` is the bundle's own URL (the build's define), so the entry is its sibling.
 * - From source (tsx, vitest): `<name>.ts` beside the calling module. On Node 20, hooks from
 *   `execArgv: ['--import', 'tsx']` are not applied to a worker's own .ts entry
 *   (ERR_UNKNOWN_FILE_EXTENSION, checked on 20.20), so the worker starts from a one-line
 *   bootstrap that registers tsx's ESM hooks inside the worker, then imports the .ts file.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';

export interface WorkerEntry {
  file: string;
  /** true when `file` is TypeScript and needs tsx inside the worker. */
  tsx: boolean;
}

/** The entry `<name>` beside `base` (pass the caller's import.meta.url): .ts from sources, .cjs in the bundle. */
export function workerEntry(name: string, base: string): WorkerEntry {
  const here = base.startsWith('file:') ? fileURLToPath(base) : base;
  if (/\.[cm]?ts$/.test(here)) return { file: join(dirname(here), `${name}.ts`), tsx: true };
  return { file: join(dirname(here), `${name}.cjs`), tsx: false };
}

interface SpawnOptions {
  workerData: unknown;
  resourceLimits?: ResourceLimits;
}

/** Starts the thread. A missing or broken entry surfaces as the Worker's 'error' event, never as a throw here. */
export function spawnWorker(entry: WorkerEntry, opts: SpawnOptions): Worker {
  if (!entry.tsx) return new Worker(entry.file, opts);
  const target = JSON.stringify(pathToFileURL(entry.file).href);
  // A failed import is rethrown outside the promise so it reaches the host as an 'error' event.
  const code = `import(${JSON.stringify(tsxEsmApi())}).then((m) => { m.register(); return import(${target}); }).catch((e) => { setImmediate(() => { throw e; }); });`;
  return new Worker(code, { ...opts, eval: true });
}

/** tsx's ESM API module (development and tests only: the bundle never takes this path). */
function tsxEsmApi(): string {
  const require = createRequire(import.meta.url);
  const pkgFile = require.resolve('tsx/package.json');
  const pkg = require(pkgFile) as { exports: Record<string, { import?: { default?: string } } | string> };
  const entry = pkg.exports['./esm/api'];
  const rel = typeof entry === 'object' ? entry.import?.default : undefined;
  if (!rel) throw new Error('tsx ESM API entry not found');
  return pathToFileURL(join(dirname(pkgFile), rel)).href;
}
