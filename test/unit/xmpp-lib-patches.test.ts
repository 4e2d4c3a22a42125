// Issue 11 item 2: one patch of @xmpp/tls's Socket.prototype.connect, with the hooks tls-trust.ts
// and socket-guard.ts register. Before, each of them wrapped it, and socket-guard's wrapper
// dropped the library's return value.
import { createHmac, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import tls from 'node:tls';
import { client } from '@xmpp/client';
import TlsSocket from '@xmpp/tls/lib/Socket.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../main/log';
import { createConnection } from '../../main/xmpp/transport/connection';
import {
  closeOnlyOwnStream,
  dropStaleSaslResponses,
  fastScramSaltedPassword,
  hookClientSockets,
  MAX_SCRAM_ITERATIONS,
  hookStarttls,
  patchTlsSocketConnect,
  replaceSmInboundCounter,
} from '../../main/xmpp/transport/lib-patches';

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * A library client that is never connected. Its own reconnect is stopped, as the app stops it
 * (client-factory.ts): a test that reports 'disconnect' would otherwise have it dial the address
 * a second later, long after the test.
 */
const bareClient = () => {
  const xmpp = client({ service: 'xmpp://127.0.0.1:1', domain: 'clinic.test' });
  xmpp.reconnect.stop();
  return xmpp;
};

/** The connect method installed on the library's prototype right now. */
const installedConnect = (): unknown => Object.getOwnPropertyDescriptor(TlsSocket.prototype, 'connect')?.value;

const connection = (i: number) =>
  createConnection({
    jid: `user${i}@clinic.test`,
    password: 'not-used',
    host: '127.0.0.1',
    port: 1,
    tls: 'starttls',
    caPems: [],
    logger: silentLogger,
    onState: () => {},
    onStanza: () => {},
    onReady: () => {},
  });

describe('lib-patches: the STARTTLS socket connect', () => {
  it("returns what the library's connect returns, with and without hooks", () => {
    const returned = { handshake: 'started' };
    const calls: { self: object; args: unknown[] }[] = [];
    class FakeTlsSocket {
      connect(...args: unknown[]): unknown {
        calls.push({ self: this, args });
        return returned;
      }
    }
    patchTlsSocketConnect(FakeTlsSocket.prototype);

    const hooked = {};
    const wrappers: object[] = [];
    hookStarttls(hooked, { tlsOptions: { servername: 'clinic.test' }, wrapper: (w) => wrappers.push(w) });
    const socket = new FakeTlsSocket();
    expect(socket.connect({ socket: hooked, host: '127.0.0.1' }, 'more')).toBe(returned);
    expect(calls).toEqual([
      { self: socket, args: [{ socket: hooked, host: '127.0.0.1', servername: 'clinic.test' }, 'more'] },
    ]);
    // Before the handshake (its errors need a listener) and after it (the inner TLSSocket exists).
    expect(wrappers).toEqual([socket, socket]);

    const unhooked = {};
    expect(socket.connect({ socket: unhooked, host: '127.0.0.1' })).toBe(returned);
    expect(calls[1]?.args).toEqual([{ socket: unhooked, host: '127.0.0.1' }]);
  });

  it('patches the library prototype once, however many connections are created', () => {
    connection(0);
    const patched = installedConnect();
    for (let i = 1; i <= 5; i++) connection(i);
    patchTlsSocketConnect();
    expect(installedConnect()).toBe(patched);

    // One STARTTLS upgrade runs the library's connect once and each hook once before and once
    // after it: a second layer of patching would run them twice.
    const inner = Object.assign(new EventEmitter(), { getProtocol: () => 'TLSv1.3' });
    const tlsConnect = vi.spyOn(tls, 'connect').mockImplementation(() => inner as unknown as tls.TLSSocket);
    const plain = new EventEmitter();
    const wrappers: object[] = [];
    hookStarttls(plain, { tlsOptions: { servername: 'clinic.test' }, wrapper: (w) => wrappers.push(w) });
    const wrapper = new TlsSocket();
    wrapper.connect({ socket: plain, host: '127.0.0.1' });
    expect(tlsConnect).toHaveBeenCalledTimes(1);
    expect(tlsConnect).toHaveBeenCalledWith({ socket: plain, host: '127.0.0.1', servername: 'clinic.test' });
    expect(wrappers).toEqual([wrapper, wrapper]);
  });
});

describe("lib-patches: a client's sockets", () => {
  it('drops data that arrives when the stream has no parser, instead of throwing from a socket event', () => {
    const xmpp = client({ service: 'xmpp://127.0.0.1:1', domain: 'clinic.test' });
    const attached: object[] = [];
    let chunks = 0;
    hookClientSockets(xmpp, { attaching: (s) => attached.push(s), data: () => (chunks += 1) });
    const internals = xmpp as unknown as {
      parser: unknown;
      _onData(data: Buffer): void;
      _attachSocket(s: object): void;
    };
    internals.parser = null;
    // Unpatched, @xmpp/connection writes to this.parser: a TypeError (socket-guard.ts defect 2).
    expect(() => internals._onData(Buffer.from('<presence/>'))).not.toThrow();
    expect(chunks).toBe(1);
    const socket = new EventEmitter();
    internals._attachSocket(socket);
    expect(attached).toEqual([socket]);
  });

  it("a socket replaced by another (STARTTLS's wrapper) no longer speaks for the client when it closes", () => {
    const xmpp = bareClient();
    hookClientSockets(xmpp, { attaching: () => undefined, data: () => undefined });
    const internals = xmpp as unknown as { socket: unknown; _attachSocket(s: object): void };
    const statuses: string[] = [];
    xmpp.on('status', (s: string) => statuses.push(s));
    const plain = new EventEmitter();
    const wrapper = new EventEmitter();
    internals._attachSocket(plain);
    internals._attachSocket(wrapper);
    // Unpatched, the plain socket's close detached the wrapper and reported 'disconnect'.
    plain.emit('close', false);
    expect(internals.socket).toBe(wrapper);
    expect(statuses).toEqual([]);
    // The socket in use still does.
    wrapper.emit('close', false);
    expect(internals.socket).toBeNull();
    expect(statuses).toEqual(['disconnect']);
  });
});

type CloseInternals = {
  socket: object | null;
  parser: object | null;
  _closeStream(): Promise<unknown>;
  _closeSocket(): Promise<void>;
};

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** A client with closeOnlyOwnStream, `socket` attached as its stream, and its steps' outcomes in the test's hands. */
function closingClient(socket: object) {
  const xmpp = bareClient();
  closeOnlyOwnStream(xmpp);
  const c = xmpp as unknown as CloseInternals;
  c.socket = socket;
  c.parser = {};
  const steps = { stream: deferred<unknown>(), socket: deferred<void>(), socketClosed: 0 };
  c._closeStream = () => steps.stream.promise;
  c._closeSocket = () => {
    steps.socketClosed += 1;
    return steps.socket.promise;
  };
  const statuses: string[] = [];
  xmpp.on('status', (s: string) => statuses.push(s));
  return { xmpp, c, steps, statuses };
}

describe('lib-patches: disconnect() closes only the stream it set out to close', () => {
  it('a reconnect attached a new stream while the old close waited: its timeout leaves the new one alone', async () => {
    const { xmpp, c, steps, statuses } = closingClient({ name: 'old' });
    const closing = xmpp.disconnect();
    const fresh = { name: 'new' };
    const freshParser = {};
    c.socket = fresh;
    c.parser = freshParser;
    steps.stream.reject(new Error('timeout'));
    await closing;
    expect(c.socket).toBe(fresh);
    expect(c.parser).toBe(freshParser);
    expect(steps.socketClosed).toBe(0);
    expect(statuses).toEqual([]);
  });

  it("the same after the stream closed, when the socket's close times out", async () => {
    const { xmpp, c, steps, statuses } = closingClient({ name: 'old' });
    const closing = xmpp.disconnect();
    steps.stream.resolve(undefined);
    await vi.waitFor(() => expect(steps.socketClosed).toBe(1));
    const fresh = { name: 'new' };
    c.socket = fresh;
    steps.socket.reject(new Error('timeout'));
    await closing;
    expect(c.socket).toBe(fresh);
    expect(statuses).toEqual([]);
  });

  it("with no other stream, it does what the library's does: detaches both and reports each step", async () => {
    const { xmpp, c, steps, statuses } = closingClient({ name: 'only' });
    const closing = xmpp.disconnect();
    steps.stream.reject(new Error('timeout'));
    await vi.waitFor(() => expect(steps.socketClosed).toBe(1));
    expect(c.parser).toBeNull();
    steps.socket.reject(new Error('timeout'));
    await closing;
    expect(c.socket).toBeNull();
    expect(statuses).toEqual(['close', 'disconnect']);
  });
});

describe('lib-patches: a SASL response computed for a stream that is gone', () => {
  type Mech = { response(creds: unknown): Promise<string> };
  const sasl = () => {
    const xmpp = bareClient();
    dropStaleSaslResponses(xmpp);
    const c = xmpp as unknown as { socket: object | null; saslFactory: { create(n: string[]): Mech } };
    return c;
  };
  const creds = { username: 'bob', password: 'not-used' };

  it('is never written: its promise does not settle, while the new stream’s own exchange goes on', async () => {
    const c = sasl();
    c.socket = { name: 'old' };
    const stale = c.saslFactory.create(['SCRAM-SHA-1']);
    let staleSettled = false;
    // Only whether it settles matters here (it must not); the flag records it.
    void stale.response(creds).finally(() => (staleSettled = true));
    c.socket = { name: 'new' };
    const current = c.saslFactory.create(['SCRAM-SHA-1']);
    // The same computation, started later, on the stream now attached: it is answered.
    await expect(current.response(creds)).resolves.toMatch(/^n,,n=bob,r=/);
    expect(staleSettled).toBe(false);
  });

  it('on the stream it began on, the response comes as the mechanism computed it', async () => {
    const c = sasl();
    c.socket = { name: 'only' };
    await expect(c.saslFactory.create(['SCRAM-SHA-1']).response(creds)).resolves.toMatch(/^n,,n=bob,r=/);
  });
});

describe('lib-patches: the stream-management inbound counter', () => {
  it("reports our count as h: the library's own increments are ignored, its reset to 0 is kept", () => {
    const sm = client({ service: 'xmpp://127.0.0.1:1', domain: 'clinic.test' }).streamManagement;
    let count = 7;
    replaceSmInboundCounter(sm, { count: () => count, reset: () => (count = 0) });
    sm.inbound += 1; // what the library does for a stanza its middleware sees (we counted it already)
    expect(sm.inbound).toBe(7);
    sm.inbound = 0; // <enabled/>, or offline
    expect(count).toBe(0);
    expect(sm.inbound).toBe(0);
  });
});

describe('lib-patches: the SCRAM salted password in one PBKDF2 call', () => {
  const patched = () => {
    const bitops = { Hi: (): Promise<Uint8Array> => Promise.reject(new Error('the library’s Hi was called')) };
    fastScramSaltedPassword(bitops);
    return bitops as unknown as { Hi(text: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> };
  };
  /** RFC 5802 §2.2's Hi, written out: U1 = HMAC(password, salt + INT(1)), Ui = HMAC(password, Ui-1), XORed. */
  const rfcHi = (text: string, salt: Uint8Array, iterations: number) => {
    const key = Buffer.from(text, 'utf8');
    let u = createHmac('sha1', key)
      .update(Buffer.concat([salt, Buffer.from([0, 0, 0, 1])]))
      .digest();
    const out = Buffer.from(u);
    for (let i = 1; i < iterations; i++) {
      u = createHmac('sha1', key).update(u).digest();
      for (let j = 0; j < out.length; j++) out[j]! ^= u[j]!;
    }
    return new Uint8Array(out);
  };

  it('gives the RFC 6070 test vector (PBKDF2-HMAC-SHA1, 4,096 iterations)', async () => {
    const hi = await patched().Hi('password', new TextEncoder().encode('salt'), 4096);
    expect(Buffer.from(hi).toString('hex')).toBe('4b007901b765489abead49d926f721d065a429c1');
  });

  it('gives what RFC 5802 defines for a password with non-ASCII characters and a random salt', async () => {
    const salt = new Uint8Array(randomBytes(16));
    const password = 'Zürich-Ärztin-診療-1';
    expect(await patched().Hi(password, salt, 1000)).toEqual(rfcHi(password, salt, 1000));
  });

  it("is the Hi that the library's SCRAM-SHA-1 mechanism calls (one copy of sasl-scram-sha-1)", async () => {
    fastScramSaltedPassword(); // the module the app patches (client-factory.ts)
    const { saslFactory } = bareClient() as unknown as {
      saslFactory: { create(n: string[]): { response(c: unknown): Promise<string>; challenge(s: string): void } };
    };
    const mech = saslFactory.create(['SCRAM-SHA-1']);
    const creds = { username: 'bob', password: 'not-used' };
    await mech.response(creds);
    // Only our Hi refuses a count; the library's would start 20,000,000 HMACs.
    mech.challenge(`r=nonce,s=${Buffer.from('salt').toString('base64')},i=${MAX_SCRAM_ITERATIONS + 1}`);
    await expect(mech.response(creds)).rejects.toThrow(/iteration count/);
  });

  it('refuses an iteration count that is no positive whole number or above the bound', async () => {
    const { Hi } = patched();
    for (const n of [0, -1, Number.NaN, 1.5, MAX_SCRAM_ITERATIONS + 1])
      await expect(Hi('p', new Uint8Array(16), n)).rejects.toThrow(/iteration count/);
  });
});
