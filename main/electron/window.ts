/*
 * SECURITY-SENSITIVE — CHANGE ONLY WITH REVIEW (tested by test/unit/electron-hardening.test.ts).
 * The one application window. Its webPreferences come only from hardening.ts.
 */
import type { App, BrowserWindow as BrowserWindowType, BrowserWindowConstructorOptions } from 'electron';
import { secureWebPreferences } from './hardening';

export interface MainWindowOptions {
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => BrowserWindowType;
  preloadPath: string;
  isDevelopment: boolean;
  /** policy.screenshotsAllowed: when false the window's pixels are excluded from captures. */
  screenshotsAllowed: boolean;
}

export function createMainWindow(opts: MainWindowOptions): BrowserWindowType {
  const win = new opts.BrowserWindow({
    width: 1200,
    height: 800,
    minWidth: 760,
    minHeight: 520,
    show: false,
    title: 'Clinic Messenger',
    autoHideMenuBar: true,
    webPreferences: secureWebPreferences(opts.preloadPath, opts.isDevelopment),
  });
  // PHI on screen: keep it out of screenshots and screen sharing unless policy allows (HIPAA.md).
  if (!opts.screenshotsAllowed) win.setContentProtection(true);
  win.once('ready-to-show', () => win.show());
  return win;
}

/**
 * The policy changed while the app runs (issue 14 item 3): every window follows
 * screenshotsAllowed at once — content protection on when screenshots are not allowed.
 */
export function applyContentProtection(
  windows: readonly Pick<BrowserWindowType, 'isDestroyed' | 'setContentProtection'>[],
  screenshotsAllowed: boolean,
): void {
  for (const win of windows) if (!win.isDestroyed()) win.setContentProtection(!screenshotsAllowed);
}

/** Second instance or tray click: bring the existing window forward instead of a new one. */
export function focusWindow(win: BrowserWindowType | null): void {
  if (!win || win.isDestroyed()) return;
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
}

/** True from the moment the app starts quitting (menu, tray, Ctrl+Q, the OS logging out). */
export function trackQuitting(app: Pick<App, 'on'>): () => boolean {
  let quitting = false;
  app.on('before-quit', () => {
    quitting = true;
  });
  return () => quitting;
}

/**
 * Closing the window is not quitting (issue 12 §4): it hides, and `onClosed` runs — the core then
 * locks the profile when the policy says so (lockOnWindowClose, on by default for shared PCs:
 * main/session/window-close.ts), so whoever opens it next meets the lock screen. The tray or a
 * second launch shows it again. While quitting, the window closes for real.
 */
export function hideOnClose(win: BrowserWindowType, isQuitting: () => boolean, onClosed: () => void): void {
  win.on('close', (event) => {
    if (isQuitting()) return;
    event.preventDefault();
    win.hide();
    onClosed();
  });
}
