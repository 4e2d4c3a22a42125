import { connect, createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../main/clock';
import { watchNegotiation } from '../../main/xmpp/transport/negotiation-watchdog';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Blocks this thread, as Argon2 setup, key generation or a SQLCipher open on the main thread do. */
const blockEventLoop = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};
const outcome = (p: Promise<never>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => e,
  );

describe('negotiation watchdog', () => {
  it('fails with NOT_CONNECTED (no-answer) after a silence of idleMs', async () => {
    const dog = watchNegotiation({ idleMs: 50, ceilingMs: 10_000 }, systemClock);
    await expect(dog.expired).rejects.toMatchObject({ code: 'NOT_CONNECTED', details: { cause: 'no-answer' } });
  });

  it('keeps waiting while the server shows progress, and ends at the ceiling (too-slow)', async () => {
    // Progress every 10 ms: the ceiling (four times the silence limit) ends it, not the silence.
    const dog = watchNegotiation({ idleMs: 150, ceilingMs: 600 }, systemClock);
    const ticker = setInterval(() => dog.progress(), 10);
    try {
      await expect(dog.expired).rejects.toMatchObject({ code: 'NOT_CONNECTED', details: { cause: 'too-slow' } });
    } finally {
      clearInterval(ticker);
    }
  });

  it('never fires once stopped, and abort rejects with the given error', async () => {
    const stopped = watchNegotiation({ idleMs: 30, ceilingMs: 100 }, systemClock);
    let settled: unknown = null;
    // outcome() turns a rejection into a value: this chain never rejects.
    void outcome(stopped.expired).then((o) => (settled = o));
    stopped.stop();
    await sleep(150);
    expect(settled).toBeNull();
    const aborted = watchNegotiation({ idleMs: 10_000, ceilingMs: 10_000 }, systemClock);
    const err = new Error('torn down');
    aborted.abort(err);
    await expect(aborted.expired).rejects.toBe(err);
  });

  it('counts an answer that arrived while the event loop was blocked before judging the silence', async () => {
    // Real loopback sockets: the "server" answers, then this thread is busy past the silence limit.
    // Node runs the expired timer before it reads the socket; the answer must still count.
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const accepted = new Promise<Socket>((r) => server.once('connection', r));
    const client = connect({ host: '127.0.0.1', port });
    await new Promise((r) => client.once('connect', r));
    const peer = await accepted;
    try {
      const dog = watchNegotiation({ idleMs: 100, ceilingMs: 10_000 }, systemClock);
      client.on('data', () => dog.progress());
      let settled: unknown = null;
      // outcome() turns a rejection into a value: this chain never rejects.
      void outcome(dog.expired).then((o) => (settled = o));
      await sleep(20);
      peer.write('<stream:features/>');
      blockEventLoop(250);
      await sleep(30); // the timer, the socket read and the re-check have all run
      expect(settled).toBeNull();
      dog.stop();
    } finally {
      client.destroy();
      peer.destroy();
      server.close();
    }
  });

  it('arms its checks on the clock the connection hands it, and disarms them when stopped', () => {
    const armed = new Map<number, number>();
    let next = 1;
    const timers = {
      setTimeout: (_fn: () => void, ms: number) => (armed.set(next, ms), next++),
      clearTimeout: (h: unknown) => void armed.delete(h as number),
    };
    const dog = watchNegotiation({ idleMs: 40_000, ceilingMs: 90_000 }, timers);
    expect([...armed.values()]).toEqual([40_000]);
    dog.stop();
    expect(armed.size).toBe(0);
  });
});
