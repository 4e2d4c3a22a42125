// Several addresses for one server (issue 19 item 3; ServerConfig.alternates, policy
// server.alternates), on a real Prosody. A clustered server's nodes are different addresses of the
// same XMPP domain; here a TCP door on loopback stands for the first node (it forwards to Prosody
// and can be shut like a node that died), the Prosody port itself for the second.
// - A first sign-in whose first address refuses connections signs in through the next one; with
//   only the dead address it fails with NOT_CONNECTED (so the alternate is what made it work).
// - A connected workstation whose address goes away reconnects through the next address, and
//   everything a colleague sent meanwhile arrives exactly once, in order; what it sends goes out.
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../common/contract/domain';
import { startTestServer, type TestServer } from '../support/test-server';
import { makeClient, messagesWith, waitFor, type TestClient } from '../support/xmpp-support';

const A = 'alice@clinic.test';
const B = 'bob@clinic.test';
const D = 'dave@clinic.test';

interface Door {
  port: number;
  /** Connections it forwarded. */
  forwarded(): number;
  /** Stops listening and cuts every forwarded connection, as a node that died. */
  close(): Promise<void>;
}

/** A TCP door on loopback to `port`: bytes pass unchanged (STARTTLS and the certificate are end to end). */
async function door(port: number): Promise<Door> {
  const sockets = new Set<Socket>();
  let count = 0;
  const track = (s: Socket) => (sockets.add(s), s.on('close', () => sockets.delete(s)));
  const server = createServer((client) => {
    track(client);
    count++;
    const up = track(connect({ host: '127.0.0.1', port }));
    for (const [a, b] of [
      [client, up],
      [up, client],
    ] as const) {
      a.on('error', () => a.destroy());
      a.on('close', () => b.destroy());
      a.pipe(b);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    forwarded: () => count,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

/** A loopback port nothing listens on (taken, then given back). */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('a server with several addresses', () => {
  let server: TestServer;
  const clients: TestClient[] = [];
  const track = (c: TestClient) => (clients.push(c), c);
  let bob: TestClient;

  beforeAll(async () => {
    server = await startTestServer(
      {
        users: [
          { jid: A, password: 'alice-pw-1', name: 'Alice Archer', role: 'physician' },
          { jid: B, password: 'bob-pw-1', name: 'Bob Baker', role: 'nurse' },
          { jid: D, password: 'dave-pw-1', name: 'Dave Dunn', role: 'reception' },
        ],
      },
      'prosody',
    );
    bob = track(await makeClient(server, B, 'bob-pw-1'));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server?.stop();
  });

  const inbound = (c: TestClient, peer: string) => messagesWith(c, peer).filter((m) => m.direction === 'in');

  it('signs in through the next address when the first refuses connections; without it, fails', async () => {
    const dead = await deadPort();
    const err = await makeClient(server, A, 'alice-pw-1', { server: { port: dead } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NOT_CONNECTED' });

    const alice = track(
      await makeClient(server, A, 'alice-pw-1', {
        server: { port: dead, alternates: [`127.0.0.1:${server.c2sPort}`] },
      }),
    );
    expect(alice.messaging.connection().state).toBe('online');
    const sent = await bob.messaging.send(bob.store.conversations.getOrCreate(A).id, 'Through the second address');
    await waitFor('alice gets it', () => inbound(alice, B).find((m) => m.originId === sent.originId));
    await alice.close();
    clients.splice(clients.indexOf(alice), 1);
  });

  it('reconnects through the next address when the one in use dies; nothing lost or doubled', async () => {
    const front = await door(server.c2sPort);
    const dave = track(
      await makeClient(server, D, 'dave-pw-1', {
        server: { port: front.port, alternates: [`127.0.0.1:${server.c2sPort}`] },
      }),
    );
    expect(front.forwarded()).toBe(1);
    const conv = bob.store.conversations.getOrCreate(D).id;
    const before = await bob.messaging.send(conv, 'Before the node went away');
    await waitFor('dave gets the first', () => inbound(dave, B).find((m) => m.originId === before.originId));

    await front.close();
    const during: Message[] = [];
    for (let i = 1; i <= 5; i++) during.push(await bob.messaging.send(conv, `While she moves over ${i}`));
    const ids = during.map((m) => m.originId);
    await waitFor(
      'dave gets all five',
      () => ids.every((id) => inbound(dave, B).some((m) => m.originId === id)),
      60_000,
    );
    const got = inbound(dave, B).filter((m) => ids.includes(m.originId));
    expect(got.map((m) => m.body)).toEqual(during.map((m) => m.body));
    expect(got.filter((m) => m.state === 'unverified')).toEqual([]);
    // He is online again, not through the closed door: it forwarded nothing more.
    await waitFor('dave online again', () => dave.messaging.connection().state === 'online');
    expect(front.forwarded()).toBe(1);
    const reply = await dave.messaging.send(dave.store.conversations.getOrCreate(B).id, 'Back on the other node');
    await waitFor('bob gets the reply', () => inbound(bob, D).find((m) => m.originId === reply.originId));
    expect(await dave.outboxIdle()).toBe(true);
    expect(dave.store.messages.get(reply.id)?.state).toMatch(/^(sent|delivered|read)$/);
  });
});
