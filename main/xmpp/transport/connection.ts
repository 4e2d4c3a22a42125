/**
 * One XMPP client connection: TLS required (STARTTLS or direct TLS, RFC 6120 §5), certificate
 * checked against the system store plus the clinic CA, SCRAM only (never PLAIN, never without
 * TLS), stream management with both library defects handled, our own reconnect with
 * exponential backoff and jitter, and a ping keep-alive (XEP-0199).
 */
import { client, xml, type Client, type XmlElement } from '@xmpp/client';
import type { ConnectionState, ServerConfig } from '../../../common/contract/domain';
import { AppError } from '../../../common/result';
import { backoffMs } from '../../backoff';
import { every, systemClock, type Clock } from '../../clock';
import { errorName, type Logger } from '../../log';
import { trackStreamManagement } from './stream-management';
import { NEGOTIATION_LIMITS, watchNegotiation, type NegotiationLimits, type NegotiationWatchdog } from './negotiation-watchdog';
import { observeEarlyIqErrors, rejectPendingIqs } from './lib-patches';
import { guardSockets, TeardownError } from './socket-guard';
import { installTlsTrust, isCertificateError, trustOptions } from './tls-trust';

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
  onState(state: ConnectionState, detail: string | null): void;
  /** Every inbound stanza (messages, presences, IQ sets/gets not answered by the library). */
  onStanza(el: XmlElement): void;
  /** The stream is usable (SM enabled). `resumed`: the XEP-0198 session survived, nothing was lost. */
  onReady(resumed: boolean): void;
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


/** Maps whatever the library threw to one of our error codes. */
export function classifyError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (isCertificateError(err)) {
    return new AppError('TLS_REQUIRED', "The server's certificate is not trusted (wrong name, expired, or unknown issuer).", { reason: 'certificate' });
  }
  const e = err as { name?: string; condition?: string; code?: string } | null;
  if (e?.name === 'SASLError' || e?.condition === 'not-authorized' || e?.condition === 'account-disabled') {
    return new AppError('AUTH_FAILED', 'The server refused the user name or password.', { condition: e?.condition ?? null });
  }
  return new AppError('NOT_CONNECTED', 'Cannot reach the messaging server.', { cause: e?.code ?? e?.condition ?? e?.name ?? 'unknown' });
}

/** How long an interrupted negotiation step may still resume (SCRAM hashing on a slow PC). */
const STALE_SETTLE_MS = 300;
/** The library's own per-step wait once online: bounds the polite close (`</stream:stream>`). */
const CLOSE_STEP_MS = 2_000;

export function createConnection(opts: ConnectionOptions): XmppConnection {
  const [local, domain] = opts.jid.split('@') as [string, string];
  const host = opts.host ?? domain;
  const direct = opts.tls === 'direct';
  const port = opts.port ?? (direct ? 5223 : 5222);
  const service = `${direct ? 'xmpps' : 'xmpp'}://${host}:${port}`;
  const { logger } = opts;
  const clock = opts.clock ?? systemClock;
  const baseMs = opts.reconnect?.baseMs ?? 1_000;
  const maxMs = opts.reconnect?.maxMs ?? 60_000;
  const limits: NegotiationLimits = { ...NEGOTIATION_LIMITS, ...opts.negotiation };
  /** The connect sequence under way, if any: every sign of life from the server feeds it. */
  let watchdog: NegotiationWatchdog | null = null;

  const xmpp = client({
    service,
    domain,
    resource: opts.resource,
    credentials: async (authenticate, mechanisms, _fast, entity) => {
      // RFC 6120 §6: credentials only ever travel inside TLS; SCRAM only (XEP-0474-style downgrade refusal).
      if (!entity.isSecure()) throw new AppError('TLS_REQUIRED', 'The server does not offer an encrypted (TLS) connection. Nothing was sent.');
      if (!mechanisms.includes('SCRAM-SHA-1')) throw new AppError('AUTH_FAILED', 'The server offers no SCRAM sign-in; refusing weaker mechanisms.');
      await authenticate({ username: local, password: opts.password }, 'SCRAM-SHA-1');
    },
  });
  installTlsTrust(xmpp, trustOptions(domain, opts.caPems));
  const sockets = guardSockets(xmpp, logger, () => watchdog?.progress(), clock);
  // A status change during negotiation follows an answer of the server (TCP accepted, TLS
  // handshake done, stream header, SASL success…): progress too.
  xmpp.on('status', () => watchdog?.progress());
  // Chat is many small writes: without TCP_NODELAY, Nagle + delayed ACK adds ~40 ms per message.
  xmpp.on('connect', () => {
    type NoDelay = { setNoDelay?: (on: boolean) => void; socket?: { setNoDelay?: (on: boolean) => void } };
    const sock = xmpp.socket as NoDelay | null;
    sock?.setNoDelay?.(true);
    sock?.socket?.setNoDelay?.(true);
  });
  // Our own backoff replaces the library's fixed 1 s reconnect; stopping it first also means stop()
  // cannot be followed by a surprise re-login (PROTOCOL.md, ejabberd section).
  xmpp.reconnect.stop();
  const sm = trackStreamManagement(xmpp, clock);
  observeEarlyIqErrors(xmpp);
  xmpp.streamManagement.requestAckInterval = 15_000;
  xmpp.streamManagement.timeout = 20_000;
  // Ask for the ack soon after a run of sends: a message counts as sent only once acked.
  xmpp.streamManagement.requestAckDebounce = 10;

  let state: ConnectionState = 'offline';
  let detail: string | null = null;
  let ready = false;
  let wanted = false;
  let stopRequested = false;
  let attempt = 0;
  let retryTimer: unknown = null;
  let stopPing: (() => void) | null = null;
  let readyWaiter: { resolve: () => void; reject: (e: AppError) => void } | null = null;

  const setState = (s: ConnectionState, d: string | null) => {
    if (s === state && d === detail) return;
    state = s;
    detail = d;
    opts.onState(s, d);
  };

  const becomeReady = async (resumed: boolean) => {
    // Defect 2: hold everything until <enabled/> so we never over-acknowledge.
    const enabled = await sm.waitEnabled(10_000);
    if (xmpp.status !== 'online') return;
    if (!enabled) logger.warn('xmpp: stream management not enabled; acks fall back to write completion');
    ready = true;
    attempt = 0;
    setState('online', null);
    readyWaiter?.resolve();
    readyWaiter = null;
    try {
      opts.onReady(resumed);
    } catch (err) {
      logger.error('xmpp: onReady failed', { error: errorName(err) });
    }
  };
  xmpp.on('online', () => void becomeReady(false));
  xmpp.streamManagement.on('resumed', () => void becomeReady(true));
  xmpp.on('stanza', (el: XmlElement) => {
    try {
      opts.onStanza(el);
    } catch (err) {
      // A handler bug must never take the connection down (hostile input is handled inside).
      logger.error('xmpp: stanza handler threw', { error: errorName(err), stanza: el.name });
    }
  });
  xmpp.on('error', (err: unknown) => {
    if (err instanceof TeardownError) return; // our own stop(), not a network problem
    const e = classifyError(err);
    logger.warn('xmpp: connection error', { code: e.code });
    if (e.code === 'AUTH_FAILED' || e.code === 'TLS_REQUIRED') {
      // Retrying cannot help: stop and say why.
      wanted = false;
      setState('error', e.code);
      readyWaiter?.reject(e);
      readyWaiter = null;
      void teardown();
    }
  });
  xmpp.on('disconnect', () => {
    ready = false;
    if (wanted) {
      setState('connecting', 'reconnecting');
      scheduleReconnect();
    } else if (state !== 'error') setState('offline', null);
  });

  function scheduleReconnect() {
    if (retryTimer !== null || !wanted) return;
    const delay = backoffMs(attempt, { baseMs, maxMs, maxExponent: 16, jitter: 'equal' });
    attempt += 1;
    retryTimer = clock.setTimeout(() => {
      retryTimer = null;
      if (!wanted || (xmpp.status !== 'disconnect' && xmpp.status !== 'offline')) return;
      negotiate().catch((err: unknown) => {
        const e = classifyError(err);
        logger.info('xmpp: reconnect attempt failed', { code: e.code, attempt });
        if (wanted && e.code === 'NOT_CONNECTED' && (xmpp.status === 'disconnect' || xmpp.status === 'offline')) scheduleReconnect();
      });
    }, delay);
  }

  /**
   * The one way a connection is closed (stop, failed start, fatal error), serialized so two
   * closes never race on the same socket. A stream that is online is closed politely (SM <a/>,
   * then </stream:stream>, RFC 6120 §4.4), bounded in time; anything else (TCP connect, TLS
   * handshake, STARTTLS, SASL) is never written to: its sockets are destroyed (socket-guard.ts).
   */
  let closing: Promise<void> | null = null;
  let cutAt = 0;
  const teardown = (): Promise<void> =>
    (closing ??= (async () => {
      // A connect sequence under way ends now, not when the library's own step wait runs out.
      watchdog?.abort(new TeardownError());
      watchdog = null;
      if (xmpp.status !== 'online' && xmpp.status !== 'offline') cutAt = clock.now();
      if (xmpp.status === 'online') {
        let timer: unknown = null;
        await Promise.race([xmpp.stop().catch(() => undefined), new Promise<void>((r) => (timer = clock.setTimeout(r, 3_000)))]);
        clock.clearTimeout(timer);
      }
      await sockets.teardown();
    })().finally(() => (closing = null)));

  /**
   * Connection.start() without its defect: its 'online' promise is observed even when open()
   * fails. Also ends on an XEP-0198 resumption (a reconnect), which sets 'online' silently.
   */
  async function openStream(): Promise<void> {
    sockets.dropStale();
    await xmpp.connect(service);
    let unlisten = () => {};
    const online = new Promise<void>((resolve, reject) => {
      const ok = () => (unlisten(), resolve());
      const fail = (err: unknown) => (unlisten(), reject(err));
      unlisten = () => (xmpp.off('online', ok), xmpp.off('error', fail), xmpp.streamManagement.off('resumed', ok));
      xmpp.once('online', ok);
      xmpp.once('error', fail);
      xmpp.streamManagement.once('resumed', ok);
    });
    online.catch(() => undefined);
    try {
      await xmpp.open({ domain });
    } catch (err) {
      unlisten();
      throw err;
    }
    await online;
  }

  /**
   * One connect sequence under the watchdog (negotiation-watchdog.ts). The library's per-step
   * wait (2 s: the cause of issue 10 item 13) is raised past the ceiling meanwhile, a backstop
   * only, so that the watchdog decides; a sequence the watchdog ends is torn down (its sockets
   * destroyed) before the error is thrown.
   */
  async function negotiate(): Promise<void> {
    const dog = watchNegotiation(limits, clock);
    watchdog = dog;
    xmpp.timeout = limits.ceilingMs + limits.idleMs;
    try {
      await Promise.race([openStream(), dog.expired]);
    } catch (err) {
      const stall = dog.failure();
      // The steps' own errors follow from our teardown (TeardownError): the stall is the reason.
      // A TeardownError from abort() means stop() or a fatal error closed it: theirs is the reason.
      if (stall instanceof AppError) {
        logger.warn('xmpp: the server stopped answering during sign-in', { cause: String(stall.details?.cause) });
        await teardown();
        throw stall;
      }
      throw err;
    } finally {
      dog.stop();
      if (watchdog === dog) watchdog = null;
      if (!watchdog) xmpp.timeout = CLOSE_STEP_MS;
    }
  }

  const ping = () => {
    if (!ready) return;
    xmpp.iqCaller.request(xml('iq', { type: 'get', to: domain }, xml('ping', { xmlns: 'urn:xmpp:ping' })), 15_000).catch(() => {
      logger.warn('xmpp: ping timed out; dropping the connection to reconnect');
      void xmpp.disconnect().catch(() => undefined);
    });
  };

  return {
    client: xmpp,
    async start() {
      if (wanted) return;
      wanted = true;
      stopRequested = false;
      if (closing) await closing;
      // A negotiation step we cut off (e.g. SCRAM still hashing) resumes a few ms later and would
      // write into the NEXT stream (a false AUTH_FAILED): let it fail on the dead socket first.
      // Messaging never hits this (a fresh connection per start); a direct restart might.
      const settle = cutAt + STALE_SETTLE_MS - clock.now();
      if (settle > 0) await new Promise<void>((r) => clock.setTimeout(r, settle));
      if (stopRequested) throw new AppError('NOT_CONNECTED', 'Messaging was stopped.');
      setState('connecting', null);
      const isReady = new Promise<void>((resolve, reject) => (readyWaiter = { resolve, reject }));
      isReady.catch(() => undefined);
      try {
        // stop() rejects isReady: a start() in the middle of the TLS handshake returns at once.
        await Promise.race([negotiate(), isReady]);
      } catch (err) {
        const stopped = stopRequested;
        const e = stopped ? new AppError('NOT_CONNECTED', 'Messaging was stopped.') : classifyError(err);
        readyWaiter = null;
        wanted = false;
        if (!stopped) setState('error', e.code);
        await teardown();
        throw e;
      }
      await isReady;
      stopPing = every(clock, opts.pingIntervalMs ?? 60_000, ping);
    },
    async stop() {
      wanted = false;
      stopRequested = true;
      ready = false;
      // A start() still waiting for the stream must not wait forever.
      readyWaiter?.reject(new AppError('NOT_CONNECTED', 'Messaging was stopped.'));
      readyWaiter = null;
      if (retryTimer !== null) clock.clearTimeout(retryTimer);
      retryTimer = null;
      stopPing?.();
      stopPing = null;
      xmpp.reconnect.stop();
      await teardown();
      // Requests still waiting for an answer end now: the answer can no longer arrive, and their
      // callers (a key refresh) learn it was a stop, not a timeout 20 s later.
      rejectPendingIqs(xmpp, new AppError('NOT_CONNECTED', 'Messaging was stopped.', { cause: 'stopped' }));
      setState('offline', null);
    },
    isReady: () => ready,
    state: () => ({ state, detail }),
    async sendAcked(el) {
      if (!ready) throw new AppError('NOT_CONNECTED', 'Not connected to the messaging server.');
      if (!xmpp.streamManagement.enabled) return xmpp.send(el);
      const acked = sm.acked(el);
      await xmpp.send(el);
      return acked;
    },
    async send(el) {
      if (!ready) throw new AppError('NOT_CONNECTED', 'Not connected to the messaging server.');
      await xmpp.send(el);
    },
    async iq(el, timeoutMs = 20_000) {
      if (!ready) throw new AppError('NOT_CONNECTED', 'Not connected to the messaging server.');
      return xmpp.iqCaller.request(el, timeoutMs);
    },
  };
}

