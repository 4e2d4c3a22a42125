/**
 * Worker threads from the bundles that ship, not from their .ts sources: the bench runs our code
 * through tsx, and a thread started from sources registers tsx and transpiles its imports itself
 * (about 0.5–1 s of CPU per thread, main/worker/entry.ts). A benchmark that starts threads while it
 * measures (the decrypt pool at each sign-in, the store worker when a store opens) would count that. As
 * the test run does (vitest.config.ts), the bundles are built once into node_modules/.cache, where
 * they resolve the native modules from this checkout, and CLINIC_WORKER_DIR names them.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export function useBuiltWorkers(): void {
  if (process.env.CLINIC_WORKER_DIR) return;
  const root = join(import.meta.dirname, '..', '..');
  const out = join(root, 'node_modules', '.cache', 'clinic-bench-build');
  execFileSync(process.execPath, [join(root, 'scripts', 'build-main.mjs'), `--outdir=${out}`], { stdio: 'ignore' });
  process.env.CLINIC_WORKER_DIR = join(out, 'main');
}
