/**
 * Issue 10 item 13: a server that answers slowly, or not at all (negotiation-watchdog.ts). Split
 * from xmpp-sign-in-load.test.ts, which must run alone (it keeps every core busy): these tests
 * mostly wait on the network (a 2.2 s-per-answer proxy, 15 s of silence), so they run in
 * parallel with other files.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../main/log';
import { createConnection } from '../../main/xmpp/transport/connection';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { makeClient } from '../support/xmpp-support';
import { closedPort, muteServer, slowProxy, type TestServer } from './net-support';

const users = Array.from({ length: 2 }, (_, i) => ({
  jid: `staff${i}@clinic.test`,
  password: randomBytes(12).toString('hex'),
  name: `Staff ${i}`,
}));

let prosody: ProsodyServer;
const cleanups: (() => Promise<void> | void)[] = [];
beforeAll(async () => {
  prosody = await startProsody({ users });
});
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await prosody?.stop();
});

describe('a server that answers slowly, or not at all', () => {
  const connection = (port: number, tls: 'starttls' | 'direct', negotiation?: { idleMs: number; ceilingMs?: number }) =>
    createConnection({
      jid: users[0]!.jid,
      password: users[0]!.password,
      host: '127.0.0.1',
      port,
      tls,
      caPems: [prosody.caPem],
      logger: silentLogger,
      negotiation,
      onState: () => {},
      onStanza: () => {},
      onReady: () => {},
    });
  const serve = async (s: Promise<TestServer>) => {
    const server = await s;
    cleanups.push(() => server.close());
    return server;
  };

  it('signs in when every answer of the server takes 2.2 s (each step of the sign-in)', async () => {
    const proxy = await serve(slowProxy(prosody.c2sPort, 2_200));
    const conn = connection(proxy.port, 'starttls');
    await conn.start();
    expect(conn.client.isSecure()).toBe(true);
    expect(conn.state().state).toBe('online');
    await conn.stop();
  }, 60_000);

  it('fails first sign-in with NOT_CONNECTED when the port is closed', async () => {
    const c = await makeClient({ ...prosody, c2sPort: await closedPort() }, users[1]!.jid, users[1]!.password, {
      start: false,
    });
    cleanups.push(() => c.close());
    await expect(c.messaging.start({ firstRun: true })).rejects.toMatchObject({ code: 'NOT_CONNECTED' });
  });

  it('fails first sign-in with NOT_CONNECTED when the server accepts the connection and never answers', async () => {
    // The production limits (15 s of silence): this is the wait a user sees.
    const mute = await serve(muteServer());
    const c = await makeClient({ ...prosody, c2sPort: mute.port }, users[1]!.jid, users[1]!.password, { start: false });
    cleanups.push(() => c.close());
    await expect(c.messaging.start({ firstRun: true })).rejects.toMatchObject({
      code: 'NOT_CONNECTED',
      details: { cause: 'no-answer' },
    });
    expect(c.messaging.connection().state).toBe('error');
  }, 40_000);

  it('fails with NOT_CONNECTED when a direct-TLS server accepts the connection and never starts the handshake', async () => {
    const mute = await serve(muteServer());
    const conn = connection(mute.port, 'direct', { idleMs: 1_000 });
    await expect(conn.start()).rejects.toMatchObject({ code: 'NOT_CONNECTED', details: { cause: 'no-answer' } });
    await conn.stop();
    expect(mute.accepted()).toBe(1);
  });

  it('gives up after the ceiling on a server that keeps trickling bytes without ever finishing', async () => {
    // One byte of the stream header every 200 ms: never silent, never done.
    const trickle = await serve(muteServer({ trickleMs: 200 }));
    const conn = connection(trickle.port, 'starttls', { idleMs: 1_000, ceilingMs: 3_000 });
    await expect(conn.start()).rejects.toMatchObject({ code: 'NOT_CONNECTED', details: { cause: 'too-slow' } });
    await conn.stop();
  });
});
