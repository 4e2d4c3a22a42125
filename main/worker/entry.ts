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

/**
 * From sources, `CLINIC_WORKER_DIR` may name a directory of prebuilt worker bundles (the test run
 * builds them once, vitest.config.ts): a thread started through tsx registers its hooks and
 * transpiles the worker's imports itself, about 0.5 s of CPU per thread, and every store open and
 * every sign-in's decrypt pool starts threads. The bundle is what ships.
 */
const PREBUILT_ENV = 'CLINIC_WORKER_DIR';

/**
 * The entry `<name>` beside `base` (pass the caller's import.meta.url): .ts from sources (or the
 * prebuilt bundle named by `env`'s CLINIC_WORKER_DIR), .cjs in the bundle.
 */
export function workerEntry(name: string, base: string, env: NodeJS.ProcessEnv = process.env): WorkerEntry {
  const here = base.startsWith('file:') ? fileURLToPath(base) : base;
  if (/\.[cm]?ts$/.test(here)) {
    const prebuilt = env[PREBUILT_ENV];
    if (prebuilt) return { file: join(prebuilt, `${name}.cjs`), tsx: false };
    return { file: join(dirname(here), `${name}.ts`), tsx: true };
  }
  return { file: join(dirname(here), `${name}.cjs`), tsx: false };
}

interface SpawnOptions {
  workerData: unknown;
  resourceLimits?: ResourceLimits;
}

/**
 * Starts the thread. A missing or broken entry surfaces as the Worker's 'error' event, never as a
 * throw here. The thread does not inherit this process's Node options (`execArgv: []`): under tsx
 * or vitest they load tsx's hooks into every thread again (about 0.2 s of CPU each), which a
 * bundled entry does not need and the .ts bootstrap below registers itself.
 */
export function spawnWorker(entry: WorkerEntry, opts: SpawnOptions): Worker {
  if (!entry.tsx) return new Worker(entry.file, { ...opts, execArgv: [] });
  const target = JSON.stringify(pathToFileURL(entry.file).href);
  // A failed import is rethrown outside the promise so it reaches the host as an 'error' event.
  const code = `import(${JSON.stringify(tsxEsmApi())}).then((m) => { m.register(); return import(${target}); }).catch((e) => { setImmediate(() => { throw e; }); });`;
  return new Worker(code, { ...opts, eval: true, execArgv: [] });
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
