/**
 * Every patch of @xmpp/client 0.14's internals (a class it shares between clients, a client's own
 * methods and fields), in one place, each with the library defect it works around. A prototype is
 * patched once per process, however many connections exist; what differs per connection hangs off
 * hooks keyed by the object concerned (WeakMaps: nothing leaks between clients, nothing outlives
 * its socket).
 *
 * tls-trust.ts's override of `socketParameters` stays beside it: a documented option hook, not a
 * patch of the library's internals.
 */
import { pbkdf2 } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import { promisify } from 'node:util';
import type { Client, StreamManagement, XmlElement } from '@xmpp/client';
import TlsSocket from '@xmpp/tls/lib/Socket.js';
import scramBitops from 'sasl-scram-sha-1/lib/bitops.js';

/** What the STARTTLS upgrade of one plain TCP socket gets (both optional, merged per socket). */
export interface StarttlsHooks {
  /** TLS options laid over the library's own `{ socket, host }` (tls-trust.ts). */
  tlsOptions?: ConnectionOptions;
  /**
   * Called with the library's TLS wrapper right before its connect (the handshake's own errors
   * must already have a listener) and right after it (the inner TLSSocket now exists): socket-guard.ts.
   */
  wrapper?: (wrapper: object) => void;
}

type Connect = (this: object, ...args: unknown[]) => unknown;

const starttlsHooks = new WeakMap<object, StarttlsHooks>();
const patchedPrototypes = new WeakSet<object>();

/** Registers `hooks` for the STARTTLS upgrade of `plain` (the TCP socket being upgraded). */
export function hookStarttls(plain: object, hooks: StarttlsHooks): void {
  patchTlsSocketConnect();
  starttlsHooks.set(plain, { ...starttlsHooks.get(plain), ...hooks });
}

/**
 * @xmpp/starttls 0.14 builds its TLS socket inside the library (`new Socket()` from
 * @xmpp/tls/lib/Socket.js, then `connect({ socket, host })`) and offers no way in: (a) the
 * handshake would use Node's implicit trust and the dialled host's name, never the clinic CA nor
 * the XMPP domain (tls-trust.ts); (b) the wrapper has no 'error' listener until the library's
 * own promise subscribes, so a handshake cut by stop() is an uncaught exception (socket-guard.ts,
 * defect 1). The class's connect is the one place both can be fixed: it is wrapped here, once,
 * and the wrapper returns whatever the library's connect returns. (Before, tls-trust.ts and
 * socket-guard.ts each wrapped it, and socket-guard's wrapper dropped the return value.)
 *
 * `proto`: the prototype to patch; only tests pass another one.
 */
export function patchTlsSocketConnect(proto: { connect: Connect } = TlsSocket.prototype): void {
  if (patchedPrototypes.has(proto)) return;
  patchedPrototypes.add(proto);
  const original = proto.connect;
  proto.connect = function (this: object, ...args: unknown[]) {
    const first = args[0] as { socket?: object } | undefined;
    const hooks = first?.socket ? starttlsHooks.get(first.socket) : undefined;
    if (!hooks) return original.apply(this, args);
    hooks.wrapper?.(this);
    const result = original.apply(
      this,
      hooks.tlsOptions ? [{ ...first, ...hooks.tlsOptions }, ...args.slice(1)] : args,
    );
    hooks.wrapper?.(this);
    return result;
  };
}

interface ClientSocketInternals {
  parser: unknown;
  socket: object | null;
  _attachSocket(socket: object): void;
  _detachSocket(): void;
  _onData(data: Buffer): void;
}

/** What socket-guard.ts hears from one client. */
export interface ClientSocketHooks {
  /** Every socket the client attaches (TCP, direct TLS wrapper, STARTTLS wrapper), before it is used. */
  attaching: (socket: object) => void;
  /** Every chunk the server sends (after TLS: decrypted): a sign of life. */
  data: () => void;
  /** Benchmarks: how long this thread took over a chunk (XML parsing and the stanza handlers it ran). */
  handled?: (ms: number, bytes: number) => void;
}

/**
 * @xmpp/connection 0.14, per client. (1) A socket gets its listeners from `_attachSocket` and
 * loses them on 'close': an 'error' after that is an uncaught exception (socket-guard.ts defect
 * 1), so socket-guard must see each socket as it is attached. (2) `_onData` writes to
 * `this.parser`, which is null once the stream closed (or a close timed out) while the socket is
 * still open: a TypeError thrown from a socket 'data' event, uncaught (defect 2). Data without a
 * parser is dropped here. (3) `_attachSocket` leaves the socket it replaces subscribed: STARTTLS
 * attaches its TLS wrapper over the plain socket, whose later 'close' then ran the client's
 * "socket closed" step, which detaches whatever socket is current and reports 'disconnect'. On
 * the 2-node ejabberd cluster (ejabberd-frozen-node) the plain socket of a sign-in cut off
 * mid-way closed while the next sign-in ran: that sign-in's socket was detached and a third one
 * started beside it. The socket being replaced is detached first here; its TLS wrapper, which
 * reports the same connection's close, takes over.
 */
export function hookClientSockets(xmpp: Client, hooks: ClientSocketHooks): void {
  const c = xmpp as unknown as ClientSocketInternals;
  const attach = c._attachSocket.bind(c);
  c._attachSocket = (socket: object) => {
    hooks.attaching(socket);
    if (c.socket && c.socket !== socket) c._detachSocket();
    attach(socket);
  };
  const onData = c._onData.bind(c);
  const { handled } = hooks;
  c._onData = (data: Buffer) => {
    hooks.data();
    if (!c.parser) return;
    if (!handled) return onData(data);
    const t0 = performance.now();
    onData(data);
    handled(performance.now() - t0, data.length);
  };
}

/**
 * @xmpp/stream-management 0.14 counts inbound stanzas (`sm.inbound`, the h it reports to the
 * server) only for those its middleware sees: IQ results taken by iqCaller and IQ gets answered by
 * iqCallee are missed, and Prosody then re-routes delivered messages to offline storage
 * (duplicates at the next login: stream-management.ts defect 1). `sm.inbound` reads `counter`
 * instead; the library's increments are ignored, its resets to 0 (<enabled/>, offline) kept.
 */
export function replaceSmInboundCounter(
  sm: StreamManagement,
  counter: { count: () => number; reset: () => void },
): void {
  Object.defineProperty(sm, 'inbound', {
    configurable: true,
    enumerable: true,
    get: counter.count,
    set: (v: number) => {
      if (v === 0) counter.reset();
    },
  });
}

interface ClientWriteInternals {
  root: unknown;
  status: string;
  write(data: string): Promise<void>;
  emit(event: 'send', element: XmlElement): boolean;
}

/**
 * @xmpp/connection 0.14 emits 'send' for a stanza, which is where stream management queues it for
 * its ack, only once the socket's write callback has run. With many connections in one process
 * (the load benchmark, a busy workstation) that callback can come after the server's <a h/> that
 * already counts the stanza: the ack then runs past the end of the queue (a TypeError in the
 * library's middleware, its outbound count one ahead), the stanza is queued afterwards and never
 * acknowledged, and the message it carries stays queued while the session is online
 * (stream-management.ts defect 3). `send` and `sendMany` are replaced here by the library's own
 * code with 'send' emitted as the write starts: the data is handed to the socket first, in the
 * same turn, so the queue order is the wire order, and an <a/> read later always finds the stanza
 * queued. A write that then fails means the stream is going down: the queue is failed with it
 * (NOT_CONNECTED), or its stanzas are sent again on resumption, as for any unacknowledged stanza.
 * Nothing is emitted for a stream already closing (the library's write refuses it at once).
 */
export function queueStanzasAsWritten(xmpp: Client): void {
  const c = xmpp as unknown as ClientWriteInternals & Pick<Client, 'send' | 'sendMany'>;
  const writeAll = (elements: XmlElement[]): Promise<void> => {
    let fragment = '';
    for (const el of elements) {
      (el as { parent: unknown }).parent = c.root;
      fragment += el.toString();
    }
    const written = c.write(fragment);
    if (c.status !== 'closing') for (const el of elements) c.emit('send', el);
    return written;
  };
  c.send = (el) => writeAll([el]);
  c.sendMany = (els) => writeAll(els);
}

interface ClientCloseInternals {
  socket: object | null;
  _closeStream(): Promise<unknown>;
  _closeSocket(): Promise<void>;
  _detachParser(): void;
  _detachSocket(): void;
  _status(status: string, ...args: unknown[]): void;
}

/**
 * @xmpp/connection 0.14's `disconnect()` closes the stream, then the socket, each with a 2 s wait,
 * and on a timeout detaches whatever parser and socket the client holds by then. When the server
 * closed the socket meanwhile, the client had already reconnected: the old close's timeout ended
 * the new sign-in's stream (ejabberd-frozen-node on the 2-node cluster, where a stalled node keeps
 * its `</stream>` unanswered). Here is the library's own `disconnect()`, stopping at the first
 * step that finds another socket attached than the one it set out to close. Stream management's
 * "no answer" timeout, a stream error, the keep-alive and stop() all come through it.
 */
export function closeOnlyOwnStream(xmpp: Client): void {
  const c = xmpp as unknown as ClientCloseInternals & Pick<Client, 'disconnect'>;
  c.disconnect = async () => {
    const socket = c.socket;
    const ours = () => c.socket === socket;
    let el: unknown;
    try {
      el = await c._closeStream();
    } catch {
      if (!ours()) return el;
      c._detachParser();
      c._status('close', { clean: false });
    }
    if (!ours()) return el;
    try {
      await c._closeSocket();
    } catch (err) {
      if (!ours()) return el;
      c._detachSocket();
      c._status('disconnect', { clean: false, reason: err });
    }
    return el;
  };
}

interface SaslMechanism {
  response(credentials: unknown): unknown;
}
interface ClientSaslInternals {
  socket: object | null;
  saslFactory: { create(names: string[]): SaslMechanism | null };
}

/**
 * @xmpp/sasl 0.14 awaits the mechanism's response and then writes it to whatever stream the
 * client has by then. sasl-scram-sha-1 computed the salted password as one awaited WebCrypto HMAC
 * per iteration (0.4–2.5 s on a busy machine; fastScramSaltedPassword makes it one PBKDF2 call,
 * still a step on the thread pool), and a reconnect could replace the stream meanwhile. The old
 * exchange's proof then went to the new stream, after the new exchange's <auth/>: the server
 * answered "Nonce mismatch" with <not-authorized/>, and the client stopped for a refused password
 * (ejabberd-frozen-node, twice in clean-clone CI). A response computed for a stream that is no
 * longer attached is dropped here: its promise never settles, so nothing is written and no error
 * reaches the current sign-in. That sign-in's own exchange goes on.
 */
export function dropStaleSaslResponses(xmpp: Client): void {
  const c = xmpp as unknown as ClientSaslInternals;
  const create = c.saslFactory.create.bind(c.saslFactory);
  c.saslFactory.create = (names) => {
    const mech = create(names);
    if (!mech) return mech;
    const socket = c.socket;
    const respond = mech.response.bind(mech);
    mech.response = async (credentials) => {
      const response: unknown = await respond(credentials);
      if (c.socket !== socket) return new Promise<never>(() => undefined);
      return response;
    };
    return mech;
  };
}

const pbkdf2Async = promisify(pbkdf2);

/**
 * The most SCRAM iterations the client computes (RFC 7677 asks for at least 4,096; Prosody's
 * default is 10,000): a server asking for more is refused rather than let it hold a thread.
 */
export const MAX_SCRAM_ITERATIONS = 10_000_000;

type ScramBitops = typeof scramBitops;
const fastHi = new WeakSet<object>();

/**
 * sasl-scram-sha-1 1.4 derives the salted password (RFC 5802 Hi, which is PBKDF2 with HMAC-SHA-1
 * and a 20-byte key) as one awaited WebCrypto HMAC per iteration, each importing its key again:
 * 20,000 asynchronous steps for Prosody's default 10,000 iterations, so every sign-in and
 * reconnect waited seconds on a busy machine, and a reconnect could overtake it (see
 * dropStaleSaslResponses). Hi is one call to Node's PBKDF2 here, on the thread pool. Same bytes:
 * the password as UTF-8, as the library's TextEncoder gives it. `bitops`: only tests pass another.
 */
export function fastScramSaltedPassword(bitops: ScramBitops = scramBitops): void {
  if (fastHi.has(bitops)) return;
  fastHi.add(bitops);
  bitops.Hi = async (text, salt, iterations) => {
    if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > MAX_SCRAM_ITERATIONS)
      throw new Error('SCRAM: the server asked for an iteration count out of range.');
    return new Uint8Array(await pbkdf2Async(Buffer.from(text, 'utf8'), salt, iterations, 20, 'sha1'));
  };
}

type PendingIq = { promise?: Promise<unknown>; reject?: (err: unknown) => void };
const observedIqCallers = new WeakSet<object>();

/**
 * @xmpp/iq 0.14: an error reply that arrives before the request's write callback rejects the
 * pending promise before anyone listens (an unhandled rejection). Observe it at creation; the
 * caller still gets the rejection through the library's own race.
 */
export function observeEarlyIqErrors(xmpp: Client): void {
  const handlers = xmpp.iqCaller.handlers as Map<string, PendingIq>;
  if (observedIqCallers.has(handlers)) return;
  observedIqCallers.add(handlers);
  const setHandler = handlers.set.bind(handlers);
  handlers.set = (id, deferred) => {
    // Observed only: the caller still gets this rejection through the library's own race.
    deferred.promise?.catch(() => undefined);
    return setHandler(id, deferred);
  };
}

/**
 * Ends every request still waiting for an answer with `err`. @xmpp/iq has no cancel: after a
 * stop the answer can no longer arrive, and without this a caller (a key refresh) would learn it
 * only from its timeout, 20 s later.
 */
export function rejectPendingIqs(xmpp: Client, err: Error): void {
  const handlers = xmpp.iqCaller.handlers as Map<string, PendingIq>;
  for (const [id, deferred] of [...handlers]) {
    handlers.delete(id);
    deferred.reject?.(err);
  }
}
