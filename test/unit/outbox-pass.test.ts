// Which outbox items a pass sends (main/xmpp/outbox-pass.ts): a conversation's messages never
// overtake one written before them that waits for the connection or for a key.
import { describe, expect, it } from 'vitest';
import { PASS_LIMIT, passItems } from '../../main/xmpp/outbox-pass';
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
