/**
 * Worker threads (the store worker, the decrypt pool) from bundles built once, not from their .ts
 * sources: a thread started through tsx spends about 0.5–1 s of CPU registering tsx and transpiling
 * its imports, and every store open and sign-in starts threads (main/worker/entry.ts
 * CLINIC_WORKER_DIR). scripts/build-main.mjs is the build that ships, under node_modules/.cache so
 * the bundles resolve the native modules from this checkout. Sub-second. The test run
 * (vitest.config.ts) and the benchmarks (test/bench/xmpp.bench.ts) use it; edits to a worker's
 * sources need a new run (not a watch-mode rerun) to reach its threads.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** Builds the bundles into node_modules/.cache/<name>; returns the folder to name in CLINIC_WORKER_DIR. */
export function buildWorkerBundles(name: string): string {
  const root = join(import.meta.dirname, '..', '..');
  const out = join(root, 'node_modules', '.cache', name);
  execFileSync(process.execPath, [join(root, 'scripts', 'build-main.mjs'), `--outdir=${out}`], { stdio: 'ignore' });
  return join(out, 'main');
}
