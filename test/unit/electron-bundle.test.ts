/**
 * Smoke test of the real bundle: dist-style dist/main/index.cjs (built into a temp dir) runs
 * main/index.ts → createAppCore (the real services) → the Electron shell, against a recording
 * stand-in for `electron` (the binary is not available in Node). Proves the entry wiring that
 * the mocked unit tests cannot: bundle paths, the real router behind ipcMain, the app:// handler.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelNames } from '../../common/ipc-contract';
import { createDecryptPool, generateIdentity, identityAsContact, loadIdentity } from '../../main/crypto';
import { startBackground } from '../../main/store/background';
import { runMigrations } from '../../main/store/migrations';
import { openDb } from '../../main/store/open-db';

interface Stub {
  handlers: Map<string, (event: unknown, payload: unknown) => Promise<unknown>>;
  windows: {
    options: { webPreferences: Record<string, unknown> };
    webContents: { mainFrame: { url: string } };
    loaded: string[];
  }[];
  protocolHandler: ((request: Request) => Promise<Response>) | null;
  sandboxed: boolean;
}

const STUB = `
const { EventEmitter } = require('node:events');
const stub = globalThis.__electronStub = { handlers: new Map(), windows: [], protocolHandler: null, sandboxed: false };
const app = Object.assign(new EventEmitter(), {
  requestSingleInstanceLock: () => true, enableSandbox: () => { stub.sandboxed = true; }, quit() {}, exit() {},
  whenReady: () => Promise.resolve(), isPackaged: false, getPath: () => process.env.STUB_USER_DATA,
  getVersion: () => '9.9.9-bundle', getAppPath: () => process.env.STUB_APP_PATH, setBadgeCount() {},
});
class WebContents extends EventEmitter { constructor() { super(); this.mainFrame = { url: 'app://renderer/index.html' }; } send() {} isDestroyed() { return false; } setWindowOpenHandler() {} }
class BrowserWindow extends EventEmitter {
  constructor(options) { super(); this.options = options; this.webContents = new WebContents(); this.loaded = []; stub.windows.push(this); }
  setContentProtection() {} loadURL(u) { this.loaded.push(u); return Promise.resolve(); } isDestroyed() { return false; } show() {}
}
const noop = () => {};
module.exports = {
  app, BrowserWindow,
  protocol: { registerSchemesAsPrivileged: noop, handle: (_scheme, h) => { stub.protocolHandler = h; } },
  session: { defaultSession: { setPermissionRequestHandler: noop, setPermissionCheckHandler: noop, setDevicePermissionHandler: noop } },
  ipcMain: { handle: (c, fn) => stub.handlers.set(c, fn), removeHandler: (c) => stub.handlers.delete(c) },
  shell: { openExternal: async () => {} }, dialog: { showErrorBox: noop }, powerMonitor: new EventEmitter(),
  Menu: { buildFromTemplate: (t) => t, setApplicationMenu: noop },
  Tray: class { setToolTip() {} setContextMenu() {} on() {} destroy() {} },
  Notification: class { static isSupported() { return false; } },
};`;

let out: string;
let stub: Stub;
const originalResolve = (Module as unknown as { _resolveFilename: (...a: unknown[]) => string })._resolveFilename;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'bundle-smoke-'));
  const build = spawnSync(process.execPath, ['scripts/build-main.mjs', `--outdir=${join(out, 'dist')}`], {
    encoding: 'utf8',
  });
  expect(build.status, build.stderr).toBe(0);
  mkdirSync(join(out, 'dist', 'renderer'), { recursive: true });
  writeFileSync(join(out, 'dist', 'renderer', 'index.html'), '<!doctype html><title>Clinic Messenger</title>');
  writeFileSync(join(out, 'electron-stub.cjs'), STUB);
  mkdirSync(join(out, 'user-data'));
  process.env.STUB_USER_DATA = join(out, 'user-data');
  process.env.STUB_APP_PATH = out;
  const hooked = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  hooked._resolveFilename = function (request: string, ...rest: unknown[]) {
    if (request === 'electron') return join(out, 'electron-stub.cjs');
    return originalResolve.call(this, request, ...rest);
  };
  // External (native) modules resolve from this repo's node_modules, as they would beside the app.
  symlinkSync(join(process.cwd(), 'node_modules'), join(out, 'node_modules'), 'dir');
  createRequire(join(process.cwd(), 'package.json'))(join(out, 'dist', 'main', 'index.cjs'));
  stub = (globalThis as unknown as { __electronStub: Stub }).__electronStub;
  await new Promise((r) => setTimeout(r, 200));
}, 120_000);

afterAll(() => {
  (Module as unknown as { _resolveFilename: unknown })._resolveFilename = originalResolve;
  // Remove the node_modules link first, so the cleanup can never reach into the real one.
  rmSync(join(out, 'node_modules'), { force: true });
  rmSync(out, { recursive: true, force: true });
});

describe('the bundled main process', () => {
  it('sandboxes, opens one hardened window on app:// with the bundled preload', () => {
    expect(stub.sandboxed).toBe(true);
    expect(stub.windows).toHaveLength(1);
    const win = stub.windows[0]!;
    expect(win.options.webPreferences).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false });
    expect(win.options.webPreferences.preload).toBe(join(out, 'dist', 'preload', 'index.cjs'));
    expect(win.loaded).toEqual(['app://renderer/index.html']);
  });

  it('answers the contract over ipcMain through the real core', async () => {
    expect([...stub.handlers.keys()].sort()).toEqual([...channelNames].sort());
    const win = stub.windows[0]!;
    const trusted = { sender: win.webContents, senderFrame: win.webContents.mainFrame };
    const info = await stub.handlers.get('app:info')!(trusted, null);
    expect(info).toMatchObject({
      ok: true,
      value: { name: 'Clinic Messenger', version: '9.9.9-bundle', harness: false },
    });
    expect(await stub.handlers.get('messages:send')!(trusted, { conversationId: 'c', body: 'x' })).toMatchObject({
      ok: false,
      error: { code: 'LOCKED' },
    });
    const iframe = { sender: win.webContents, senderFrame: { url: 'app://renderer/index.html' } };
    expect(await stub.handlers.get('app:info')!(iframe, null)).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' },
    });
  });

  it('serves the renderer build over app:// and nothing outside it', async () => {
    const ok = await stub.protocolHandler!(new Request('app://renderer/index.html'));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('Clinic Messenger');
    const escape = await stub.protocolHandler!(new Request('app://renderer/%2e%2e/main/index.cjs'));
    expect(escape.status).toBe(404);
  });
});

// The packaged app starts its workers from the .cjs files build-main puts beside index.cjs
// (main/worker/entry.ts); a worker bundle that cannot load would only show as a silent fallback.
describe('the bundled worker entries', () => {
  it('store-worker.cjs opens the encrypted cache and answers', async () => {
    const file = join(out, 'user-data', 'worker.db');
    const key = randomBytes(32);
    const db = openDb({ file, key });
    runMigrations(db);
    db.close();
    const bg = startBackground({
      file,
      key,
      worker: { file: join(out, 'dist', 'main', 'store-worker.cjs'), tsx: false },
    });
    try {
      await expect(bg.search('anything', { cursor: null, limit: 5 })).resolves.toEqual({ items: [], nextCursor: null });
      expect(bg.dead()).toBe(false);
    } finally {
      await bg.close();
    }
  }, 30_000);

  it('decrypt-worker.cjs loads the identity and judges a message in a worker thread', async () => {
    const identity = await loadIdentity((await generateIdentity('bob@clinic.test')).armoredSecretKey);
    const pool = createDecryptPool({
      identity,
      mode: 'threads',
      size: 1,
      worker: { file: join(out, 'dist', 'main', 'decrypt-worker.cjs'), tsx: false },
    });
    try {
      await expect(pool.ready()).resolves.toBe('threads');
      const [outcome] = await pool.openMany([
        { senderKey: identityAsContact(identity), base64: '###', ourJid: 'bob@clinic.test', now: new Date() },
      ]);
      expect(outcome).toEqual({ ok: false, reason: 'malformed' });
      expect(pool.mode).toBe('threads');
    } finally {
      await pool.close();
    }
  }, 30_000);
});
