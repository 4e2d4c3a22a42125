/**
 * Preload: exposes `window.clinic`, built from the contract. Functions only — never
 * ipcRenderer, never process.env (STYLE.md). Runs sandboxed: bundled to one CommonJS file.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { createClinicApi } from '../common/client-api';
import { EVENT_TRANSPORT_CHANNEL } from '../common/contract/names';
import type { ChannelName } from '../common/ipc-contract';
import type { Result } from '../common/result';

const api = createClinicApi({
  invoke: (channel: ChannelName, payload: unknown) => ipcRenderer.invoke(channel, payload) as Promise<Result<unknown>>,
  subscribe: (listener) => {
    const handler = (_event: unknown, name: string, payload: unknown) => listener(name, payload);
    ipcRenderer.on(EVENT_TRANSPORT_CHANNEL, handler);
    return () => {
      ipcRenderer.removeListener(EVENT_TRANSPORT_CHANNEL, handler);
    };
  },
});

contextBridge.exposeInMainWorld('clinic', api);
