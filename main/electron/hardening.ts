/*
 * ─────────────────────────────────────────────────────────────────────────────────────────
 *  SECURITY HARDENING — CHANGE ONLY WITH REVIEW.
 *  Every line here is a security invariant asserted by test/unit/electron-hardening.test.ts.
 *  Loosening any of them (sandbox, context isolation, CSP, permissions, navigation, external
 *  links, sender checks) needs a security review, not just a green build.
 *  Model: VS Code's src/vs/code/electron-main/app.ts; Electron's security checklist
 *  (https://www.electronjs.org/docs/latest/tutorial/security).
 * ─────────────────────────────────────────────────────────────────────────────────────────
 */
import type { App, IpcMainInvokeEvent, Session, WebContents, WebPreferences } from 'electron';

/** The renderer's only origin. Served by main/electron/app-protocol.ts, never file://. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'renderer';
const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;
/** electron-builder.yml appId; Windows needs it as the AppUserModelID for toast notifications. */
export const APP_USER_MODEL_ID = 'org.clinicmessenger.desktop';

/**
 * Content-Security-Policy sent as a response header for every app:// response; renderer/index.html
 * carries the same policy as a <meta>. No inline script, no eval, nothing remote.
 * img-src allows blob: (issue 16 §4): an attachment preview is bytes main checked
 * (attachments:read) that the renderer wraps in a Blob URL of its own origin; images cannot run
 * script, and blob: stays out of every other directive.
 */
export const RENDERER_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

/** Response headers for app:// (CSP + no MIME sniffing + no referrer leaks). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy': RENDERER_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
});

/** The one window's webPreferences. devTools only in development (unpackaged) builds. */
export function secureWebPreferences(preloadPath: string, isDevelopment: boolean): WebPreferences {
  return {
    preload: preloadPath,
    sandbox: true,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    spellcheck: false,
    devTools: isDevelopment,
  };
}

/** Must run before `app.whenReady()`: every renderer is OS-sandboxed. */
export function enableProcessSandbox(app: Pick<App, 'enableSandbox'>): void {
  app.enableSandbox();
}

/**
 * Only notifications and writing the clipboard (a message's "Copy text", issue 12 §6) may be
 * granted, and only to our own origin. Reading the clipboard never is.
 */
const GRANTABLE = new Set(['notifications', 'clipboard-sanitized-write']);
function isPermissionAllowed(permission: string, requestingUrl: string | undefined): boolean {
  return GRANTABLE.has(permission) && typeof requestingUrl === 'string' && isAppUrl(requestingUrl);
}

export function installPermissionHandlers(
  session: Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler' | 'setDevicePermissionHandler'>,
): void {
  session.setPermissionRequestHandler((_wc, permission, callback, details) => {
    callback(isPermissionAllowed(permission, details.requestingUrl));
  });
  session.setPermissionCheckHandler((_wc, permission, requestingOrigin) =>
    isPermissionAllowed(permission, requestingOrigin),
  );
  // HID / serial / USB devices: never.
  session.setDevicePermissionHandler(() => false);
}

/** External links leave the app only for https: and mailto:, through the OS handler. */
function isAllowedExternalUrl(raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (url.protocol === 'mailto:') return true;
  return url.protocol === 'https:' && url.username === '' && url.password === '';
}

export interface ExternalOpener {
  openExternal(url: string): Promise<void>;
}

/**
 * Navigation guards for a webContents: the page never navigates (it is a single-page app),
 * never opens a window, never attaches a <webview>; https/mailto links go to the OS.
 */
export function guardWebContents(
  contents: Pick<WebContents, 'on' | 'setWindowOpenHandler'>,
  shell: ExternalOpener,
): void {
  contents.on('will-navigate', (event) => {
    event.preventDefault();
  });
  contents.on('will-redirect', (event) => {
    event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
  });
  contents.setWindowOpenHandler(({ url }) => {
    // The window is denied either way; a link the OS cannot open leaves nothing to report to.
    if (isAllowedExternalUrl(url)) void shell.openExternal(url).catch(() => undefined);
    return { action: 'deny' };
  });
}

function isAppUrl(raw: string): boolean {
  try {
    const url = new URL(raw);
    return url.protocol === `${APP_SCHEME}:` && url.host === APP_HOST;
  } catch {
    return false;
  }
}

/**
 * IPC sender check (ARCHITECTURE.md §3): only the main frame of our own window, showing our own
 * app:// origin, may call a channel. Iframes, other windows, and destroyed frames are refused.
 */
export function isTrustedSender(
  event: Pick<IpcMainInvokeEvent, 'senderFrame' | 'sender'>,
  window: { webContents: Pick<WebContents, 'mainFrame'> } | null,
): boolean {
  if (!window) return false;
  const frame = event.senderFrame;
  if (!frame) return false;
  if (event.sender !== window.webContents) return false;
  if (frame !== window.webContents.mainFrame) return false;
  return frame.url.startsWith(`${APP_ORIGIN}/`);
}
