/**
 * Locking the session while messaging is still connecting must never crash the main process.
 * With @xmpp/client 0.14 as shipped, a stop() during the TCP connect, the stream open, STARTTLS
 * (RFC 6120 §5.4) or the direct-TLS handshake raised ERR_STREAM_WRITE_AFTER_END as an 'error'
 * event without a listener (an uncaught exception), a TypeError from a socket 'data' event with
 * the parser gone, and unhandled rejections (main/xmpp/transport/socket-guard.ts explains each).
 * These loops stop after many different delays against a real Prosody, in both TLS modes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionState } from '../../common/contract/domain';
import { silentLogger } from '../../main/log';
import { createConnection } from '../../main/xmpp/transport/connection';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { makeClient, waitFor } from '../support/xmpp-support';

const A = 'alice@clinic.test';
const PW = 'alice-pw-1';
// 0–40 ms covers TCP connect, stream open, STARTTLS / TLS handshake and SASL on loopback;
// the larger ones land on bind, SM enable and an already-online stream.
const DELAYS = [
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 17, 20, 22, 25, 27, 30, 35, 40, 45, 50, 60, 70, 80, 100, 150,
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('stopping messaging while it is still connecting', () => {
  let server: ProsodyServer;
  const crashes: string[] = [];
  const onUncaught = (err: unknown) => crashes.push(`uncaughtException ${describeError(err)}`);
  const onUnhandled = (err: unknown) => crashes.push(`unhandledRejection ${describeError(err)}`);

  beforeAll(async () => {
    server = await startProsody({ users: [{ jid: A, password: PW, name: 'Alice Archer' }] });
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUnhandled);
  });
  afterAll(async () => {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUnhandled);
    await server?.stop();
  });
  afterEach(() => {
    crashes.length = 0;
  });

  function connection(tls: 'starttls' | 'direct') {
    const states: ConnectionState[] = [];
    const conn = createConnection({
      jid: A,
      password: PW,
      host: server.host,
      port: tls === 'direct' ? server.directTlsPort : server.c2sPort,
      tls,
      caPems: [server.caPem],
      logger: silentLogger,
      reconnect: { baseMs: 100, maxMs: 500 },
      onState: (s) => states.push(s),
      onStanza: () => {},
      onReady: () => {},
    });
    return { conn, states };
  }

  it('survives a stop() at every point of the connect sequence, STARTTLS and direct TLS, and still connects afterwards', async () => {
    const outcomes = new Set<string>();
    let iterations = 0;
    for (const tls of ['starttls', 'direct'] as const) {
      for (const delay of DELAYS) {
        const { conn, states } = connection(tls);
        const started = conn.start().then(
          () => 'online',
          (e: { code?: string }) => e.code ?? 'threw-non-app-error',
        );
        await sleep(delay);
        await conn.stop();
        // A start() caught mid-handshake returns instead of hanging the unlock/lock cycle. A hang
        // guard, not a speed limit: 30 s is far beyond any handshake, even on a loaded CI machine.
        let guard: ReturnType<typeof setTimeout> | undefined;
        const hung = new Promise<string>((r) => (guard = setTimeout(() => r('start-hung'), 30_000)));
        const outcome = await Promise.race([started, hung]);
        clearTimeout(guard);
        outcomes.add(outcome);
        await sleep(2); // lets late socket events ('error' after 'close') fire inside this iteration
        expect(crashes, `${tls}, stop after ${delay} ms`).toEqual([]);
        // Soft: a wrong state is reported, but the loop goes on to find crashes too.
        expect.soft(['online', 'NOT_CONNECTED']).toContain(outcome);
        expect.soft(conn.state().state, 'a lock is not a connection error').toBe('offline');
        expect.soft(conn.client.status).toBe('offline');
        expect.soft(states).not.toContain('error');
        iterations += 1;
      }
    }
    expect(iterations).toBe(60);
    // Stops really landed inside the connect sequence (on a fast machine the late ones find it online).
    expect(outcomes).toContain('NOT_CONNECTED');

    for (const tls of ['starttls', 'direct'] as const) {
      const { conn } = connection(tls);
      await conn.start();
      expect(conn.state().state).toBe('online');
      expect(conn.client.isSecure()).toBe(true);
      await conn.stop();
    }
    await sleep(50);
    expect(crashes).toEqual([]);
  }, 60_000);

  it('the same connection object can be stopped mid-connect and started again', async () => {
    const { conn } = connection('starttls');
    for (const delay of [0, 5, 10, 20, 30]) {
      // A stop mid-connect makes this start() reject; the test is about starting again, not that.
      const started = conn.start().catch(() => undefined);
      await sleep(delay);
      await conn.stop();
      await started;
    }
    await conn.start();
    expect(conn.state().state).toBe('online');
    await conn.stop();
    await sleep(20);
    expect(crashes).toEqual([]);
  }, 30_000);

  it('a full Messaging (the unlock path) locked during its connect, repeatedly, then unlocked for good', async () => {
    const c = await makeClient(server, A, PW, { start: false });
    try {
      // First start generates the identity; stop it only after that, so the loop is about the network.
      await c.messaging.start({ firstRun: true });
      await c.messaging.stop();
      for (const delay of [0, 1, 3, 5, 8, 12, 20, 30, 50]) {
        const started = c.messaging.start().catch((e: { code?: string }) => e.code);
        await sleep(delay);
        await c.messaging.stop();
        expect(await Promise.race([started, sleep(5_000).then(() => 'start-hung')])).not.toBe('start-hung');
        expect(c.messaging.connection().state).toBe('offline');
      }
      await c.messaging.start();
      await waitFor('online', () => c.messaging.connection().state === 'online');
    } finally {
      await c.close();
    }
    await sleep(20);
    expect(crashes).toEqual([]);
  }, 40_000);
});

function describeError(err: unknown): string {
  const e = err as { code?: string; name?: string; message?: string } | null;
  return `${e?.name ?? 'unknown'} ${e?.code ?? ''} ${e?.message ?? ''}`.trim();
}
