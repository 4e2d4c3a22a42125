/**
 * Electron entry (bundled to dist/main/index.cjs). The one place that joins the composition
 * root with the Electron shell; everything else is side-effect free on import.
 */
import { createAppCore } from './core';
import { startElectronShell } from './electron';
import { managedPolicyPath } from './policy/load';

startElectronShell({
  bundleDir: __dirname,
  createCore: ({ userDataDir, appVersion, sqliteNativeBinding }) =>
    createAppCore({ userDataDir, appVersion, policyPath: managedPolicyPath(), sqliteNativeBinding }),
});
