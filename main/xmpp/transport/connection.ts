/**
 * One XMPP client connection: TLS required (STARTTLS or direct TLS, RFC 6120 §5), certificate
 * checked against the system store plus the clinic CA, SCRAM only (never PLAIN, never without
 * TLS), stream management with both library defects handled, our own reconnect with
 * exponential backoff and jitter, and a ping keep-alive (XEP-0199).
 *
 * Composed of: client-factory.ts (the library client and its safeguards), connection-state.ts
 * (the lifecycle as one state value), client-events.ts (library events → state), negotiate.ts
 * (one connect sequence under the watchdog), reconnect.ts, teardown.ts, keep-alive.ts.
 */
import type { Client, XmlElement } from '@xmpp/client';
import type { ConnectionState, ServerConfig } from '../../../common/contract/domain';
import { AppError } from '../../../common/result';
import { systemClock, type Clock } from '../../clock';
import { errorName, type Logger } from '../../log';
import { classifyError } from './classify-error';
import { wireClientEvents } from './client-events';
import { createXmppClient } from './client-factory';
import { createStateMachine, isStopError, isWanted, stoppedError, view } from './connection-state';
import { createKeepAlive } from './keep-alive';
import { rejectPendingIqs } from './lib-patches';
import { createNegotiator } from './negotiate';
import { NEGOTIATION_LIMITS, type NegotiationLimits } from './negotiation-watchdog';
import { createReconnects } from './reconnect';
import { createTeardown } from './teardown';
import type { SmTracker } from './stream-management';

export { classifyError } from './classify-error';

export interface ConnectionOptions extends ServerConfig {
  jid: string;
  password: string;
  caPems: (string | null | undefined)[];
  resource?: string;
  logger: Logger;
  reconnect?: { baseMs?: number; maxMs?: number };
  /** How long a connect sequence may wait for the server (negotiation-watchdog.ts); tests shorten it. */
  negotiation?: Partial<NegotiationLimits>;
  pingIntervalMs?: number;
  /** Reconnect waits, keep-alive, waits for the server (default: the system clock; messaging passes its transport clock). */
  clock?: Clock;
  /** `error`: what ended the connection, when `state` is 'error' (e.g. AUTH_FAILED with its SASL condition). */
  onState(state: ConnectionState, detail: string | null, error?: AppError): void;
  /** Every inbound stanza (messages, presences, IQ sets/gets not answered by the library). */
  onStanza(el: XmlElement): void;
  /** The stream is usable (SM enabled). `resumed`: the XEP-0198 session survived, nothing was lost. */
  onReady(resumed: boolean): void;
  /** Benchmarks: how long this thread took over each chunk from the server (XML parsing, stanza handlers). */
  onInboundData?: (ms: number, bytes: number) => void;
}

export interface XmppConnection {
  readonly client: Client;
  start(): Promise<void>;
  stop(): Promise<void>;
  isReady(): boolean;
  state(): { state: ConnectionState; detail: string | null };
  /** Sends and resolves when the server acknowledged it (XEP-0198). NOT_CONNECTED when offline. */
  sendAcked(el: XmlElement): Promise<void>;
  /** Sends without waiting for the ack (presence, markers, receipts). */
  send(el: XmlElement): Promise<void>;
  iq(el: XmlElement, timeoutMs?: number): Promise<XmlElement>;
}

export function createConnection(opts: ConnectionOptions): XmppConnection {
  const { logger } = opts;
  const clock = opts.clock ?? systemClock;
  const machine = createStateMachine((v, s) =>
    opts.onState(v.state, v.detail, s.kind === 'error' ? s.error : undefined),
  );
  const isOnline = () => machine.current().kind === 'online';
  // The parts call each other only once the connection runs, after all of them exist.
  const { xmpp, services, domain, sockets, sm } = createXmppClient({
    ...opts,
    clock,
    onProgress: () => negotiator.progress(),
  });
  const teardown = createTeardown(xmpp, sockets, (err) => negotiator.abort(err), clock);
  const limits: NegotiationLimits = { ...NEGOTIATION_LIMITS, ...opts.negotiation };
  const negotiator = createNegotiator({
    xmpp,
    services,
    domain,
    limits,
    clock,
    logger,
    sockets,
    teardown: () => teardown.close(),
  });
  const reconnects = createReconnects({
    xmpp,
    machine,
    clock,
    logger,
    baseMs: opts.reconnect?.baseMs ?? 1_000,
    maxMs: opts.reconnect?.maxMs ?? 60_000,
    negotiate: negotiator.run,
  });
  const keepAlive = createKeepAlive(xmpp, domain, clock, logger, opts.pingIntervalMs ?? 60_000, isOnline);
  wireClientEvents({
    xmpp,
    sm,
    machine,
    logger,
    onStanza: (el) => opts.onStanza(el),
    onReady: (resumed) => opts.onReady(resumed),
    close: () => teardown.close(),
    reconnect: reconnects.schedule,
  });

  const requireOnline = () => {
    if (!isOnline()) throw new AppError('NOT_CONNECTED', 'Not connected to the messaging server.');
  };

  return {
    client: xmpp,
    async start() {
      if (isWanted(machine.current())) return;
      machine.dispatch({ type: 'start' });
      await teardown.settled();
      // stop() during the wait above.
      if (machine.current().kind !== 'connecting') throw stoppedError();
      const online = machine.untilOnline();
      // Observed here so a stop before the race is never unhandled; it is awaited (and thrown) below.
      online.catch(() => undefined);
      for (let tried = 1; ; tried++) {
        try {
          // stop() ends `online` at once: a start() in the middle of the TLS handshake returns at once.
          await Promise.race([negotiator.run(), online]);
          break;
        } catch (err) {
          // A stop that overtook this start is no connection error (even if another start followed it).
          const now = machine.current().kind;
          const stopped = isStopError(err) || now === 'stopping' || now === 'offline';
          const e = stopped ? stoppedError() : classifyError(err);
          // Another address of the same server may answer (a cluster node is down): each is tried once.
          if (!stopped && e.code === 'NOT_CONNECTED' && tried < negotiator.addresses) {
            await teardown.close();
            reconnects.cancel(); // the failed attempt's disconnect may have armed one: this loop is the retry
            if (isWanted(machine.current())) continue;
            throw stoppedError();
          }
          if (!stopped) machine.dispatch({ type: 'fatal', error: e });
          await teardown.close();
          throw e;
        }
      }
      await online;
      keepAlive.start();
    },
    async stop() {
      machine.dispatch({ type: 'stop' });
      reconnects.cancel();
      keepAlive.stop();
      xmpp.reconnect.stop();
      await teardown.close();
      // Requests still waiting for an answer end now: their callers (a key refresh) learn it was
      // a stop, not a timeout 20 s later.
      rejectPendingIqs(xmpp, new AppError('NOT_CONNECTED', 'Messaging was stopped.', { cause: 'stopped' }));
      machine.dispatch({ type: 'stopped' });
    },
    isReady: isOnline,
    state: () => view(machine.current()),
    async sendAcked(el) {
      requireOnline();
      return sendAcked(xmpp, sm, el);
    },
    async send(el) {
      requireOnline();
      await write(xmpp, el);
    },
    async iq(el, timeoutMs = 20_000) {
      requireOnline();
      return xmpp.iqCaller.request(el, timeoutMs);
    },
  };
}

/** A write the socket refused: the stream is going down (EPIPE, a closed socket), not our fault. */
const writeFailed = (err: unknown): AppError =>
  err instanceof AppError
    ? err
    : new AppError('NOT_CONNECTED', 'The connection dropped while sending.', { cause: errorName(err) });

const write = (xmpp: Client, el: XmlElement): Promise<void> =>
  xmpp.send(el).catch((err: unknown) => Promise.reject(writeFailed(err)));

/** Writes `el`; resolves once the server acknowledged it (XEP-0198), or once written without SM. */
export async function sendAcked(xmpp: Client, sm: SmTracker, el: XmlElement): Promise<void> {
  if (!xmpp.streamManagement.enabled) return write(xmpp, el);
  const acked = sm.acked(el);
  try {
    await xmpp.send(el);
    sm.written();
  } catch (err) {
    // The stream broke under the write. A stanza already in the SM queue is the queue's: the
    // server may have it, and a resumption sends it again (lib-patches.ts queueStanzasAsWritten),
    // so its ack decides, not this error (else the outbox would send it a second time).
    if (!sm.queued(el)) {
      sm.forget(el);
      throw writeFailed(err);
    }
  }
  return acked;
}
