/**
 * Makes a stop() at any point of the connect sequence safe (TCP connect, stream open,
 * STARTTLS (RFC 6120 §5.4), direct TLS handshake, SASL, bind). @xmpp/client 0.14 has
 * three defects here, each of which crashed the whole main process (found with a real Prosody,
 * see test/integration/xmpp-stop-during-connect.test.ts):
 *
 * 1. Sockets without an 'error' listener. The STARTTLS wrapper socket (@xmpp/tls/lib/Socket.js)
 *    loses its only error listener when its 'connect' promise settles, and every socket's
 *    listeners are removed on 'close'. The library's stop() then writes `</stream:stream>` to a
 *    socket that it already end()ed (a second stop, or one racing the TLS upgrade): Node emits
 *    ERR_STREAM_WRITE_AFTER_END as an 'error' event nobody listens to, i.e. an uncaught exception.
 *    → every socket the client creates gets our listener for its whole life.
 * 2. `Connection._onData` writes to `this.parser`, which is null once the stream closed (or a
 *    close timed out) while the socket is still open: a TypeError thrown from a socket 'data'
 *    event, again uncaught. → data without a parser is dropped (lib-patches.ts, hookClientSockets).
 * 3. Graceful close of a half-negotiated stream writes into sockets that are mid-handshake.
 *    → `teardown()` never writes: it destroys every socket and resets the client to 'offline'.
 *
 * 4. A negotiation step cut off by the teardown (SASL's `procedure`, `sendReceive`, the 'online'
 *    promise) stays subscribed to the client forever and consumes the NEXT stream's elements:
 *    after a stop during SCRAM, the next start() answered the new challenge with the old nonce
 *    and got a false AUTH_FAILED. → `dropStale()` before every fresh connect removes every client
 *    listener that was not there when the client was first connected.
 *
 * (The fifth, `Connection.start()` leaving its 'online' promise unobserved, is avoided by not
 * calling it: see openStream in negotiate.ts.)
 */
import type { EventEmitter } from 'node:events';
import type { Client } from '@xmpp/client';
import type { Clock } from '../../clock';
import type { Logger } from '../../log';
import { hookClientSockets, hookStarttls, patchTlsSocketConnect } from './lib-patches';

/** A net.Socket, a tls.TLSSocket, or @xmpp/tls's wrapper (an EventEmitter whose `.socket` is the TLSSocket). */
type Sock = EventEmitter & { socket?: Sock | null; destroy?: (err?: Error) => void; destroyed?: boolean };

interface ClientInternals {
  socket: Sock | null;
  _detachSocket(): void;
  _detachParser(): void;
  _status(status: string, ...args: unknown[]): void;
}

/** Thrown into pending connect steps when we tear the connection down ourselves. */
export class TeardownError extends Error {
  readonly code = 'XMPP_TEARDOWN';
  constructor() {
    super('connection torn down by stop()');
    this.name = 'TeardownError';
  }
}

export interface SocketGuard {
  /** Destroys every socket of this client (no writes), waits briefly for 'close', leaves it 'offline'. */
  teardown(): Promise<void>;
  /** Call right before a fresh connect: unsubscribes what earlier, unfinished attempts left behind. */
  dropStale(): void;
}

/**
 * `onInbound`: called for every chunk the server sends (after TLS: decrypted), a sign of life.
 * `handled` (benchmarks): how long this thread took over each chunk.
 */
export function guardSockets(
  xmpp: Client,
  logger: Logger,
  onInbound: () => void,
  clock: Clock,
  handled?: (ms: number, bytes: number) => void,
): SocketGuard {
  patchTlsSocketConnect();
  const c = xmpp as unknown as ClientInternals;
  const seen = new WeakSet<object>();
  const live = new Set<Sock>();

  const onError = (err: unknown) => {
    if (err instanceof TeardownError) return;
    const e = err as { code?: string; name?: string } | null;
    logger.info('xmpp: socket error', { code: e?.code ?? e?.name ?? 'unknown' });
  };
  const guard = (s: Sock | null | undefined) => {
    if (!s || typeof s.on !== 'function') return;
    if (!seen.has(s)) {
      seen.add(s);
      s.on('error', onError);
      live.add(s);
      s.once('close', () => live.delete(s));
      // The plain socket may be upgraded by STARTTLS (built inside @xmpp/starttls): guard the
      // wrapper it gets, before its handshake and again after it (lib-patches.ts).
      hookStarttls(s, { wrapper: (w) => guard(w as Sock) });
    }
    if (s.socket && s.socket !== s) guard(s.socket);
  };

  hookClientSockets(xmpp, {
    attaching: (socket) => guard(socket as Sock),
    data: onInbound,
    ...(handled ? { handled } : {}),
  });
  // Direct TLS: the wrapper is attached before its connect() creates the TLSSocket.
  xmpp.on('connect', () => guard(c.socket));

  type Emitter = EventEmitter & { rawListeners(event: string | symbol): unknown[] };
  const emitter = xmpp as unknown as Emitter;
  let baseline: Map<string | symbol, Set<unknown>> | null = null;

  return {
    dropStale() {
      if (!baseline) {
        // First connect: everything subscribed so far is permanent wiring (ours and the library's).
        baseline = new Map(emitter.eventNames().map((e) => [e, new Set(emitter.rawListeners(e))]));
        return;
      }
      for (const event of emitter.eventNames()) {
        const keep = baseline.get(event);
        for (const fn of emitter.rawListeners(event))
          if (!keep?.has(fn)) emitter.removeListener(event, fn as (...a: unknown[]) => void);
      }
    },
    async teardown() {
      const all = new Set([...live].flatMap((s) => [s, ...(s.socket ? [s.socket] : [])]));
      // TLS layers first, then the TCP socket under them: a TLSSocket whose TCP socket is gone first
      // never reports 'close'.
      const sockets = [...all]
        .filter((s) => typeof s.destroy === 'function' && !s.destroyed)
        .sort((a, b) => Number('encrypted' in b) - Number('encrypted' in a));
      const closed = sockets.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.once('close', () => resolve());
            // With an error, pending `promise(socket, 'connect')` steps reject instead of hanging.
            s.destroy?.(new TeardownError());
          }),
      );
      let timer: unknown = null;
      await Promise.race([Promise.all(closed), new Promise<void>((r) => (timer = clock.setTimeout(r, 1_000)))]);
      clock.clearTimeout(timer);
      live.clear();
      c._detachParser();
      c._detachSocket();
      c._status('offline');
    },
  };
}
