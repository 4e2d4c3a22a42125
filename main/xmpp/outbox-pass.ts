/**
 * Which outbox items one pass sends (outbox.ts drain), in the order they go.
 *
 * A conversation's messages must reach the colleague in the order they were written: receivers
 * order by receipt (common/message-time.ts). A message whose attempt failed waits for its backoff
 * (outbox-send.ts); a message written after it in the same conversation must not overtake it on
 * the timer's next pass. That happened on the 2-node ejabberd cluster (the clean-clone CI of
 * e916022): the first message of a burst went to a connection that had just died, waited out its
 * backoff, and the others, written after it and sent on the new connection, arrived first.
 *
 * So a pass takes, per conversation in written order, the items that are due, and stops at the
 * first one that is still in flight or whose last attempt lost the connection (NOT_CONNECTED):
 * the rest of that conversation waits for it, and the reconnect's pass (`force`, everything
 * pending is due) sends them all in order. A message set aside for the colleague's first key
 * holds nothing up: the ones after it need the same key, are set aside too, and all go in order
 * when it arrives (trust.ts onKeyReady). A message that failed for another reason (an upload the
 * server refused, say) waits out its backoff without holding up the messages after it: it may
 * never succeed, and they can.
 */
import type { OutboxItem } from '../store/types';
import { parseId } from '../store/ids';
import type { Turn } from './outbox-send';

/** Messages signcrypted and on the wire at once, per pass. */
export const MAX_IN_FLIGHT = 32;

/** A pass never takes more than this many items when it honours backoffs (the timer's pass). */
export const PASS_LIMIT = 1_000;

/** Message ids grow in the order messages were written (the messages table's rowid). */
export const writtenOrder = (messageId: string): number => parseId(messageId) ?? Number.MAX_SAFE_INTEGER;

export function passItems(
  pending: readonly OutboxItem[],
  o: { now: number; force: boolean; inFlight: ReadonlySet<string> },
): OutboxItem[] {
  const sorted = [...pending].sort((a, b) => writtenOrder(a.messageId) - writtenOrder(b.messageId));
  const held = new Set<string>();
  const out: OutboxItem[] = [];
  for (const item of sorted) {
    if (held.has(item.conversationId)) continue;
    if (o.inFlight.has(item.messageId)) {
      held.add(item.conversationId);
      continue;
    }
    if (!o.force && item.nextAttemptAt > o.now) {
      if (item.lastError === 'NOT_CONNECTED') held.add(item.conversationId);
      continue;
    }
    out.push(item);
  }
  return o.force ? out : out.slice(0, PASS_LIMIT);
}

/**
 * One pass's wire order per conversation: signcrypt runs for up to MAX_IN_FLIGHT messages at once
 * and a short one finishes before a long one, but the colleague must receive a conversation's
 * messages in the order they were written (receivers order by receipt, common/message-time.ts).
 * Each message's turn waits for the one written before it in the same conversation.
 */
function wireOrder() {
  const last = new Map<string, Promise<void>>();
  return {
    take(conversationId: string): Turn {
      const wait = last.get(conversationId) ?? Promise.resolve();
      let done!: () => void;
      last.set(conversationId, new Promise<void>((r) => (done = r)));
      return { wait, done };
    },
  };
}

/** Runs `send` for each item in the given order, up to MAX_IN_FLIGHT at once, each with its turn on the wire. */
export async function pipelined<T extends { conversationId: string }>(
  items: readonly T[],
  send: (item: T, turn: Turn) => Promise<void>,
): Promise<void> {
  const turns = wireOrder();
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await send(item, turns.take(item.conversationId));
    }
  };
  await Promise.all(Array.from({ length: Math.min(MAX_IN_FLIGHT, items.length) }, worker));
}
