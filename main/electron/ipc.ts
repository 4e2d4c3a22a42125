/*
 * SECURITY-SENSITIVE — CHANGE ONLY WITH REVIEW. This file applies the hardening from hardening.ts;
 * test/unit/electron-*.test.ts fail if a line that does so is removed.
 */
/**
 * ipcMain wiring: one `ipcMain.handle` per contract channel, each refusing senders that are not
 * our own window's main frame (hardening.ts isTrustedSender), then handing the payload to the
 * transport-agnostic router. Events from the core's bus go to the window on one channel.
 */
import type { BrowserWindow, IpcMain } from 'electron';
import { channelNames, EVENT_TRANSPORT_CHANNEL } from '../../common/ipc-contract';
import { fail } from '../../common/result';
import type { EventBus } from '../events';
import type { Router } from '../ipc/router';
import type { Logger } from '../log';
import { isTrustedSender } from './hardening';

export interface IpcWiringOptions {
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  router: Router;
  events: EventBus;
  /** The one window, or null before it exists / after it closed. */
  getWindow: () => BrowserWindow | null;
  logger: Logger;
}

/** Returns a function that removes every handler and the event forwarder. */
export function wireIpc({ ipcMain, router, events, getWindow, logger }: IpcWiringOptions): () => void {
  for (const channel of channelNames) {
    ipcMain.handle(channel, (event, payload: unknown) => {
      if (!isTrustedSender(event, getWindow())) {
        logger.warn('ipc call refused: sender is not the app main frame', { channel });
        return fail('FORBIDDEN', 'This caller may not use the app API.');
      }
      // `channel` comes from the contract loop above, never from the renderer.
      return router.dispatch(channel, payload);
    });
  }
  const unsubscribe = events.subscribe((name, payload) => {
    const win = getWindow();
    if (!win || win.isDestroyed() || win.webContents.isDestroyed()) return;
    win.webContents.send(EVENT_TRANSPORT_CHANNEL, name, payload);
  });
  return () => {
    unsubscribe();
    for (const channel of channelNames) ipcMain.removeHandler(channel);
  };
}
