// Issue 11 item 2: one patch of @xmpp/tls's Socket.prototype.connect, with the hooks tls-trust.ts
// and socket-guard.ts register. Before, each of them wrapped it, and socket-guard's wrapper
// dropped the library's return value.
import { EventEmitter } from 'node:events';
import tls from 'node:tls';
import { client } from '@xmpp/client';
import TlsSocket from '@xmpp/tls/lib/Socket.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../main/log';
import { createConnection } from '../../main/xmpp/transport/connection';
import {
  hookClientSockets,
  hookStarttls,
  patchTlsSocketConnect,
  replaceSmInboundCounter,
} from '../../main/xmpp/transport/lib-patches';

afterEach(() => {
  vi.restoreAllMocks();
});

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
