/**
 * The Electron IPC wrapper (ARCHITECTURE.md §3): one ipcMain.handle per contract channel, callers
 * other than our own window's main frame on app:// are refused before the router sees anything,
 * and events reach the window on the one transport channel.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { channelNames, EVENT_TRANSPORT_CHANNEL } from '../../common/ipc-contract';
import { silentLogger } from '../../main/log';
import { FakeBrowserWindow, FakeWebContents, fake, fakeCore, resetElectronFake } from '../support/electron-fake';

vi.mock('electron', async () => (await import('../support/electron-fake')).electronModule);
vi.mock('electron-updater', () => ({ autoUpdater: {} }));

const { startElectronShell } = await import('../../main/electron/start');

async function start() {
  const doubles = fakeCore();
  const handle = startElectronShell({
    createCore: () => doubles.core,
    bundleDir: '/app/dist/main',
    logger: silentLogger,
  });
  const { window } = await handle!.ready;
  return { ...doubles, window: window as unknown as FakeBrowserWindow };
}

const invoke = (channel: string, event: unknown, payload: unknown) => {
  const handler = fake.ipcHandlers.get(channel);
  if (!handler) throw new Error(`no ipc handler for ${channel}`);
  return handler(event, payload) as Promise<unknown>;
};

beforeEach(() => {
  resetElectronFake();
});

describe('ipcMain wiring', () => {
  it('registers exactly one handler per contract channel', async () => {
    await start();
    expect([...fake.ipcHandlers.keys()].sort()).toEqual([...channelNames].sort());
  });

  it('passes calls from the app main frame to the router under the registered channel name', async () => {
    const { window, dispatch } = await start();
    const event = { sender: window.webContents, senderFrame: window.webContents.mainFrame };
    const answer = await invoke('app:info', event, null);
    expect(answer).toEqual({ ok: true, value: null });
    expect(dispatch).toHaveBeenCalledWith('app:info', null);
  });

  it('refuses an iframe inside our own window', async () => {
    const { window, dispatch } = await start();
    const iframe = { url: 'app://renderer/index.html' };
    const answer = await invoke('vault:status', { sender: window.webContents, senderFrame: iframe }, null);
    expect(answer).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(dispatch).not.toHaveBeenCalled();
  });

  it('refuses a foreign web contents even when its main frame claims our URL', async () => {
    const { dispatch } = await start();
    const other = new FakeWebContents();
    const answer = await invoke('vault:status', { sender: other, senderFrame: other.mainFrame }, null);
    expect(answer).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(dispatch).not.toHaveBeenCalled();
  });

  it('refuses a call whose sender is another web contents, whatever frame it names', async () => {
    const { window, dispatch } = await start();
    const answer = await invoke(
      'vault:status',
      { sender: new FakeWebContents(), senderFrame: window.webContents.mainFrame },
      null,
    );
    expect(answer).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(dispatch).not.toHaveBeenCalled();
  });

  it('refuses our main frame once it shows anything but app://renderer', async () => {
    const { window, dispatch } = await start();
    for (const url of [
      'https://evil.example/',
      'file:///etc/passwd',
      'app://other/index.html',
      'app://renderer.evil/x',
    ]) {
      window.webContents.mainFrame.url = url;
      const answer = await invoke(
        'messages:send',
        { sender: window.webContents, senderFrame: window.webContents.mainFrame },
        { conversationId: 'c', body: 'x' },
      );
      expect(answer, url).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    }
    expect(dispatch).not.toHaveBeenCalled();
  });

  it('refuses a destroyed frame and calls after the window closed', async () => {
    const { window, dispatch } = await start();
    expect(await invoke('app:info', { sender: window.webContents, senderFrame: null }, null)).toMatchObject({
      error: { code: 'FORBIDDEN' },
    });
    window.fire('closed');
    expect(
      await invoke('app:info', { sender: window.webContents, senderFrame: window.webContents.mainFrame }, null),
    ).toMatchObject({
      error: { code: 'FORBIDDEN' },
    });
    expect(dispatch).not.toHaveBeenCalled();
  });
});

describe('events to the renderer', () => {
  it('forwards bus events on the transport channel with name and payload', async () => {
    const { window, events } = await start();
    events.emit('connection:state', { state: 'online', detail: null });
    expect(window.webContents.send).toHaveBeenCalledWith(EVENT_TRANSPORT_CHANNEL, 'connection:state', {
      state: 'online',
      detail: null,
    });
  });

  it('drops events after the window is gone', async () => {
    const { window, events } = await start();
    window.destroyed = true;
    events.emit('session:locked', { reason: 'idle' });
    expect(window.webContents.send).not.toHaveBeenCalled();
  });
});
