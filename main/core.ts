/**
 * The composition root (STYLE.md: Bitwarden's Main). main/index.ts (Electron) and the test
 * harness both call createAppCore; nothing here has side effects at import time.
 */
import type { EventBus } from './events';
import { createEventBus } from './events';
import { createHandlers } from './ipc/handlers';
import type { AppInfo } from './ipc/handlers/context';
import { createRouter, type Router } from './ipc/router';
import { createConsoleLogger, type Logger } from './log';
import { systemClock, type Clock } from './clock';
import { loadManagedPolicy, loadPolicy, managedPolicyLocations, type PolicySourceOptions } from './policy/load';
import { createLivePolicy, type LivePolicy } from './policy/live';
import { pollIntervalMs, watchPolicy } from './policy/watch';
import type { PolicyInput } from './policy/schema';
import { createSession } from './session/session';
import type { Session } from './session/types';
import { onWindowClosed, type WindowClosedOutcome } from './session/window-close';
import { createOsKeychain, type Keychain } from './vault/keychain';
import { createUpdateStatus, type UpdateStatusHolder } from './update/status';

export interface AppCoreOptions {
  /** Per-OS user data folder (Electron's app.getPath('userData')) or a temp dir in tests. */
  userDataDir: string;
  appVersion: string;
  platform?: string;
  /** True when served by the test/demo harness instead of Electron. */
  harness?: boolean;
  logger?: Logger;
  clock?: Clock;
  /** Managed policy file; defaults to the per-OS path (and HKLM on Windows). null: built-in defaults only. */
  policyPath?: string | null;
  /** Policy given directly (tests, demo). Takes precedence over policyPath. */
  policy?: PolicyInput;
  /** How the managed policy's protection is checked (tests inject owners, platform, reg/icacls outputs). */
  policySource?: PolicySourceOptions;
  /**
   * Electron only: path of better-sqlite3-multiple-ciphers built for Electron's ABI
   * (.native/electron/better_sqlite3.node); pass to openStore → better-sqlite3 `nativeBinding`.
   * Undefined in Node (tests, harness): the node_modules build is used.
   */
  sqliteNativeBinding?: string;
  /** The OS keychain (default); tests pass one under their own service name. */
  keychain?: Keychain;
  /** Extra CA to trust for the XMPP server; defaults to the policy's trustedCaPem. */
  tls?: { ca?: string };
  /** Where "Save as…" writes (HandlerContext.chooseSavePath): Electron's save dialog, or a test's folder. */
  chooseSavePath?: (suggestedName: string) => Promise<string | null>;
  /** "Open in another app" (HandlerContext.openExternally): Electron's shell.openPath, or a test's recorder. */
  openExternally?: (path: string) => Promise<void>;
  /** Drag-out (HandlerContext.startDrag): Electron's webContents.startDrag, or a test's recorder. */
  startDrag?: (path: string) => Promise<void>;
}

export interface AppCore {
  router: Router;
  events: EventBus;
  session: Session;
  /**
   * The managed policy in force; it follows changes to its sources while the app runs (issue 14
   * item 3: main/policy/live.ts). `policy.reload()` re-reads them at once.
   */
  policy: LivePolicy;
  /** The last update decision, shown in Settings (main/electron/updater.ts sets it). */
  updates: UpdateStatusHolder;
  /** The window was closed, the app keeps running: locks when the policy says so (session/window-close.ts). */
  windowClosed(): Promise<WindowClosedOutcome>;
  dispose(): Promise<void>;
}

export function createAppCore(options: AppCoreOptions): AppCore {
  const logger = options.logger ?? createConsoleLogger();
  const clock = options.clock ?? systemClock;
  const events = createEventBus(logger);
  const managed = options.policyPath === undefined && !options.policy;
  const policy = createLivePolicy(
    managed
      ? () => loadManagedPolicy(options.policySource)
      : () => loadPolicy(options.policyPath ?? null, options.policy, options.policySource),
    logger,
  );
  if (policy.error) logger.warn('managed policy rejected; strict defaults apply', { source: policy.source });
  if (policy.warnings) logger.warn('managed policy adjusted', { warnings: policy.warnings.join('; ') });
  const app: AppInfo = {
    name: 'Clinic Messenger',
    version: options.appVersion,
    platform: options.platform ?? process.platform,
    harness: options.harness ?? false,
  };
  const keychain = options.keychain ?? createOsKeychain();
  const ca = options.tls?.ca ?? policy.policy.trustedCaPem ?? undefined;
  const session: Session = createSession({
    userDataDir: options.userDataDir,
    policy,
    keychain,
    clock,
    logger,
    events,
    tls: ca ? { ca } : undefined,
    sqliteNativeBinding: options.sqliteNativeBinding,
  });
  const updates = createUpdateStatus();
  const platform = options.policySource?.platform ?? process.platform;
  // Given directly (tests, demo): nothing to watch. Otherwise the file's folder and a poll.
  const watch =
    options.policy || options.policyPath === null
      ? null
      : watchPolicy({
          // A platform simulated by a test (policySource.platform) has no files here to watch.
          files:
            platform !== process.platform
              ? []
              : managed
                ? managedFiles(options.policySource)
                : [options.policyPath as string],
          reload: () => policy.reload(),
          clock,
          logger,
          pollMs: pollIntervalMs(platform),
        });
  policy.onChange((change) => {
    session.policyChanged(change);
    events.emit('policy:changed', { keys: change.keys });
  });
  const router = createRouter({
    handlers: createHandlers({
      app,
      session,
      events,
      policy,
      logger,
      updates,
      ...(options.chooseSavePath ? { chooseSavePath: options.chooseSavePath } : {}),
      ...(options.openExternally ? { openExternally: options.openExternally } : {}),
      ...(options.startDrag ? { startDrag: options.startDrag } : {}),
    }),
    isLocked: () => !session.isUnlocked(),
    logger,
  });
  return {
    router,
    events,
    session,
    policy,
    updates,
    windowClosed: () => onWindowClosed(session, policy.policy),
    dispose: () => {
      watch?.stop();
      return session.dispose();
    },
  };
}

/** The managed policy files whose folders are watched (macOS: the profiles' plists too); registry keys are polled. */
function managedFiles(source: PolicySourceOptions | undefined): string[] {
  return managedPolicyLocations(source?.platform, source).flatMap((l) => (l.kind === 'file' ? [l.path] : []));
}
