/**
 * Sending again what a lost server may have dropped (issue 19, PROTOCOL.md "Delivery").
 *
 * The outbox counts a message sent when the server acknowledged it (XEP-0198). A server that dies
 * or stops right after that ack can still lose it: ejabberd 23.01 did, both on kill -9 of a
 * cluster node (what the node had acked and not yet passed to the colleague's node) and on a
 * graceful stop of a 2-node cluster (53 acked messages in the sender's archive never reached the
 * receiver: deploy/ejabberd/README.md). No catch-up on the receiving side can find those.
 *
 * So the outbox remembers which 1:1 messages the server acknowledged in the last RESEND_WINDOW_MS
 * of acks. When the stream is lost and the next one is a fresh session (the server did not keep
 * ours: it is a different node, or it restarted), each of them that no delivery receipt
 * (XEP-0184) has moved on from "sent" goes once more, with the same origin-id: the colleague
 * stores it once and answers with a receipt either way (inbound.ts). A colleague who is offline
 * gets a second copy in offline storage and the archive, which their catch-up also stores once.
 * A resumed stream (the server kept our session) and an orderly stop resend nothing. Care-team
 * rooms are not covered: a room reflects each message instead of sending receipts.
 */
import type { Clock } from '../clock';
import type { MessagingContext } from './context';
import { pipelined, writtenOrder } from './outbox-pass';
import type { Turn } from './outbox-send';

/** Acks older than this, counted back from the newest one, are past the server's risk. */
export const RESEND_WINDOW_MS = 60_000;

export function createResendList(net: Pick<Clock, 'now'>) {
  /** messageId → when the server acknowledged it; a Map keeps insertion (= ack) order. */
  const acked = new Map<string, number>();
  return {
    /** The server acknowledged this 1:1 message on the current stream. */
    acked(messageId: string): void {
      const now = net.now();
      acked.delete(messageId);
      acked.set(messageId, now);
      for (const [id, at] of acked) {
        if (at >= now - RESEND_WINDOW_MS) break;
        acked.delete(id);
      }
    },
    /** The acknowledged ids, oldest ack first, and forgets them (a resend that is acked adds it again). */
    take(): string[] {
      const ids = [...acked.keys()];
      acked.clear();
      return ids;
    },
    /** An orderly stop: the server has what it acknowledged. */
    clear(): void {
      acked.clear();
    },
  };
}

export type ResendList = ReturnType<typeof createResendList>;

/**
 * Sends what `list` holds again, in written order per conversation (outbox-pass.ts pipelined), and
 * resolves with how many copies the server acknowledged. `resend` is outbox-send.ts's: it skips a
 * message a receipt has moved on.
 */
export async function resendUnconfirmed(
  ctx: MessagingContext,
  list: ResendList,
  resend: (messageId: string, turn: Turn) => Promise<boolean>,
): Promise<number> {
  const { store, logger } = ctx.opts;
  const items = list
    .take()
    .sort((a, b) => writtenOrder(a) - writtenOrder(b))
    .map((messageId) => ({ messageId, conversationId: store.messages.get(messageId)?.conversationId ?? '' }))
    .filter((i) => i.conversationId !== '');
  let acked = 0;
  await pipelined(items, async (item, turn) => {
    if (await resend(item.messageId, turn)) acked += 1;
  });
  if (items.length > 0) logger.info('xmpp: unconfirmed messages sent again', { candidates: items.length, acked });
  return acked;
}
