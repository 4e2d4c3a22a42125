/**
 * Starting a worker thread from TypeScript sources or from the bundle. In development and tests
 * the worker is a .ts file run through tsx (`--import tsx`); in the packaged app
 * scripts/build-main.mjs bundles every main/**\/*-worker.ts to dist/main/<name>.cjs beside
 * index.cjs, where `import.meta.url` points at the bundle.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** The worker's file beside `base` (pass import.meta.url): `<name>.ts` if present, else `<name>.cjs`. */
export function siblingWorkerUrl(name: string, base: string): URL {
  const ts = new URL(`./${name}.ts`, base);
  if (ts.protocol === 'file:' && existsSync(fileURLToPath(ts))) return ts;
  return new URL(`./${name}.cjs`, base);
}

export function startWorker(url: URL, opts: WorkerOptions = {}): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, opts);
  // Node 20 does not apply `--import tsx` loader hooks to a worker's entry module, so a tiny
  // CommonJS bootstrap loads the .ts entry through tsx's API instead (development and tests only).
  const api = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href.replace(/index\.mjs$/, 'api/index.mjs');
  const href = JSON.stringify(url.href);
  const boot = `import(${JSON.stringify(api)}).then((m) => m.register()).then(() => import(${href})).catch((e) => { setImmediate(() => { throw e; }); });`;
  return new Worker(boot, { ...opts, eval: true });
}
