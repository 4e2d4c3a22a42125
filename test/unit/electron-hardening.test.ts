/**
 * Every hardening line of the Electron shell (issue 2 §2; STYLE.md "security invariants as
 * tests", after Bitwarden's window.main.spec.ts). Electron is mocked: this checks what the shell
 * asks Electron to do. Deleting any of those lines must fail a test here.
 */
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../main/log';
import { FakeBrowserWindow, FakeWebContents, fake, fakeCore, resetElectronFake } from '../support/electron-fake';

vi.mock('electron', async () => (await import('../support/electron-fake')).electronModule);
vi.mock('electron-updater', () => ({ autoUpdater: {} }));

const { startElectronShell } = await import('../../main/electron/start');
const { RENDERER_CSP, SECURITY_HEADERS } = await import('../../main/electron/hardening');

type Handler = (...args: unknown[]) => unknown;
const lastArg = (fn: { mock: { calls: unknown[][] } }) => fn.mock.calls.at(-1)?.[0] as Handler;

async function start(policy = {}) {
  const { core, setPolicy } = fakeCore(policy);
  const handle = startElectronShell({
    createCore: () => core,
    bundleDir: '/opt/clinic/resources/app.asar/dist/main',
    logger: silentLogger,
  });
  if (!handle) throw new Error('shell did not start');
  const { window } = await handle.ready;
  return { window: window as unknown as FakeBrowserWindow, handle, setPolicy };
}

/** Parses a CSP header value into directive → sources. */
export function parseCsp(value: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of value.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) out.set(name.toLowerCase(), sources);
  }
  return out;
}

function expectStrictCsp(value: string) {
  const csp = parseCsp(value);
  expect(csp.get('default-src')).toEqual(["'none'"]);
  expect(csp.get('script-src')).toEqual(["'self'"]);
  expect(csp.get('object-src')).toEqual(["'none'"]);
  expect(csp.get('base-uri')).toEqual(["'none'"]);
  for (const [directive, sources] of csp) {
    expect(sources, directive).not.toContain("'unsafe-eval'");
    expect(sources, directive).not.toContain("'wasm-unsafe-eval'");
    expect(
      sources.some((s) => s === '*' || s === 'http:' || s === 'https:'),
      `${directive} allows any remote origin`,
    ).toBe(false);
    if (directive.startsWith('script-src') || directive === 'default-src') {
      expect(sources, directive).not.toContain("'unsafe-inline'");
      expect(sources, directive).not.toContain('data:');
      expect(sources, directive).not.toContain('blob:');
    }
    // Attachment previews (issue 16): blob: images only, never anything that runs or embeds.
    if (directive !== 'img-src') expect(sources, directive).not.toContain('blob:');
  }
}

beforeEach(() => {
  resetElectronFake();
  vi.clearAllMocks();
});

describe('process and scheme setup', () => {
  it('enables the OS sandbox for every renderer before the app is ready', async () => {
    await start();
    expect(fake.app.enableSandbox).toHaveBeenCalledTimes(1);
    expect(fake.app.enableSandbox.mock.invocationCallOrder[0]).toBeLessThan(
      fake.app.whenReady.mock.invocationCallOrder[0]!,
    );
  });

  it('registers app:// as a standard, secure scheme before ready and serves the renderer from it', async () => {
    const { window } = await start();
    const schemes = fake.protocol.registerSchemesAsPrivileged.mock.calls[0]?.[0] as {
      scheme: string;
      privileges: Record<string, boolean>;
    }[];
    expect(schemes).toHaveLength(1);
    expect(schemes[0]!.scheme).toBe('app');
    expect(schemes[0]!.privileges).toMatchObject({ standard: true, secure: true });
    expect(schemes[0]!.privileges.bypassCSP).toBeFalsy();
    expect(fake.protocol.registerSchemesAsPrivileged.mock.invocationCallOrder[0]).toBeLessThan(
      fake.app.whenReady.mock.invocationCallOrder[0]!,
    );
    expect(fake.protocol.handle).toHaveBeenCalledWith('app', expect.any(Function));
    expect(window.loadURL).toHaveBeenCalledWith('app://renderer/index.html');
    expect(JSON.stringify(window.loadURL.mock.calls)).not.toContain('file:');
  });
});

describe('the window', () => {
  it('is created once with sandbox, context isolation, no Node integration and web security', async () => {
    const { window } = await start();
    expect(FakeBrowserWindow.instances).toHaveLength(1);
    const prefs = window.options.webPreferences as Record<string, unknown>;
    expect(prefs).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(prefs.preload).toBe('/opt/clinic/resources/app.asar/dist/preload/index.cjs');
  });

  it('allows devtools only in development builds', async () => {
    fake.app.isPackaged = true;
    const packaged = await start();
    expect((packaged.window.options.webPreferences as Record<string, unknown>).devTools).toBe(false);
    resetElectronFake();
    fake.app.isPackaged = false;
    const dev = await start();
    expect((dev.window.options.webPreferences as Record<string, unknown>).devTools).toBe(true);
  });

  it('is excluded from screenshots unless policy allows them', async () => {
    const strict = await start({ screenshotsAllowed: false });
    expect(strict.window.setContentProtection).toHaveBeenCalledWith(true);
    resetElectronFake();
    const relaxed = await start({ screenshotsAllowed: true });
    expect(relaxed.window.setContentProtection).not.toHaveBeenCalledWith(true);
  });

  it('follows screenshotsAllowed when the policy changes while running, at once (issue 14 item 3)', async () => {
    const { window, setPolicy } = await start({ screenshotsAllowed: true });
    expect(window.setContentProtection).not.toHaveBeenCalled();
    setPolicy({ screenshotsAllowed: false });
    expect(window.setContentProtection).toHaveBeenLastCalledWith(true);
    setPolicy({ screenshotsAllowed: true });
    expect(window.setContentProtection).toHaveBeenLastCalledWith(false);
    // A change of another key leaves it alone.
    window.setContentProtection.mockClear();
    setPolicy({ screenshotsAllowed: true, exportAllowed: true });
    expect(window.setContentProtection).not.toHaveBeenCalled();
  });
});

describe('content security policy', () => {
  it('sends a strict CSP header with every app:// response', () => {
    expect(SECURITY_HEADERS['Content-Security-Policy']).toBe(RENDERER_CSP);
    expectStrictCsp(RENDERER_CSP);
    expect(SECURITY_HEADERS['X-Content-Type-Options']).toBe('nosniff');
  });

  it('ships the same strict policy as a meta tag in renderer/index.html', () => {
    const html = readFileSync('renderer/index.html', 'utf8');
    const meta = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/i.exec(html);
    expect(meta, 'CSP meta tag').not.toBeNull();
    expectStrictCsp(meta![1]!);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
  });

  it('the checker itself refuses weak policies', () => {
    expect(() => expectStrictCsp("default-src 'none'; script-src 'self' 'unsafe-eval'")).toThrow();
    expect(() => expectStrictCsp("default-src 'none'; script-src 'self' 'unsafe-inline'")).toThrow();
    expect(() => expectStrictCsp("default-src 'self'; script-src 'self'")).toThrow();
    expect(() => expectStrictCsp("default-src 'none'; script-src 'self' https:")).toThrow();
  });
});

describe('permissions', () => {
  const permissions = [
    'media',
    'geolocation',
    'clipboard-read',
    'display-capture',
    'fullscreen',
    'openExternal',
    'midiSysex',
    'hid',
    'serial',
    'usb',
    'notifications',
    'clipboard-sanitized-write',
  ];
  const granted = (p: string) => p === 'notifications' || p === 'clipboard-sanitized-write';

  it('grants requests for notifications and clipboard writes from our own origin and nothing else', async () => {
    await start();
    const handler = lastArg(fake.session.defaultSession.setPermissionRequestHandler);
    expect(handler).toBeTypeOf('function');
    const ask = (permission: string, requestingUrl: string) => {
      const callback = vi.fn();
      handler({}, permission, callback, { requestingUrl });
      expect(callback).toHaveBeenCalledTimes(1);
      return callback.mock.calls[0]![0] as boolean;
    };
    for (const p of permissions) expect(ask(p, 'app://renderer/index.html'), p).toBe(granted(p));
    expect(ask('notifications', 'https://evil.example/')).toBe(false);
    expect(ask('clipboard-sanitized-write', 'https://evil.example/')).toBe(false);
  });

  it('answers permission checks the same way', async () => {
    await start();
    const check = lastArg(fake.session.defaultSession.setPermissionCheckHandler);
    expect(check).toBeTypeOf('function');
    for (const p of permissions) expect(check(null, p, 'app://renderer', {}), p).toBe(granted(p));
    expect(check(null, 'notifications', 'https://evil.example', {})).toBe(false);
  });

  it('refuses every device (HID, serial, USB) request', async () => {
    await start();
    expect(lastArg(fake.session.defaultSession.setDevicePermissionHandler)({ deviceType: 'usb' })).toBe(false);
  });
});

describe('navigation and new windows', () => {
  async function guardedContents() {
    await start();
    const contents = new FakeWebContents();
    fake.app.fire('web-contents-created', {}, contents);
    return contents;
  }

  it('guards every web contents, including the main window', async () => {
    await start();
    expect(fake.app.listeners.get('web-contents-created')).toHaveLength(1);
  });

  for (const event of ['will-navigate', 'will-redirect', 'will-attach-webview']) {
    it(`denies ${event}`, async () => {
      const contents = await guardedContents();
      const e = { preventDefault: vi.fn() };
      contents.fire(event, e, 'https://evil.example/');
      expect(e.preventDefault).toHaveBeenCalled();
    });
  }

  it('never opens a new window, and opens only https and mailto links in the OS', async () => {
    const contents = await guardedContents();
    const open = contents.windowOpenHandler!;
    expect(open).toBeTypeOf('function');
    const allowed = ['https://www.hhs.gov/hipaa/', 'mailto:it@clinic.example'];
    const refused = [
      'javascript:alert(1)',
      'file:///etc/passwd',
      'http://example.com/',
      'data:text/html,hi',
      'app://renderer/index.html',
      'https://user:pw@example.com/',
      'smb://share/x',
      'not a url',
    ];
    for (const url of [...allowed, ...refused]) expect(open({ url }), url).toEqual({ action: 'deny' });
    const opened = fake.shell.openExternal.mock.calls.map((c) => c[0]);
    expect(opened).toEqual(allowed);
  });
});

describe('single instance', () => {
  it('quits a second instance before it creates anything', () => {
    fake.app.singleInstance = false;
    const handle = startElectronShell({ createCore: () => fakeCore().core, bundleDir: '/x/dist/main' });
    expect(handle).toBeNull();
    expect(fake.app.quit).toHaveBeenCalled();
    expect(fake.app.whenReady).not.toHaveBeenCalled();
    expect(FakeBrowserWindow.instances).toHaveLength(0);
  });

  it('focuses the existing window when a second instance starts', async () => {
    const { window } = await start();
    expect(fake.app.requestSingleInstanceLock).toHaveBeenCalled();
    window.minimized = true;
    fake.app.fire('second-instance', {}, [], '/');
    expect(window.restore).toHaveBeenCalled();
    expect(window.focus).toHaveBeenCalled();
  });
});
