/**
 * A message's stanza whose write fails because the stream broke under it (main/xmpp/transport/
 * connection.ts sendAcked). Once it is in stream management's queue its fate is the queue's: the
 * ack after a resumption (which sends it again) or the queue's failure on a fresh session — never
 * the write's error, or the outbox would count a failed attempt and send it a second time. A write
 * refused before the queue took it fails at once, as a lost connection (NOT_CONNECTED).
 */
import { EventEmitter } from 'node:events';
import { xml, type Client, type XmlElement } from '@xmpp/client';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../common/result';
import { sendAcked } from '../../main/xmpp/transport/connection';
import { ACK_REQUEST_EVERY, trackStreamManagement } from '../../main/xmpp/transport/stream-management';
import { fakeClock } from '../support/fake-clock';

/** The library's parts sendAcked uses: SM's queue and events, and a write that breaks. */
function brokenStream(o: { smEnabled: boolean; queues: boolean }) {
  const sm = Object.assign(new EventEmitter(), {
    enabled: o.smEnabled,
    outbound_q: [] as { stanza: XmlElement; stamp: string }[],
    inbound: 0,
  });
  const client = Object.assign(new EventEmitter(), {
    streamManagement: sm,
    send: (el: XmlElement) => {
      // As lib-patches.ts queueStanzasAsWritten: queued as the write starts, then the socket fails.
      if (o.queues) sm.outbound_q.push({ stanza: el, stamp: '' });
      return Promise.reject(new Error('write EPIPE'));
    },
  });
  const xmpp = client as unknown as Client;
  return { xmpp, sm, tracker: trackStreamManagement(xmpp, fakeClock(0)) };
}

const stanza = () => xml('message', { to: 'room@rooms.clinic.test', type: 'groupchat' });

describe('sendAcked when the write fails under a broken stream', () => {
  it('a stanza the queue took waits for its ack (a resumption sent it again), not for the write', async () => {
    const { xmpp, sm, tracker } = brokenStream({ smEnabled: true, queues: true });
    const el = stanza();
    let settled: 'acked' | 'failed' | null = null;
    // Both outcomes are recorded in `settled`, which the case checks.
    void sendAcked(xmpp, tracker, el).then(
      () => (settled = 'acked'),
      () => (settled = 'failed'),
    );
    await new Promise((r) => setImmediate(r));
    expect(settled).toBeNull();
    sm.emit('ack', el);
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe('acked');
  });

  it('…and fails as a lost connection when the queue is failed (a fresh session)', async () => {
    const { xmpp, sm, tracker } = brokenStream({ smEnabled: true, queues: true });
    const el = stanza();
    const sent = sendAcked(xmpp, tracker, el);
    await new Promise((r) => setImmediate(r));
    sm.emit('fail', el);
    await expect(sent).rejects.toMatchObject({ code: 'NOT_CONNECTED' });
  });

  it('a write refused before the queue took it fails at once, NOT_CONNECTED, and is not waited for', async () => {
    const { xmpp, tracker } = brokenStream({ smEnabled: true, queues: false });
    const el = stanza();
    const err = await sendAcked(xmpp, tracker, el).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'NOT_CONNECTED', details: { cause: 'Error' } });
    expect(tracker.queued(el)).toBe(false);
  });

  it('without stream management a failed write is a lost connection too, not an internal error', async () => {
    const { xmpp, tracker } = brokenStream({ smEnabled: false, queues: false });
    await expect(sendAcked(xmpp, tracker, stanza())).rejects.toMatchObject({ code: 'NOT_CONNECTED' });
  });
});

describe('ack requests during a run of sends', () => {
  /** A stream whose writes succeed; it records what went out. */
  function workingStream(smEnabled: boolean) {
    const sm = Object.assign(new EventEmitter(), { enabled: smEnabled, outbound_q: [], inbound: 0 });
    const out: XmlElement[] = [];
    const client = Object.assign(new EventEmitter(), {
      streamManagement: sm,
      send: (el: XmlElement) => {
        out.push(el);
        return Promise.resolve();
      },
    });
    const xmpp = client as unknown as Client;
    return { xmpp, sm, out, tracker: trackStreamManagement(xmpp, fakeClock(0)) };
  }
  const requests = (out: XmlElement[]) =>
    out.map((el, i) => (el.is('r', 'urn:xmpp:sm:3') ? i : -1)).filter((i) => i >= 0);

  it(`asks for the acks after every ${ACK_REQUEST_EVERY} stanzas written, right after the last of them`, async () => {
    const { xmpp, out, tracker } = workingStream(true);
    for (let i = 0; i < ACK_REQUEST_EVERY * 2 + 3; i++) {
      // Its ack never comes here: the case checks what went out, each written before the next starts.
      void sendAcked(xmpp, tracker, stanza());
      await new Promise((r) => setImmediate(r));
    }
    const every = ACK_REQUEST_EVERY + 1; // the stanzas and their request
    expect(requests(out)).toEqual([every - 1, 2 * every - 1]);
    expect(out.filter((el) => el.name === 'message')).toHaveLength(ACK_REQUEST_EVERY * 2 + 3);
  });

  it('asks nothing without stream management', async () => {
    const { xmpp, out, tracker } = workingStream(false);
    // Without stream management a send resolves once written.
    for (let i = 0; i < ACK_REQUEST_EVERY * 2; i++) await sendAcked(xmpp, tracker, stanza());
    expect(requests(out)).toEqual([]);
    expect(out).toHaveLength(ACK_REQUEST_EVERY * 2);
  });
});
