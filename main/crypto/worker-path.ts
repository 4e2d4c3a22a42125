/**
 * Where the decrypt worker lives and how to start it.
 * - Bundled (dist/main/index.cjs): the separately built entry `decrypt-worker.cjs` beside the
 *   bundle. Build entry: main/crypto/decrypt-worker.ts → dist/main/decrypt-worker.cjs
 *   (scripts/build-main.mjs builds every `*-worker.ts` under main/ that way).
 * - From source (tsx, vitest): decrypt-worker.ts next to this file. On Node 20, hooks from
 *   `execArgv: ['--import', 'tsx']` are not applied to a worker's own .ts entry
 *   (ERR_UNKNOWN_FILE_EXTENSION, checked on 20.20), so the worker starts from a two-line
 *   bootstrap that registers tsx's ESM hooks inside the worker, then imports the .ts file.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

export const BUNDLED_WORKER_FILE = 'decrypt-worker.cjs';

export interface WorkerLocation {
  file: string;
  /** true when `file` is TypeScript and needs tsx inside the worker. */
  tsx: boolean;
}

function currentFile(): string {
  // CJS bundle: esbuild leaves __filename; ESM source: import.meta.url.
  if (typeof __filename === 'string' && __filename) return __filename;
  return fileURLToPath(import.meta.url);
}

export function resolveDecryptWorker(): WorkerLocation {
  const here = currentFile();
  if (/\.[cm]?ts$/.test(here)) return { file: join(dirname(here), 'decrypt-worker.ts'), tsx: true };
  return { file: join(dirname(here), BUNDLED_WORKER_FILE), tsx: false };
}

// openpgp allocates many short-lived buffers per message; a larger young generation means
// fewer scavenges (≈7% less CPU per message in a worker, measured with the crypto bench).
const resourceLimits = { maxYoungGenerationSizeMb: 32 };

export function startWorker(where: WorkerLocation, workerData: unknown): Worker {
  if (!where.tsx) return new Worker(where.file, { workerData, resourceLimits });
  const require = createRequire(where.file);
  const pkgFile = require.resolve('tsx/package.json');
  const pkg = require(pkgFile) as { exports: Record<string, { import?: { default?: string } } | string> };
  const entry = pkg.exports['./esm/api'];
  const rel = typeof entry === 'object' ? entry.import?.default : undefined;
  if (!rel) throw new Error('tsx ESM API entry not found');
  const api = pathToFileURL(join(dirname(pkgFile), rel)).href;
  const target = pathToFileURL(where.file).href;
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(target)}); });`;
  return new Worker(code, { eval: true, workerData, resourceLimits });
}
