// Which outbox items a pass sends (main/xmpp/outbox-pass.ts): a conversation's messages never
// overtake one written before them that waits for the connection or for a key. And how a pass
// goes on the wire (pipelined): in written order per conversation, the next message taken once a
// stanza is written, a bounded number waiting for the server's ack.
import { describe, expect, it } from 'vitest';
import { MAX_IN_FLIGHT, MAX_UNACKED, PASS_LIMIT, passItems, pipelined } from '../../main/xmpp/outbox-pass';
import type { Turn } from '../../main/xmpp/outbox-send';
import type { OutboxItem } from '../../main/store/types';

const NOW = 1_000_000;
const item = (messageId: number, conversationId: string, o: Partial<OutboxItem> = {}): OutboxItem => ({
  messageId: String(messageId),
  conversationId,
  attempts: 0,
  nextAttemptAt: NOW,
  lastError: null,
  createdAt: NOW,
  ...o,
});
const ids = (items: OutboxItem[]) => items.map((i) => Number(i.messageId));
const none = new Set<string>();

describe('an outbox pass', () => {
  it('sends what is due in written order, whatever order the store returned', () => {
    const pending = [item(3, 'c1'), item(1, 'c1'), item(2, 'c2')];
    expect(ids(passItems(pending, { now: NOW, force: false, inFlight: none }))).toEqual([1, 2, 3]);
  });

  it('holds a conversation behind a message whose attempt lost the connection and waits out its backoff', () => {
    // The cluster failover case: #1 went to a connection that had just died; #2 and #3 were
    // written after it. The timer's pass on the new connection must not send them first.
    const lost = item(1, 'c1', { attempts: 1, nextAttemptAt: NOW + 1_500, lastError: 'NOT_CONNECTED' });
    const pending = [lost, item(2, 'c1'), item(3, 'c1'), item(4, 'c2')];
    expect(ids(passItems(pending, { now: NOW, force: false, inFlight: none }))).toEqual([4]);
    // Its backoff over, all three go, in order.
    expect(ids(passItems(pending, { now: NOW + 1_500, force: false, inFlight: none }))).toEqual([1, 2, 3, 4]);
  });

  it('lets a later message be tried past one set aside for the colleague’s first key (it is set aside too)', () => {
    const waiting = item(1, 'c1', { nextAttemptAt: NOW + 5 * 60_000 });
    expect(ids(passItems([waiting, item(2, 'c1')], { now: NOW, force: false, inFlight: none }))).toEqual([2]);
  });

  it('holds a conversation behind a message still in flight', () => {
    const pending = [item(1, 'c1'), item(2, 'c1'), item(3, 'c2')];
    expect(ids(passItems(pending, { now: NOW, force: false, inFlight: new Set(['1']) }))).toEqual([3]);
    expect(ids(passItems(pending, { now: NOW, force: true, inFlight: new Set(['1']) }))).toEqual([3]);
  });

  it('lets later messages past one that failed for another reason (it may never succeed; they can)', () => {
    const refused = item(1, 'c1', { attempts: 3, nextAttemptAt: NOW + 8_000, lastError: 'UPLOAD_FAILED' });
    expect(ids(passItems([refused, item(2, 'c1')], { now: NOW, force: false, inFlight: none }))).toEqual([2]);
  });

  it('after a reconnect (force) takes everything pending, backoffs or not, in written order', () => {
    const pending = [
      item(2, 'c1'),
      item(1, 'c1', { attempts: 1, nextAttemptAt: NOW + 60_000, lastError: 'NOT_CONNECTED' }),
      item(3, 'c2', { nextAttemptAt: NOW + 5 * 60_000 }),
    ];
    expect(ids(passItems(pending, { now: NOW, force: true, inFlight: none }))).toEqual([1, 2, 3]);
  });

  it(`takes at most ${PASS_LIMIT} items when honouring backoffs, all of them after a reconnect`, () => {
    const many = Array.from({ length: PASS_LIMIT + 5 }, (_, i) => item(i + 1, `c${i % 7}`));
    expect(passItems(many, { now: NOW, force: false, inFlight: none })).toHaveLength(PASS_LIMIT);
    expect(passItems(many, { now: NOW, force: true, inFlight: none })).toHaveLength(PASS_LIMIT + 5);
  });
});

/** A pass's sends under test control: each is held at its write and again at its ack. */
function heldSends(n: number) {
  const items = Array.from({ length: n }, (_, i) => ({ id: i, conversationId: `c${i % 3}` }));
  const started: number[] = [];
  const written: number[] = [];
  const acks = new Map<number, { ok: () => void; fail: (e: Error) => void }>();
  const send = async (item: { id: number }, turn: Turn) => {
    started.push(item.id);
    await turn.wait;
    written.push(item.id);
    const acked = new Promise<void>((ok, fail) => acks.set(item.id, { ok, fail }));
    turn.done();
    await acked;
  };
  const ack = async (ids: number[]) => {
    for (const id of ids) acks.get(id)!.ok();
    await flush();
  };
  /** Acknowledges whatever is written, until every send was written and acknowledged. */
  const ackAll = async () => {
    for (let acked = new Set<number>(); acked.size < n;) {
      const now = written.filter((id) => !acked.has(id));
      if (now.length === 0) throw new Error('the pass stopped taking messages');
      now.forEach((id) => acked.add(id));
      await ack(now);
    }
  };
  return { items, started, written, acks, send, ack, ackAll };
}
const flush = () => new Promise<void>((r) => setImmediate(r));

describe('a pass on the wire (pipelined)', () => {
  it(`takes the next message once a stanza is written, not acked, up to ${MAX_UNACKED} unacknowledged`, async () => {
    const s = heldSends(MAX_UNACKED + 10);
    let done = false;
    const pass = pipelined(s.items, s.send).then(() => (done = true));
    await flush();
    // Nothing acknowledged yet: the slots went on past the first MAX_IN_FLIGHT, up to the limit.
    expect(MAX_UNACKED).toBeGreaterThan(MAX_IN_FLIGHT);
    expect(s.written).toHaveLength(MAX_UNACKED);
    expect(s.started).toHaveLength(MAX_UNACKED);
    // Each ack lets one more go; the pass ends only when every send settled.
    await s.ack([0, 1, 2]);
    expect(s.written).toHaveLength(MAX_UNACKED + 3);
    expect(done).toBe(false);
    await s.ackAll();
    await pass;
    expect(done).toBe(true);
    expect(s.written).toHaveLength(s.items.length);
  });

  it('writes each conversation’s messages in the order given, however their sends interleave', async () => {
    const s = heldSends(60);
    const pass = pipelined(s.items, s.send);
    await flush();
    await s.ackAll();
    await pass;
    for (const c of ['c0', 'c1', 'c2']) {
      const order = s.written.filter((id) => s.items[id]!.conversationId === c);
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
    expect([...s.written].sort((a, b) => a - b)).toEqual(s.items.map((i) => i.id));
  });

  it('lets every other send settle before it rejects with the first error', async () => {
    const s = heldSends(5);
    let outcome: unknown = null;
    const pass = pipelined(s.items, s.send).then(
      () => (outcome = 'resolved'),
      (err: unknown) => (outcome = err),
    );
    await flush();
    s.acks.get(1)!.fail(new Error('first'));
    s.acks.get(3)!.fail(new Error('second'));
    await s.ack([0, 2]);
    expect(outcome).toBeNull(); // message 4 still waits for its ack
    await s.ack([4]);
    await pass;
    expect(outcome).toEqual(new Error('first'));
  });

  it('moves on from a send that gives up before its write (turn.done on the way out)', async () => {
    const items = [0, 1, 2].map((id) => ({ id, conversationId: 'c' }));
    const written: number[] = [];
    await pipelined(items, async (item, turn) => {
      await turn.wait;
      if (item.id !== 1) written.push(item.id);
      turn.done();
    });
    expect(written).toEqual([0, 2]);
  });
});
