/*
 * SECURITY-SENSITIVE — CHANGE ONLY WITH REVIEW. This file applies the hardening from hardening.ts;
 * test/unit/electron-*.test.ts fail if a line that does so is removed.
 */
/**
 * The Electron shell: wires the hardened window, the app:// protocol, IPC, lock triggers, tray,
 * notifications and updates around an AppCore. Called once by main/index.ts; importing this
 * module has no side effects.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  Notification,
  powerMonitor,
  protocol,
  session,
  shell,
  Tray,
} from 'electron';
import type { LockReason } from '../../common/ipc-contract';
import { AppError } from '../../common/result';
import type { AppCore } from '../core';
import { createConsoleLogger, errorName, type Logger } from '../log';
import { registerAppScheme, serveRenderer } from './app-protocol';
import {
  APP_ENTRY_URL,
  APP_USER_MODEL_ID,
  enableProcessSandbox,
  guardWebContents,
  installPermissionHandlers,
} from './hardening';
import { wireIpc } from './ipc';
import { appMenuTemplate, installAppMenu, installPowerLockTriggers } from './lock-triggers';
import { sqliteNativeBindingPath } from './native-binding';
import { installTrayAndNotifications } from './tray';
import { detectInstallKind, startUpdater, type UpdaterLike } from './updater';
import { applyContentProtection, createMainWindow, focusWindow, hideOnClose, trackQuitting } from './window';

/** What the shell knows that createAppCore needs (main/index.ts passes these through). */
export interface ShellEnvironment {
  userDataDir: string;
  appVersion: string;
  /** Electron-ABI better-sqlite3 binding, when built (scripts/rebuild-electron-native.mjs). */
  sqliteNativeBinding: string | undefined;
  /** "Save as…" for an attachment the policy lets people export: the system's save dialog; null when cancelled. */
  chooseSavePath: (suggestedName: string) => Promise<string | null>;
  /** "Open in another app" for an attachment the policy lets people export: the system's default app. */
  openExternally: (path: string) => Promise<void>;
  /** Drag-out for an attachment the policy lets people export: the system's drag from the window. */
  startDrag: (path: string) => Promise<void>;
}

export interface ShellOptions {
  createCore: (env: ShellEnvironment) => AppCore;
  /** Folder of the bundled main file (dist/main); preload and renderer sit beside it. */
  bundleDir: string;
  logger?: Logger;
}

export interface ShellHandle {
  /** Resolves with the window once the app is ready and the renderer is loading. */
  ready: Promise<{ core: AppCore; window: BrowserWindow }>;
}

/** "Save as…" (attachments:export): the system's save dialog over the window, in Downloads; null when cancelled. */
function saveDialog(getWindow: () => BrowserWindow | null): ShellEnvironment['chooseSavePath'] {
  return async (suggestedName) => {
    // The name is already a safe display name (no path, no control characters: file-sharing.ts).
    const options = { defaultPath: join(app.getPath('downloads'), suggestedName) };
    const window = getWindow();
    const r = window ? await dialog.showSaveDialog(window, options) : await dialog.showSaveDialog(options);
    return r.canceled || !r.filePath ? null : r.filePath;
  };
}

/** "Open in another app" (attachments:openExternally): shell.openPath answers '' or what went wrong. */
async function openWithDefaultApp(path: string): Promise<void> {
  const problem = await shell.openPath(path);
  if (problem) throw new AppError('INTERNAL', 'No app on this computer could open the file.');
}

/**
 * Drag-out (attachments:dragOut): the system's drag of the copy from the window, under the
 * system's icon for its type (the app's icon when there is none: macOS needs one). Electron's
 * documented pattern: the renderer cancels its own dragstart and main starts the drag.
 */
function dragFrom(getWindow: () => BrowserWindow | null, fallbackIcon: string): ShellEnvironment['startDrag'] {
  return async (path) => {
    const window = getWindow();
    if (!window || window.isDestroyed()) throw new AppError('INTERNAL', 'Dragging files out is not available here.');
    // No icon for the type is no reason not to drag: the app's own icon stands in.
    const icon = await app.getFileIcon(path).catch(() => null);
    window.webContents.startDrag({ file: path, icon: icon && !icon.isEmpty() ? icon : fallbackIcon });
  };
}

/** Returns null when another instance already runs (that one is focused instead). */
export function startElectronShell(opts: ShellOptions): ShellHandle | null {
  const logger = opts.logger ?? createConsoleLogger();
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return null;
  }
  // Before ready: sandbox every renderer, and make app:// a standard, secure origin.
  enableProcessSandbox(app);
  // Windows shows toast notifications only for an app with an AppUserModelID (the installer's appId).
  if (process.platform === 'win32') app.setAppUserModelId(APP_USER_MODEL_ID);
  registerAppScheme(protocol);
  app.on('web-contents-created', (_event, contents) => guardWebContents(contents, shell));

  let window: BrowserWindow | null = null;
  let core: AppCore | null = null;
  app.on('second-instance', () => focusWindow(window));
  app.on('activate', () => focusWindow(window));
  // Only quitting closes the window for real (hideOnClose); once it is gone the app quits, on every OS.
  const isQuitting = trackQuitting(app);
  app.on('window-all-closed', () => app.quit());

  let disposed = false;
  app.on('will-quit', (event) => {
    if (disposed || !core) return;
    event.preventDefault();
    disposed = true;
    // A failed dispose (the store could not close) is logged; the app quits either way.
    core
      .dispose()
      .catch((err: unknown) => logger.error('shutdown incomplete', { error: errorName(err) }))
      .finally(() => app.exit(0));
  });

  const ready = app.whenReady().then(() => {
    try {
      return onReady();
    } catch (err) {
      // A core that cannot be built (unreadable user data, missing native module…) is shown to
      // the user and ends the process, rather than leaving a windowless app running.
      const message = err instanceof Error ? err.message : String(err);
      logger.error('startup failed', { error: errorName(err) });
      dialog.showErrorBox('Clinic Messenger cannot start', `${message}\n\nPlease contact your IT department.`);
      app.exit(1);
      throw err;
    }
  });

  function onReady(): { core: AppCore; window: BrowserWindow } {
    const isDevelopment = !app.isPackaged;
    core = opts.createCore({
      userDataDir: app.getPath('userData'),
      appVersion: app.getVersion(),
      sqliteNativeBinding: sqliteNativeBindingPath({
        isPackaged: app.isPackaged,
        resourcesPath: process.resourcesPath,
        appPath: app.getAppPath(),
        exists: existsSync,
      }),
      chooseSavePath: saveDialog(() => window),
      openExternally: openWithDefaultApp,
      startDrag: dragFrom(() => window, resourcePath('icons', 'tray@2x.png')),
    });
    const theCore = core;
    const { policy } = theCore.policy;

    installPermissionHandlers(session.defaultSession);
    serveRenderer(protocol, join(opts.bundleDir, '..', 'renderer'));

    const win = createMainWindow({
      BrowserWindow,
      preloadPath: join(opts.bundleDir, '..', 'preload', 'index.cjs'),
      isDevelopment,
      screenshotsAllowed: policy.screenshotsAllowed,
    });
    window = win;
    win.on('closed', () => {
      window = null;
    });
    hideOnClose(win, isQuitting, () => {
      theCore.windowClosed().catch((err: unknown) => logger.error('lock on close failed', { error: errorName(err) }));
    });

    wireIpc({ ipcMain, router: theCore.router, events: theCore.events, getWindow: () => window, logger });

    installDesktopIntegration(theCore, () => window, isDevelopment, logger);
    startUpdates(theCore, logger);

    // A page that cannot load leaves a blank window: say so in the log (the URL is ours, no PHI).
    win
      .loadURL(APP_ENTRY_URL)
      .catch((err: unknown) => logger.error('renderer did not load', { error: errorName(err) }));
    return { core: theCore, window: win };
  }
  return { ready };
}

/** A file the installer ships beside the app (resources/ in a development checkout). */
function resourcePath(...p: string[]): string {
  return app.isPackaged ? join(process.resourcesPath, ...p) : join(app.getAppPath(), 'resources', ...p);
}

/** The desktop around the window: lock triggers, content protection, the menu, the tray. */
function installDesktopIntegration(
  core: AppCore,
  getWindow: () => BrowserWindow | null,
  isDevelopment: boolean,
  logger: Logger,
): void {
  const { policy } = core.policy;
  const lock = (reason: LockReason) => {
    core.session.lock(reason).catch((err: unknown) => logger.error('lock failed', { reason, error: errorName(err) }));
  };
  // The live policy view: lockOnOsLock is read when the screen locks (main/policy/live.ts).
  installPowerLockTriggers(powerMonitor, lock, policy);
  core.policy.onChange((change) => {
    if (change.keys.includes('screenshotsAllowed'))
      applyContentProtection(BrowserWindow.getAllWindows(), policy.screenshotsAllowed);
  });
  installAppMenu(
    Menu,
    appMenuTemplate({ lock, quit: () => app.quit(), isDevelopment, isMac: process.platform === 'darwin' }),
  );
  try {
    installTrayAndNotifications(
      { Tray, Menu, Notification, app, icon: resourcePath('icons', 'tray.png') },
      { events: core.events, showWindow: () => focusWindow(getWindow()), lock, quit: () => app.quit() },
    );
  } catch (err) {
    // Some Linux desktops have no status area; the app works without a tray.
    logger.warn('tray unavailable', { error: errorName(err) });
  }
}

/** The update channel IT controls (updater.ts); the decision is kept for Settings. */
function startUpdates(core: AppCore, logger: Logger): void {
  startUpdater({
    policy: core.policy.policy,
    runningVersion: app.getVersion(),
    installKind: detectInstallKind({
      platform: process.platform,
      isPackaged: app.isPackaged,
      execPath: process.execPath,
      env: process.env,
    }),
    platform: process.platform,
    appUpdateYml: app.isPackaged ? readOptional(join(process.resourcesPath, 'app-update.yml')) : null,
    logger,
    loadUpdater: async () => (await import('electron-updater')).autoUpdater as unknown as UpdaterLike,
    onDecision: (decision) => core.updates.set(decision),
  }).catch((err: unknown) => logger.warn('updater not started', { error: errorName(err) }));
}

function readOptional(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
