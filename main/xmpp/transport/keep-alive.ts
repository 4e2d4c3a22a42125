/**
 * XEP-0199 keep-alive: a ping the server must answer, or the connection is dropped to reconnect.
 * Only the stream a ping went out on is dropped for it: @xmpp/iq keeps a request pending across a
 * reconnect, so a ping sent on a stream that died meanwhile times out later, and must not take
 * down the healthy stream that replaced it (a reconnect nobody asked for; one candidate cause of a
 * rooms-restart failure in CI, where a workstation was found reconnecting when a case began).
 */
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
  // Which stream a ping went out on: every disconnect starts the next one.
  let stream = 0;
  xmpp.on('disconnect', () => {
    stream += 1;
  });
  const ping = () => {
    if (!isOnline()) return;
    const sentOn = stream;
    xmpp.iqCaller
      .request(xml('iq', { type: 'get', to: domain }, xml('ping', { xmlns: 'urn:xmpp:ping' })), 15_000)
      .catch(() => {
        // That stream is gone already (and reconnected, or reconnecting): nothing to drop.
        if (sentOn !== stream) return;
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
