/**
 * preload/index.ts: exposes exactly `window.clinic` through contextBridge, built from the
 * contract; the page gets functions, never ipcRenderer or process.env.
 */
import { describe, expect, it, vi } from 'vitest';
import { channelNames, EVENT_TRANSPORT_CHANNEL } from '../../common/ipc-contract';

const electron = vi.hoisted(() => ({
  contextBridge: { exposeInMainWorld: vi.fn() },
  ipcRenderer: {
    invoke: vi.fn(async () => ({ ok: true, value: null })),
    on: vi.fn(),
    removeListener: vi.fn(),
    send: vi.fn(),
    sendSync: vi.fn(),
  },
}));
vi.mock('electron', () => electron);

await import('../../preload/index');

describe('preload', () => {
  it('exposes one global, `clinic`, and nothing else', () => {
    expect(electron.contextBridge.exposeInMainWorld).toHaveBeenCalledTimes(1);
    expect(electron.contextBridge.exposeInMainWorld.mock.calls[0]![0]).toBe('clinic');
  });

  it('exposes functions only: no ipcRenderer, no process, no env', () => {
    const api = electron.contextBridge.exposeInMainWorld.mock.calls[0]![1] as Record<string, unknown>;
    const seen: unknown[] = [];
    const visit = (v: unknown) => {
      seen.push(v);
      if (v && typeof v === 'object') Object.values(v).forEach(visit);
    };
    visit(api);
    for (const v of seen) {
      expect(v).not.toBe(electron.ipcRenderer);
      expect(v).not.toBe(process);
      expect(v).not.toBe(process.env);
      expect(typeof v === 'function' || (typeof v === 'object' && v !== null)).toBe(true);
    }
    expect(Object.keys(api)).not.toContain('ipcRenderer');
  });

  it('invokes contract channels and listens on the one event channel', async () => {
    const api = electron.contextBridge.exposeInMainWorld.mock.calls[0]![1] as {
      app: { info(): Promise<unknown> };
      on(e: string, l: () => void): () => void;
    };
    await api.app.info();
    expect(electron.ipcRenderer.invoke).toHaveBeenCalledWith('app:info', null);
    expect(channelNames).toContain('app:info');
    const off = api.on('session:locked', () => {});
    expect(electron.ipcRenderer.on).toHaveBeenCalledWith(EVENT_TRANSPORT_CHANNEL, expect.any(Function));
    off();
    expect(electron.ipcRenderer.send).not.toHaveBeenCalled();
    expect(electron.ipcRenderer.sendSync).not.toHaveBeenCalled();
  });
});
