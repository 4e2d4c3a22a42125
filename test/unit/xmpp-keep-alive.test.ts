/**
 * XEP-0199 keep-alive (main/xmpp/transport/keep-alive.ts): an unanswered ping drops the stream it
 * went out on, and only that one — a ping left pending by a stream that died meanwhile must not
 * drop the stream that replaced it.
 */
import { EventEmitter } from 'node:events';
import type { Client } from '@xmpp/client';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../main/log';
import { createKeepAlive } from '../../main/xmpp/transport/keep-alive';
import { fakeClock } from '../support/fake-clock';

/** The parts of @xmpp/client the keep-alive uses: pings it can answer or fail, and the disconnects it asked for. */
function fakeClient() {
  const emitter = new EventEmitter();
  const pings: { to: string; fail: () => void; answer: () => void }[] = [];
  let disconnects = 0;
  const client = Object.assign(emitter, {
    iqCaller: {
      request: (el: { attrs: { to: string } }) =>
        new Promise<void>((resolve, reject) => {
          pings.push({ to: el.attrs.to, answer: resolve, fail: () => reject(new Error('timeout')) });
        }),
    },
    disconnect: () => {
      disconnects += 1;
      return Promise.resolve();
    },
  });
  return { xmpp: client as unknown as Client, emitter, pings, disconnects: () => disconnects };
}

const settle = () => new Promise<void>((r) => setImmediate(r));

describe('keep-alive', () => {
  it('pings the domain every interval while online, and drops the stream when a ping goes unanswered', async () => {
    const clock = fakeClock();
    const c = fakeClient();
    const ka = createKeepAlive(c.xmpp, 'clinic.test', clock, silentLogger, 60_000, () => true);
    ka.start();
    clock.advance(59_999);
    expect(c.pings).toHaveLength(0);
    clock.advance(1);
    expect(c.pings.map((p) => p.to)).toEqual(['clinic.test']);
    c.pings[0]!.answer();
    await settle();
    expect(c.disconnects()).toBe(0);
    clock.advance(60_000);
    expect(c.pings).toHaveLength(2);
    c.pings[1]!.fail();
    await settle();
    expect(c.disconnects()).toBe(1);
    ka.stop();
    clock.advance(600_000);
    expect(c.pings).toHaveLength(2);
  });

  it('a ping from a stream that has since dropped times out without dropping the new stream', async () => {
    const clock = fakeClock();
    const c = fakeClient();
    const ka = createKeepAlive(c.xmpp, 'clinic.test', clock, silentLogger, 60_000, () => true);
    ka.start();
    clock.advance(60_000);
    // The stream dies before the answer; the library reconnects, the request stays pending.
    c.emitter.emit('disconnect', { clean: false });
    c.pings[0]!.fail();
    await settle();
    expect(c.disconnects()).toBe(0);
    // The new stream's own ping still counts.
    clock.advance(60_000);
    c.pings[1]!.fail();
    await settle();
    expect(c.disconnects()).toBe(1);
    ka.stop();
  });

  it('sends no ping while the stream is not usable', () => {
    const clock = fakeClock();
    const c = fakeClient();
    let online = false;
    const ka = createKeepAlive(c.xmpp, 'clinic.test', clock, silentLogger, 60_000, () => online);
    ka.start();
    clock.advance(180_000);
    expect(c.pings).toHaveLength(0);
    online = true;
    clock.advance(60_000);
    expect(c.pings).toHaveLength(1);
    ka.stop();
  });
});
