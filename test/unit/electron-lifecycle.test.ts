/**
 * What the shell does around the window: lock on OS lock / suspend / Ctrl+L, tray badge and
 * notifications, updater only with a policy feed, a clean dispose on quit, and where the
 * Electron-ABI SQLCipher binding is looked for.
 */
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ShellEnvironment } from '../../main/electron/start';
import type { UpdaterOptions } from '../../main/electron/updater';
import { silentLogger } from '../../main/log';
import type { UpdateDecision } from '../../main/update/decision';
import type { CheckInput } from '../../main/update/fetch-feed';
import {
  FakeBrowserWindow,
  FakeNotification,
  FakeTray,
  fake,
  fakeCore,
  resetElectronFake,
} from '../support/electron-fake';

const updater = vi.hoisted(() => ({
  autoDownload: true,
  autoInstallOnAppQuit: true,
  allowDowngrade: true,
  allowPrerelease: true,
  setFeedURL: vi.fn(),
  on: vi.fn(),
  checkForUpdates: vi.fn(async () => null),
  downloadUpdate: vi.fn(async () => null),
}));
vi.mock('electron', async () => (await import('../support/electron-fake')).electronModule);
vi.mock('electron-updater', () => ({ autoUpdater: updater }));

const { startElectronShell } = await import('../../main/electron/start');
const { sqliteNativeBindingPath } = await import('../../main/electron/native-binding');
const { channelFileFor, detectInstallKind, signatureVerifiedDownloads, startUpdater } =
  await import('../../main/electron/updater');

async function start(policy = {}) {
  const doubles = fakeCore(policy);
  const handle = startElectronShell({
    createCore: () => doubles.core,
    bundleDir: '/app/dist/main',
    logger: silentLogger,
  });
  const { window } = await handle!.ready;
  return { ...doubles, window: window as unknown as FakeBrowserWindow };
}

type MenuItem = { id?: string; accelerator?: string; click?: () => void; submenu?: MenuItem[]; label?: string };
const menuItems = (): MenuItem[] => {
  const template = fake.Menu.setApplicationMenu.mock.calls.at(-1)?.[0] as { template: MenuItem[] };
  return template.template.flatMap((m) => m.submenu ?? []);
};

beforeEach(() => {
  resetElectronFake();
  vi.clearAllMocks();
});

describe('locking', () => {
  it('locks when the OS screen locks, when policy says so', async () => {
    const { lock } = await start({ lockOnOsLock: true });
    fake.powerMonitor.fire('lock-screen');
    expect(lock).toHaveBeenCalledWith('os-lock');
  });

  it('leaves OS screen lock alone when policy turns it off', async () => {
    const { lock } = await start({ lockOnOsLock: false });
    fake.powerMonitor.fire('lock-screen');
    expect(lock).not.toHaveBeenCalled();
  });

  it('follows a policy change while running: lockOnOsLock is read when the screen locks (issue 14 item 3)', async () => {
    const { lock, setPolicy } = await start({ lockOnOsLock: false });
    setPolicy({ lockOnOsLock: true });
    fake.powerMonitor.fire('lock-screen');
    expect(lock).toHaveBeenCalledWith('os-lock');
  });

  it('always locks on suspend', async () => {
    const { lock } = await start({ lockOnOsLock: false });
    fake.powerMonitor.fire('suspend');
    expect(lock).toHaveBeenCalledWith('suspend');
  });

  it('locks on Ctrl+L from the application menu', async () => {
    const { lock } = await start();
    const item = menuItems().find((i) => i.id === 'lock');
    expect(item?.accelerator).toBe('CmdOrCtrl+L');
    item!.click!();
    expect(lock).toHaveBeenCalledWith('manual');
  });

  it('offers devtools in the menu only in development', async () => {
    fake.app.isPackaged = true;
    await start();
    expect(JSON.stringify(fake.Menu.setApplicationMenu.mock.calls)).not.toContain('toggleDevTools');
  });

  it('disposes the core (which locks) before the app exits', async () => {
    const { dispose } = await start();
    const event = { preventDefault: vi.fn() };
    fake.app.fire('will-quit', event);
    expect(event.preventDefault).toHaveBeenCalled();
    expect(dispose).toHaveBeenCalledTimes(1);
    await vi.waitFor(() => expect(fake.app.exit).toHaveBeenCalledWith(0));
    fake.app.fire('will-quit', { preventDefault: vi.fn() });
    expect(dispose).toHaveBeenCalledTimes(1);
  });

  it('shows why and exits when the core cannot be built', async () => {
    const handle = startElectronShell({
      createCore: () => {
        throw new Error('The clinic policy file is unreadable.');
      },
      bundleDir: '/app/dist/main',
      logger: silentLogger,
    });
    await expect(handle!.ready).rejects.toThrow(/policy file/);
    expect(fake.dialog.showErrorBox).toHaveBeenCalledWith(
      'Clinic Messenger cannot start',
      expect.stringContaining('The clinic policy file is unreadable.'),
    );
    expect(fake.app.exit).toHaveBeenCalledWith(1);
    expect(FakeBrowserWindow.instances).toHaveLength(0);
  });

  it('quits when the window closes, on every platform', async () => {
    await start();
    fake.app.fire('window-all-closed');
    expect(fake.app.quit).toHaveBeenCalled();
  });

  it('closing the window hides it and tells the core (which locks per policy); quitting closes it', async () => {
    const { window, windowClosed } = await start();
    const close = { preventDefault: vi.fn() };
    window.fire('close', close);
    expect(close.preventDefault).toHaveBeenCalled();
    expect(window.hide).toHaveBeenCalled();
    expect(windowClosed).toHaveBeenCalledTimes(1);

    fake.app.fire('before-quit');
    const onQuit = { preventDefault: vi.fn() };
    window.fire('close', onQuit);
    expect(onQuit.preventDefault).not.toHaveBeenCalled();
    expect(windowClosed).toHaveBeenCalledTimes(1);
  });
});

describe('tray and notifications', () => {
  const summary = (id: string, unread: number) => ({
    id,
    peerJid: 'bob@clinic.example',
    title: 'Bob',
    role: null,
    presence: 'available' as const,
    trust: 'pinned' as const,
    lastMessage: null,
    unread,
  });

  it('shows the unread total in the tray tooltip and the app badge', async () => {
    const { events } = await start();
    const tray = FakeTray.instances[0]!;
    events.emit('conversation:updated', summary('c1', 2));
    events.emit('conversation:updated', summary('c2', 3));
    events.emit('conversation:updated', summary('c1', 0));
    expect(tray.setToolTip).toHaveBeenLastCalledWith('Clinic Messenger — 3 unread');
    expect(fake.app.setBadgeCount).toHaveBeenLastCalledWith(3);
  });

  it('shows a notification and opens its conversation when clicked', async () => {
    const { events, window } = await start();
    const seen: unknown[] = [];
    events.subscribe((name, payload) => name === 'ui:openConversation' && seen.push(payload));
    events.emit('notification:shown', { conversationId: 'c7', title: 'New secure message', body: '' });
    const n = FakeNotification.instances[0]!;
    expect(n.options.title).toBe('New secure message');
    expect(n.show).toHaveBeenCalled();
    n.fire('click');
    expect(seen).toEqual([{ conversationId: 'c7' }]);
    expect(window.focus).toHaveBeenCalled();
  });

  it('an OS notification is silent when the person turned sounds off, and critical when urgent (issue 12 §7)', async () => {
    const { events } = await start();
    events.emit('notification:shown', { conversationId: 'c1', title: 'New message', body: '' });
    events.emit('notification:shown', { conversationId: 'c1', title: 'New message', body: '', silent: true });
    events.emit('notification:shown', { conversationId: 'c1', title: 'New urgent message', body: '', urgent: true });
    const opts = FakeNotification.instances.map((n) => n.options as { silent?: boolean; urgency?: string });
    expect(opts.map((o) => [o.silent, o.urgency])).toEqual([
      [false, undefined],
      [true, undefined],
      [false, 'critical'],
    ]);
  });

  it('clears the badge and closes notifications on lock', async () => {
    const { events } = await start();
    events.emit('conversation:updated', summary('c1', 4));
    events.emit('notification:shown', { conversationId: 'c1', title: 'New secure message', body: '' });
    events.emit('session:locked', { reason: 'idle' });
    expect(fake.app.setBadgeCount).toHaveBeenLastCalledWith(0);
    expect(FakeNotification.instances[0]!.close).toHaveBeenCalled();
  });

  it('closes a conversation’s notifications once it has nothing unread (read here or on another workstation)', async () => {
    const { events } = await start();
    events.emit('notification:shown', { conversationId: 'c1', title: 'New secure message', body: '' });
    events.emit('notification:shown', { conversationId: 'c2', title: 'New secure message', body: '' });
    const [c1, c2] = FakeNotification.instances;
    events.emit('conversation:updated', summary('c1', 1));
    expect(c1!.close).not.toHaveBeenCalled();
    events.emit('conversation:updated', summary('c1', 0));
    expect(c1!.close).toHaveBeenCalled();
    expect(c2!.close).not.toHaveBeenCalled();
  });

  it('shows no notification from session:locked until the next unlock', async () => {
    const { events } = await start();
    events.emit('session:locked', { reason: 'idle' });
    events.emit('notification:shown', { conversationId: 'c1', title: 'New secure message', body: '' });
    expect(FakeNotification.instances).toHaveLength(0);
    events.emit('session:unlocked', { profileId: 'p1' });
    events.emit('notification:shown', { conversationId: 'c1', title: 'New secure message', body: '' });
    expect(FakeNotification.instances).toHaveLength(1);
    expect(FakeNotification.instances[0]!.show).toHaveBeenCalled();
  });
});

describe('updates', () => {
  const feedPolicy = {
    updatesDisabled: false,
    updateFeedUrl: 'https://updates.clinic.example/feed',
    updateMinVersion: null,
    updateMaxVersion: null,
    trustedCaPem: null,
  };
  const SHA = Buffer.alloc(64, 7).toString('base64');
  const approved: UpdateDecision = {
    kind: 'may-install',
    version: '2.5.0',
    file: { url: 'Setup-2.5.0.exe', sha512: SHA, size: 1 },
  };
  const run = (decision: UpdateDecision, over: Partial<UpdaterOptions> = {}) => {
    const u = { ...updater, on: vi.fn(), setFeedURL: vi.fn(), checkForUpdates: vi.fn(async () => null) };
    const seen: UpdateDecision[] = [];
    const check = vi.fn(async (_input: CheckInput) => decision);
    const started = startUpdater({
      policy: feedPolicy,
      runningVersion: '2.4.0',
      installKind: 'nsis',
      platform: 'darwin',
      appUpdateYml: null,
      logger: silentLogger,
      loadUpdater: async () => u,
      onDecision: (d) => seen.push(d),
      check,
      ...over,
    });
    return { u, seen, check, started };
  };

  it('never starts electron-updater without a policy feed', async () => {
    await start({ updateFeedUrl: null });
    await Promise.resolve();
    expect(updater.setFeedURL).not.toHaveBeenCalled();
    expect(updater.checkForUpdates).not.toHaveBeenCalled();
  });

  it('starts electron-updater only for an approved update, and downloads only that version', async () => {
    const { u, seen, started } = run(approved);
    expect(await started).toBe(true);
    expect(seen).toEqual([approved]);
    expect(u.setFeedURL).toHaveBeenCalledWith({ provider: 'generic', url: 'https://updates.clinic.example/feed' });
    expect(u.autoDownload).toBe(false);
    expect(u.allowDowngrade).toBe(false);
    expect(u.checkForUpdates).toHaveBeenCalled();
    const onAvailable = u.on.mock.calls.find(([event]) => event === 'update-available')![1] as (i: unknown) => void;
    onAvailable({ version: '2.6.0' }); // the feed changed after the decision: not this one
    expect(u.downloadUpdate).not.toHaveBeenCalled();
    onAvailable({ version: '2.5.0' });
    expect(u.downloadUpdate).toHaveBeenCalledTimes(1);
  });

  it('leaves electron-updater alone when IT installs, the app is up to date, or the update is refused', async () => {
    const decisions: UpdateDecision[] = [
      { kind: 'it-installs', version: '2.5.0' },
      { kind: 'up-to-date', latest: '2.4.0' },
      { kind: 'refused', reason: 'out-of-range', detail: '2.5.0 is above the pinned maximum 2.4.9' },
      { kind: 'refused', reason: 'disabled', detail: 'updates are turned off by policy' },
    ];
    for (const decision of decisions) {
      const { u, seen, started } = run(decision);
      expect(await started).toBe(false);
      expect(seen).toEqual([decision]);
      expect(u.setFeedURL).not.toHaveBeenCalled();
    }
  });

  it('tells the decision whether the signature is verified, and which channel file to read', async () => {
    const win = run(approved, { platform: 'win32', appUpdateYml: 'provider: generic\nurl: https://u\n' });
    await win.started;
    expect(win.check.mock.calls[0]![0]).toMatchObject({ signatureVerified: false, channelFile: 'latest.yml' });
    const signed = run(approved, { platform: 'win32', appUpdateYml: 'publisherName:\n  - Clinic Group Ltd\n' });
    await signed.started;
    expect(signed.check.mock.calls[0]![0]).toMatchObject({ signatureVerified: true, installKind: 'nsis' });
    const linux = run(approved, { platform: 'linux', installKind: 'deb' });
    await linux.started;
    expect(linux.check.mock.calls[0]![0]).toMatchObject({ signatureVerified: false, channelFile: 'latest-linux.yml' });
  });

  it('auto-downloads only on macOS or on Windows with a pinned publisher', () => {
    expect(signatureVerifiedDownloads('linux', null)).toBe(false);
    expect(signatureVerifiedDownloads('win32', null)).toBe(false);
    expect(signatureVerifiedDownloads('win32', 'provider: generic\nurl: https://u\n')).toBe(false);
    expect(signatureVerifiedDownloads('win32', 'provider: generic\npublisherName:\n  - Clinic Group Ltd\n')).toBe(true);
    expect(signatureVerifiedDownloads('darwin', null)).toBe(true);
  });

  it('knows the MSI from the NSIS install, the AppImage from the deb, and a development run', () => {
    const base = { isPackaged: true, execPath: 'C:\\Apps\\CM\\Clinic Messenger.exe' };
    const nsisDir = (p: string) => p.endsWith('Uninstall Clinic Messenger.exe');
    expect(detectInstallKind({ ...base, platform: 'win32', env: {}, exists: nsisDir })).toBe('nsis');
    expect(detectInstallKind({ ...base, platform: 'win32', env: {}, exists: () => false })).toBe('msi');
    expect(detectInstallKind({ ...base, platform: 'linux', env: { APPIMAGE: '/home/a/CM.AppImage' } })).toBe(
      'appimage',
    );
    expect(detectInstallKind({ ...base, platform: 'linux', env: {} })).toBe('deb');
    expect(detectInstallKind({ ...base, platform: 'darwin', env: {} })).toBe('dmg');
    expect(detectInstallKind({ ...base, isPackaged: false, platform: 'win32', env: {} })).toBe('unpackaged');
    expect(channelFileFor('darwin')).toBe('latest-mac.yml');
  });
});

describe('Electron-ABI SQLCipher binding', () => {
  it('uses .native/electron in development and resources/native when packaged, only if present', () => {
    const seen: string[] = [];
    const exists = (p: string) => (seen.push(p), true);
    expect(sqliteNativeBindingPath({ isPackaged: false, resourcesPath: '/r', appPath: '/app', exists })).toBe(
      '/app/.native/electron/better_sqlite3.node',
    );
    expect(sqliteNativeBindingPath({ isPackaged: true, resourcesPath: '/r', appPath: '/app', exists })).toBe(
      '/r/native/better_sqlite3.node',
    );
    expect(
      sqliteNativeBindingPath({ isPackaged: true, resourcesPath: '/r', appPath: '/app', exists: () => false }),
    ).toBeUndefined();
  });

  it('passes it and the Electron paths to createAppCore', async () => {
    const doubles = fakeCore();
    const createCore = vi.fn(() => doubles.core);
    await startElectronShell({ createCore, bundleDir: '/app/dist/main', logger: silentLogger })!.ready;
    expect(createCore).toHaveBeenCalledWith({
      userDataDir: '/tmp/clinic-messenger-test-userdata',
      appVersion: '0.1.0-test',
      sqliteNativeBinding: undefined,
      chooseSavePath: expect.any(Function),
      openExternally: expect.any(Function),
      startDrag: expect.any(Function),
    });
  });

  it('drag-out starts the system drag of the copy from the window, under the system icon or the app one', async () => {
    const doubles = fakeCore();
    const createCore = vi.fn((_env: ShellEnvironment) => doubles.core);
    const { window } = await startElectronShell({ createCore, bundleDir: '/app/dist/main', logger: silentLogger })!
      .ready;
    const { startDrag } = createCore.mock.calls[0]![0];
    const contents = (window as unknown as FakeBrowserWindow).webContents;
    await startDrag('/profiles/p1/opened/ab12/scan.pdf');
    expect(fake.app.getFileIcon).toHaveBeenLastCalledWith('/profiles/p1/opened/ab12/scan.pdf');
    expect(contents.startDrag).toHaveBeenLastCalledWith({
      file: '/profiles/p1/opened/ab12/scan.pdf',
      icon: expect.objectContaining({ name: 'system file icon' }),
    });
    // No icon for the type (or none at all): the app's own, which macOS needs to start a drag.
    const appIcon = join(process.cwd(), 'resources', 'icons', 'tray@2x.png');
    fake.app.getFileIcon.mockResolvedValueOnce({ isEmpty: () => true, name: 'empty' });
    await startDrag('/profiles/p1/opened/cd34/notes.xyz');
    expect(contents.startDrag).toHaveBeenLastCalledWith({ file: '/profiles/p1/opened/cd34/notes.xyz', icon: appIcon });
    fake.app.getFileIcon.mockRejectedValueOnce(new Error('no icon'));
    await startDrag('/profiles/p1/opened/ef56/notes.xyz');
    expect(contents.startDrag).toHaveBeenLastCalledWith({ file: '/profiles/p1/opened/ef56/notes.xyz', icon: appIcon });
    // Once the window is gone there is nothing to drag from: a clear error, no crash.
    (window as unknown as FakeBrowserWindow).destroyed = true;
    await expect(startDrag('/profiles/p1/opened/ab12/scan.pdf')).rejects.toMatchObject({
      code: 'INTERNAL',
      message: 'Dragging files out is not available here.',
    });
  });

  it('"Open in another app" hands the path to the system, and says so when no app could open it', async () => {
    const doubles = fakeCore();
    const createCore = vi.fn((_env: ShellEnvironment) => doubles.core);
    await startElectronShell({ createCore, bundleDir: '/app/dist/main', logger: silentLogger })!.ready;
    const { openExternally } = createCore.mock.calls[0]![0];
    await openExternally('/profiles/p1/opened/ab12/scan.pdf');
    expect(fake.shell.openPath).toHaveBeenLastCalledWith('/profiles/p1/opened/ab12/scan.pdf');
    fake.shell.openPath.mockResolvedValueOnce('No application is associated with the specified file');
    await expect(openExternally('/profiles/p1/opened/cd34/scan.xyz')).rejects.toMatchObject({
      code: 'INTERNAL',
      message: 'No app on this computer could open the file.',
    });
  });

  it('"Save as…" asks the system save dialog, over the window, and answers null when cancelled', async () => {
    const doubles = fakeCore();
    const createCore = vi.fn((_env: ShellEnvironment) => doubles.core);
    const { window } = await startElectronShell({ createCore, bundleDir: '/app/dist/main', logger: silentLogger })!
      .ready;
    const { chooseSavePath } = createCore.mock.calls[0]![0];
    expect(await chooseSavePath('scan.pdf')).toBeNull();
    fake.dialog.showSaveDialog.mockResolvedValueOnce({ canceled: false, filePath: '/home/amy/scan.pdf' });
    expect(await chooseSavePath('scan.pdf')).toBe('/home/amy/scan.pdf');
    expect(fake.dialog.showSaveDialog).toHaveBeenLastCalledWith(window, {
      defaultPath: join('/tmp/clinic-messenger-test-userdata', 'scan.pdf'),
    });
  });
});
