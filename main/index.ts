/**
 * Electron entry (bundled to dist/main/index.cjs). The one place that joins the composition
 * root with the Electron shell; everything else is side-effect free on import.
 */
import { createAppCore } from './core';
import { startElectronShell } from './electron';

startElectronShell({
  bundleDir: __dirname,
  // policyPath left out: the per-OS managed location (main/policy/load.ts), checked for protection.
  createCore: (env) => createAppCore(env),
});
