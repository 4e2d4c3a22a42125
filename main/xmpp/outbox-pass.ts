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

/** Messages being signcrypted (or waiting for their turn on the wire) at once, per pass. */
export const MAX_IN_FLIGHT = 32;

/**
 * Messages of a pass not yet settled at once: being signcrypted, or written and waiting for the
 * server's ack. A slot of MAX_IN_FLIGHT takes its next message as soon as its stanza is written,
 * not when it is acknowledged, so signcrypt runs while the server stores what went before instead
 * of in turns with it (docs/performance.md, "A burst to a colleague who is offline"). 48 and 128
 * measured the same; this keeps what a lost connection leaves to send again small.
 */
export const MAX_UNACKED = 64;

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

/**
 * Runs `send` for each item in the given order, each with its turn on the wire: up to MAX_IN_FLIGHT
 * before their stanza is written, and up to MAX_UNACKED not yet settled (acknowledged, or given
 * up). A slot moves on when its item's `turn.done` is called (outbox-send.ts calls it once the
 * stanza is written, or on the attempt's way out). Resolves when every `send` has settled; rejects
 * with the first error after that.
 */
export async function pipelined<T extends { conversationId: string }>(
  items: readonly T[],
  send: (item: T, turn: Turn) => Promise<void>,
): Promise<void> {
  const turns = wireOrder();
  const unsettled = new Set<Promise<void>>();
  const errors: unknown[] = [];
  let next = 0;
  const slot = async () => {
    while (next < items.length) {
      while (unsettled.size >= MAX_UNACKED) await Promise.race(unsettled);
      if (next >= items.length) return;
      const item = items[next++]!;
      const turn = turns.take(item.conversationId);
      let written!: () => void;
      const released = new Promise<void>((r) => (written = r));
      const settled: Promise<void> = send(item, {
        wait: turn.wait,
        done: () => {
          turn.done();
          written();
        },
      })
        .catch((err: unknown) => {
          errors.push(err);
        })
        .finally(() => {
          unsettled.delete(settled);
          written();
        });
      unsettled.add(settled);
      await released;
    }
  };
  await Promise.all(Array.from({ length: Math.min(MAX_IN_FLIGHT, items.length) }, slot));
  await Promise.all(unsettled);
  if (errors.length > 0) throw errors[0];
}
