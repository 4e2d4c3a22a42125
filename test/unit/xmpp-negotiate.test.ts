/**
 * One connect sequence (main/xmpp/transport/negotiate.ts) leaves no listener on the long-lived
 * client when it ends, however it ends. A sequence the watchdog or a teardown ended used to keep
 * its 'online', 'error' and 'resumed' listeners until a later stream came online: under load,
 * a run of stalled sign-ins piled them up (Node's MaxListenersExceededWarning, "11 resumed
 * listeners"). A newer sequence takes over an older one that still waits (a reconnect while a
 * start() awaits), so the older one's watchdog never tears down the newer, working stream. The
 * client here is a stand-in for @xmpp/client's events only: pure logic.
 */
import { EventEmitter } from 'node:events';
import type { Client } from '@xmpp/client';
import { describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../main/clock';
import { silentLogger } from '../../main/log';
import { createNegotiator } from '../../main/xmpp/transport/negotiate';
import { TeardownError, type SocketGuard } from '../../main/xmpp/transport/socket-guard';
import { fakeClock } from '../support/fake-clock';

const settle = () => new Promise((r) => setImmediate(r));

function fakeClient() {
  const client = new EventEmitter() as EventEmitter & {
    streamManagement: EventEmitter;
    timeout: number;
    connected: Array<() => void>;
    connect(service: string): Promise<void>;
    open(opts: { domain: string }): Promise<void>;
  };
  client.streamManagement = new EventEmitter();
  client.timeout = 2_000;
  client.connected = [];
  // connect() waits for the test to let it through; open() answers at once.
  client.connect = () => new Promise<void>((resolve) => client.connected.push(resolve));
  client.open = () => Promise.resolve();
  return client;
}

function negotiatorOver(
  client: ReturnType<typeof fakeClient>,
  opts: { idleMs?: number; clock?: Clock; teardowns?: { n: number } } = {},
) {
  return createNegotiator({
    xmpp: client as unknown as Client,
    services: ['xmpp://127.0.0.1:5222'],
    domain: 'clinic.test',
    limits: { idleMs: opts.idleMs ?? 15_000, ceilingMs: 60_000 },
    clock: opts.clock ?? fakeClock(),
    logger: silentLogger,
    // As socket-guard.ts does before each connect: what earlier attempts subscribed to the client
    // goes (this stand-in has no permanent wiring), the stream management emitter is not swept.
    sockets: {
      dropStale: () => (client.removeAllListeners('online'), client.removeAllListeners('error')),
    } as unknown as SocketGuard,
    teardown: () => {
      if (opts.teardowns) opts.teardowns.n++;
      return Promise.resolve();
    },
  });
}

const listeners = (c: ReturnType<typeof fakeClient>) => ({
  online: c.listenerCount('online'),
  error: c.listenerCount('error'),
  resumed: c.streamManagement.listenerCount('resumed'),
});
const NONE = { online: 0, error: 0, resumed: 0 };

describe('connect sequence listeners', () => {
  it('a sequence ended while waiting for the server keeps no listener, twelve times over', async () => {
    const client = fakeClient();
    const negotiator = negotiatorOver(client);
    for (let i = 0; i < 12; i++) {
      const run = negotiator.run();
      client.connected.shift()!();
      await settle();
      expect(listeners(client)).toEqual({ online: 1, error: 1, resumed: 1 }); // waiting for 'online'
      negotiator.abort(new TeardownError());
      await expect(run).rejects.toBeInstanceOf(TeardownError);
      expect(listeners(client)).toEqual(NONE);
    }
  });

  it('a sequence ended before its socket connected adds none when the connect completes later', async () => {
    const client = fakeClient();
    const negotiator = negotiatorOver(client);
    const run = negotiator.run();
    await settle();
    negotiator.abort(new TeardownError());
    await expect(run).rejects.toBeInstanceOf(TeardownError);
    client.connected.shift()!();
    await settle();
    expect(listeners(client)).toEqual(NONE);
  });

  it('a sequence that comes online, or resumes, leaves none either', async () => {
    const client = fakeClient();
    const negotiator = negotiatorOver(client);
    const first = negotiator.run();
    client.connected.shift()!();
    await settle();
    client.emit('online');
    await expect(first).resolves.toBeUndefined();
    expect(listeners(client)).toEqual(NONE);
    const second = negotiator.run();
    client.connected.shift()!();
    await settle();
    client.streamManagement.emit('resumed');
    await expect(second).resolves.toBeUndefined();
    expect(listeners(client)).toEqual(NONE);
  });

  it("a sequence the server's error ends rejects with that error and leaves none", async () => {
    const client = fakeClient();
    const negotiator = negotiatorOver(client);
    const run = negotiator.run();
    client.connected.shift()!();
    await settle();
    const refused = new Error('not-authorized');
    client.emit('error', refused);
    await expect(run).rejects.toBe(refused);
    expect(listeners(client)).toEqual(NONE);
  });

  describe('a newer sequence while an older one still waits', () => {
    /** Both connected and waiting for the server; the newer one's connect took the older one's 'online' listener away. */
    async function olderThenNewer(
      client: ReturnType<typeof fakeClient>,
      negotiator: ReturnType<typeof negotiatorOver>,
    ) {
      const older = negotiator.run();
      client.connected.shift()!();
      await settle();
      const newer = negotiator.run();
      client.connected.shift()!();
      await settle();
      return { older, newer };
    }

    it('the older one comes online with the newer one, and nothing is torn down', async () => {
      const client = fakeClient();
      const teardowns = { n: 0 };
      const negotiator = negotiatorOver(client, { teardowns });
      const { older, newer } = await olderThenNewer(client, negotiator);
      client.emit('online');
      await expect(newer).resolves.toBeUndefined();
      await expect(older).resolves.toBeUndefined();
      expect(teardowns.n).toBe(0);
      expect(listeners(client)).toEqual(NONE);
    });

    it("the older one fails with the newer one's error", async () => {
      const client = fakeClient();
      const negotiator = negotiatorOver(client);
      const { older, newer } = await olderThenNewer(client, negotiator);
      const refused = new Error('not-authorized');
      client.emit('error', refused);
      await expect(newer).rejects.toBe(refused);
      await expect(older).rejects.toBe(refused);
      expect(listeners(client)).toEqual(NONE);
    });

    it("a stall of the newer one tears down once, and the older one's watchdog never fires", async () => {
      const client = fakeClient();
      const teardowns = { n: 0 };
      // Real timers, a short silence limit: only the newer sequence's watchdog may end it.
      const negotiator = negotiatorOver(client, { idleMs: 30, clock: systemClock, teardowns });
      const { older, newer } = await olderThenNewer(client, negotiator);
      const stall = { code: 'NOT_CONNECTED', details: { cause: 'no-answer' } };
      await expect(newer).rejects.toMatchObject(stall);
      await expect(older).rejects.toMatchObject(stall);
      expect(teardowns.n).toBe(1);
      expect(listeners(client)).toEqual(NONE);
    });
  });
});
