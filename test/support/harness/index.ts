/**
 * The browser harness (issue 2 §5): the real main-process services (createAppCore) in this
 * Node process, the renderer build served on 127.0.0.1, and `window.clinic` in the page backed
 * by the same router over a loopback WebSocket guarded by a random per-run token.
 * Used by the e2e tests and by `npm run demo` where no Electron binary is installed.
 * Test/demo tooling only: never packaged.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { createAppCore, type AppCore, type AppCoreOptions } from '../../../main/core';
import { createConsoleLogger } from '../../../main/log';
import { startStaticServer } from './static-server';
import { attachBridge } from './ws-bridge';

export type StartHarnessOptions = Omit<AppCoreOptions, 'appVersion' | 'harness'> & {
  appVersion?: string;
  /** The vite build of the renderer. Default dist/renderer. */
  rendererDir?: string;
  /** 0 (default): a free port. */
  port?: number;
};

export interface Harness {
  /** http://127.0.0.1:PORT/#token=… — the token is in the fragment, never sent to the server in a URL. */
  url: string;
  /** http://127.0.0.1:PORT */
  origin: string;
  /** The per-run token (for tests that talk to the bridge directly). */
  token: string;
  core: AppCore;
  /**
   * The files "Open in another app" handed over, in order (no system app here): the paths of the
   * copies in the profile folder. A test may pass its own `openExternally` instead.
   */
  openedExternally: string[];
  /** The files drag-out handed to the system's drag, in order (no system drag here). */
  draggedOut: string[];
  close(): Promise<void>;
}

let shimBundle: Promise<string> | null = null;

/** Bundles shim.ts (and common/client-api + the contract) once per process. */
export function bundleShim(): Promise<string> {
  shimBundle ??= build({
    entryPoints: [fileURLToPath(new URL('./shim.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    legalComments: 'none',
    logLevel: 'silent',
  }).then((r) => {
    const out = r.outputFiles[0];
    if (!out) throw new Error('esbuild produced no shim bundle');
    return out.text;
  });
  return shimBundle;
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export async function startHarness(options: StartHarnessOptions): Promise<Harness> {
  const { rendererDir = 'dist/renderer', port = 0, appVersion, ...coreOptions } = options;
  const shim = await bundleShim();
  const web = await startStaticServer({ rendererDir, port, shim });
  let core: AppCore;
  const openedExternally: string[] = [];
  const draggedOut: string[] = [];
  try {
    core = createAppCore({
      // A test or demo never reads the machine's managed policy unless asked to.
      policyPath: null,
      logger: createConsoleLogger('warn'),
      // No native save dialog here: "Save as…" writes into <userDataDir>-exports/, beside the profile
      // folder (never in it), where a test reads what was saved. A test may choose otherwise.
      chooseSavePath: (name) => {
        const dir = `${coreOptions.userDataDir}-exports`;
        mkdirSync(dir, { recursive: true });
        return Promise.resolve(join(dir, name));
      },
      openExternally: (path) => {
        openedExternally.push(path);
        return Promise.resolve();
      },
      startDrag: (path) => {
        draggedOut.push(path);
        return Promise.resolve();
      },
      ...coreOptions,
      appVersion: appVersion ?? packageVersion(),
      harness: true,
    });
  } catch (err) {
    await web.close();
    throw err;
  }
  // 32 random bytes: unguessable by anything else on the machine that can reach the port.
  const token = randomBytes(32).toString('base64url');
  const bridge = attachBridge({
    server: web.server,
    origin: web.origin,
    token,
    router: core.router,
    events: core.events,
  });
  let closed: Promise<void> | null = null;
  return {
    url: `${web.origin}/#token=${token}`,
    origin: web.origin,
    token,
    core,
    openedExternally,
    draggedOut,
    close: () =>
      (closed ??= (async () => {
        await bridge.close();
        await web.close();
        await core.dispose();
      })()),
  };
}
