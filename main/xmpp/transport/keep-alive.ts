/** XEP-0199 keep-alive: a ping the server must answer, or the connection is dropped to reconnect. */
import { xml, type Client } from '@xmpp/client';
import { every, type Clock } from '../../clock';
import type { Logger } from '../../log';

export interface KeepAlive {
  start(): void;
  stop(): void;
}

/** `isOnline`: pings only while the stream is usable (between reconnects they would only time out). */
export function createKeepAlive(
  xmpp: Client,
  domain: string,
  clock: Clock,
  logger: Logger,
  intervalMs: number,
  isOnline: () => boolean,
): KeepAlive {
  let stopTimer: (() => void) | null = null;
  const ping = () => {
    if (!isOnline()) return;
    xmpp.iqCaller
      .request(xml('iq', { type: 'get', to: domain }, xml('ping', { xmlns: 'urn:xmpp:ping' })), 15_000)
      .catch(() => {
        logger.warn('xmpp: ping timed out; dropping the connection to reconnect');
        // A failed disconnect leaves a dead stream that the next ping drops again; nothing to report.
        void xmpp.disconnect().catch(() => undefined);
      });
  };
  const stop = () => {
    stopTimer?.();
    stopTimer = null;
  };
  return {
    start() {
      stop();
      stopTimer = every(clock, intervalMs, ping);
    },
    stop,
  };
}
