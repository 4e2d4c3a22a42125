/**
 * The one way a connection is closed (stop, failed start, fatal error), serialized so two closes
 * never race on the same socket. A stream that is online is closed politely (SM <a/>, then
 * </stream:stream>, RFC 6120 §4.4), bounded in time; anything else (TCP connect, TLS handshake,
 * STARTTLS, SASL) is never written to: its sockets are destroyed (socket-guard.ts).
 */
import type { Client } from '@xmpp/client';
import type { Clock } from '../../clock';
import { TeardownError, type SocketGuard } from './socket-guard';

/** How long an interrupted negotiation step may still resume (SCRAM hashing on a slow PC). */
const STALE_SETTLE_MS = 300;
/** The polite close of an online stream gets this long before its sockets are destroyed. */
const POLITE_CLOSE_MS = 3_000;

export interface Teardown {
  /** Closes the connection; joins a close already under way. */
  close(): Promise<void>;
  /**
   * Resolves once no close is under way and a negotiation step it cut off (e.g. SCRAM still
   * hashing, which resumes a few ms later and would write into the NEXT stream: a false
   * AUTH_FAILED) has had time to fail on its dead socket.
   */
  settled(): Promise<void>;
}

/** `abortNegotiation`: ends the connect sequence under way now, not when the library's own step wait runs out. */
export function createTeardown(
  xmpp: Client,
  sockets: SocketGuard,
  abortNegotiation: (err: Error) => void,
  clock: Clock,
): Teardown {
  let closing: Promise<void> | null = null;
  /** When the last close cut a negotiation short (clock ms), 0 if none did. */
  let cutAt = 0;

  const run = async (): Promise<void> => {
    abortNegotiation(new TeardownError());
    if (xmpp.status !== 'online' && xmpp.status !== 'offline') cutAt = clock.now();
    if (xmpp.status === 'online') {
      let timer: unknown = null;
      // A polite close that fails is finished by destroying the sockets just below.
      await Promise.race([
        xmpp.stop().catch(() => undefined),
        new Promise<void>((r) => (timer = clock.setTimeout(r, POLITE_CLOSE_MS))),
      ]);
      clock.clearTimeout(timer);
    }
    await sockets.teardown();
  };

  return {
    close: () => (closing ??= run().finally(() => (closing = null))),
    async settled() {
      if (closing) await closing;
      // Messaging never waits here (a fresh connection per start); a direct restart might.
      const settle = cutAt + STALE_SETTLE_MS - clock.now();
      if (settle > 0) await new Promise<void>((r) => clock.setTimeout(r, settle));
    },
  };
}
