/**
 * A recording stand-in for the `electron` module, for pure-logic unit tests of main/electron/
 * (the Electron binary is not available in Node). Usage in a test file:
 *   vi.mock('electron', async () => (await import('../support/electron-fake')).electronModule);
 * then `resetElectronFake()` in beforeEach and inspect `fake`.
 */
import { vi } from 'vitest';
import type { LockReason } from '../../common/ipc-contract';
import type { Result } from '../../common/result';
import type { AppCore } from '../../main/core';
import { createEventBus } from '../../main/events';
import { silentLogger } from '../../main/log';
import { loadPolicy } from '../../main/policy/load';
import { createLivePolicy } from '../../main/policy/live';
import type { PolicyInput } from '../../main/policy/schema';

type Listener = (...args: unknown[]) => unknown;

// Electron sets process.resourcesPath (the packaged app's resources folder); Node does not.
Object.assign(process, { resourcesPath: '/opt/clinic/resources' });

class Emitter {
  listeners = new Map<string, Listener[]>();
  on = vi.fn((event: string, fn: Listener) => {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), fn]);
    return this;
  });
  once = vi.fn((event: string, fn: Listener) => this.on(event, fn));
  /** Calls every listener; returns the event object so a test can see preventDefault. */
  fire(event: string, ...args: unknown[]): unknown[] {
    return (this.listeners.get(event) ?? []).map((fn) => fn(...args));
  }
}

export interface FakeFrame {
  url: string;
}

export class FakeWebContents extends Emitter {
  mainFrame: FakeFrame = { url: 'app://renderer/index.html' };
  send = vi.fn();
  startDrag = vi.fn((_item: { file: string; icon: unknown }) => undefined);
  destroyed = false;
  isDestroyed = () => this.destroyed;
  windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null;
  setWindowOpenHandler = vi.fn((h: (details: { url: string }) => { action: string }) => {
    this.windowOpenHandler = h;
  });
}

export class FakeBrowserWindow extends Emitter {
  static instances: FakeBrowserWindow[] = [];
  static getAllWindows = () => FakeBrowserWindow.instances;
  webContents = new FakeWebContents();
  minimized = false;
  destroyed = false;
  setContentProtection = vi.fn();
  loadURL = vi.fn(async (_url: string) => undefined);
  show = vi.fn();
  hide = vi.fn();
  focus = vi.fn();
  restore = vi.fn();
  isMinimized = () => this.minimized;
  isDestroyed = () => this.destroyed;
  constructor(readonly options: Record<string, unknown>) {
    super();
    FakeBrowserWindow.instances.push(this);
  }
}

export class FakeTray extends Emitter {
  static instances: FakeTray[] = [];
  setToolTip = vi.fn();
  setContextMenu = vi.fn();
  destroy = vi.fn();
  constructor(readonly image: unknown) {
    super();
    FakeTray.instances.push(this);
  }
}

export class FakeNotification extends Emitter {
  static instances: FakeNotification[] = [];
  static isSupported = () => true;
  show = vi.fn();
  close = vi.fn();
  constructor(readonly options: { title: string; body: string }) {
    super();
    FakeNotification.instances.push(this);
  }
}

function makeFake() {
  const app = Object.assign(new Emitter(), {
    singleInstance: true,
    isPackaged: false,
    requestSingleInstanceLock: vi.fn(() => app.singleInstance),
    enableSandbox: vi.fn(),
    quit: vi.fn(),
    exit: vi.fn(),
    whenReady: vi.fn(() => Promise.resolve()),
    getPath: vi.fn((_name: string) => '/tmp/clinic-messenger-test-userdata'),
    getVersion: vi.fn(() => '0.1.0-test'),
    getAppPath: vi.fn(() => process.cwd()),
    setBadgeCount: vi.fn(() => true),
    // A NativeImage-like icon; a test makes it empty, or the call fail, to see the fallback.
    getFileIcon: vi.fn(async (_path: string): Promise<{ isEmpty: () => boolean; name: string }> => ({
      isEmpty: () => false,
      name: 'system file icon',
    })),
  });
  const ipcHandlers = new Map<string, Listener>();
  return {
    app,
    protocol: { registerSchemesAsPrivileged: vi.fn(), handle: vi.fn() },
    session: {
      defaultSession: {
        setPermissionRequestHandler: vi.fn(),
        setPermissionCheckHandler: vi.fn(),
        setDevicePermissionHandler: vi.fn(),
      },
    },
    ipcHandlers,
    ipcMain: {
      handle: vi.fn((channel: string, fn: Listener) => {
        if (ipcHandlers.has(channel)) throw new Error(`second handler for ${channel}`);
        ipcHandlers.set(channel, fn);
      }),
      removeHandler: vi.fn((channel: string) => ipcHandlers.delete(channel)),
    },
    // openPath answers '' when the file opened, else what went wrong (Electron's contract).
    shell: { openExternal: vi.fn(async (_url: string) => undefined), openPath: vi.fn(async (_path: string) => '') },
    dialog: {
      showErrorBox: vi.fn(),
      showSaveDialog: vi.fn((..._args: unknown[]): Promise<{ canceled: boolean; filePath?: string }> =>
        Promise.resolve({ canceled: true }),
      ),
    },
    powerMonitor: new Emitter(),
    Menu: { buildFromTemplate: vi.fn((template: unknown) => ({ template })), setApplicationMenu: vi.fn() },
  };
}

export const fake = makeFake();

export function resetElectronFake(): void {
  const next = makeFake();
  Object.assign(fake, next);
  FakeBrowserWindow.instances = [];
  FakeTray.instances = [];
  FakeNotification.instances = [];
}

/** The module object handed to vi.mock('electron'); getters follow resets. */
export const electronModule = {
  get app() {
    return fake.app;
  },
  get protocol() {
    return fake.protocol;
  },
  get session() {
    return fake.session;
  },
  get ipcMain() {
    return fake.ipcMain;
  },
  get shell() {
    return fake.shell;
  },
  get dialog() {
    return fake.dialog;
  },
  get powerMonitor() {
    return fake.powerMonitor;
  },
  get Menu() {
    return fake.Menu;
  },
  BrowserWindow: FakeBrowserWindow,
  Tray: FakeTray,
  Notification: FakeNotification,
};

/**
 * A core double for shell wiring tests: real event bus and live policy, recorded router/session.
 * `setPolicy` changes the policy as a changed managed source would (LivePolicy.reload).
 */
export function fakeCore(initial: PolicyInput = {}) {
  let current = initial;
  const policy = createLivePolicy(() => loadPolicy(null, current), silentLogger);
  const setPolicy = (next: PolicyInput) => {
    current = next;
    policy.reload();
  };
  const events = createEventBus(silentLogger);
  const dispatch = vi.fn(async (_channel: unknown, _payload: unknown): Promise<Result<unknown>> => ({
    ok: true,
    value: null,
  }));
  const lock = vi.fn(async (_reason: LockReason) => undefined);
  const dispose = vi.fn(async () => undefined);
  const windowClosed = vi.fn(async () => 'locked' as const);
  const core = {
    router: { dispatch },
    events,
    session: { lock },
    policy,
    updates: { get: vi.fn(), set: vi.fn() },
    windowClosed,
    dispose,
  } as unknown as AppCore;
  return { core, events, dispatch, lock, dispose, windowClosed, setPolicy };
}
