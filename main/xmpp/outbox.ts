/**
 * Durable outbox (issue 5 §5): a message is stored (queued) before anything goes on the wire,
 * signcrypted per attempt (XEP-0374 §2.1, to the recipient and to ourselves), and marked 'sent'
 * only when the server acknowledged the stanza (XEP-0198). Unacknowledged messages are retried
 * after reconnects with the SAME origin-id, so the recipient deduplicates a re-send.
 */
import type { Message } from '../../common/contract/domain';
import type { MentionRange } from '../../common/mentions';
import { AppError } from '../../common/result';
import { errorName } from '../log';
import type { MessagingContext } from './context';
import type { NewMessage } from '../store';
import { createAttachments, type OutgoingAttachment } from './attachments';
import { createOutboxSender } from './outbox-send';
import { newOriginId } from './origin-id';
import { passItems, pipelined } from './outbox-pass';
import { createResendList, resendUnconfirmed } from './outbox-resend';

/** A new message of ours: its queued row, its outbox entry and its file's row, in one transaction. */
function storeQueued(
  store: MessagingContext['opts']['store'],
  now: number,
  m: Pick<NewMessage, 'conversationId' | 'body' | 'replyToOriginId' | 'urgent' | 'mentions'>,
  attachment?: OutgoingAttachment,
): string {
  return store.transaction(() => {
    const ins = store.messages.insert({
      ...m,
      direction: 'out',
      state: 'queued',
      originId: newOriginId(now),
      sentAt: now,
    });
    store.outbox.enqueue(ins.id, now, now);
    if (attachment) store.attachments.add({ ...attachment, messageId: ins.id }, now);
    return ins.id;
  });
}

export function createOutbox(ctx: MessagingContext) {
  const { store, logger, clock } = ctx.opts;
  const { net } = ctx;
  // A message's file is uploaded by the outbox attempt that sends it (issue 16).
  const attachments = createAttachments(ctx);
  // What the server acknowledged lately, to send again after a lost server (outbox-resend.ts).
  const resends = createResendList(net);
  const { sendOne, setState, resend } = createOutboxSender(ctx, attachments, (id) => resends.acked(id));
  const inFlight = new Set<string>();
  let flushing: Promise<void> | null = null;
  let again = false;
  /** A reconnect's flush came while a pass was running: the next pass takes everything pending. */
  let againForced = false;

  async function drain(force: boolean): Promise<void> {
    do {
      again = false;
      // A send cut off by the lost connection is requeued with a backoff when it fails, which can be
      // after the reconnect's flush arrived: without the reconnect's `force` it would wait for its
      // backoff while the messages written after it go first (out of order).
      force ||= againForced;
      againForced = false;
      const conn = ctx.conn();
      if (!conn?.isReady()) return;
      // After a reconnect everything pending is due now (force); otherwise honour the backoff, and
      // a conversation's later messages wait behind one that waits (outbox-pass.ts).
      const items = passItems(store.outbox.all(), { now: clock.now(), force, inFlight });
      force = false;
      await pipelined(items, async (item, turn) => {
        inFlight.add(item.messageId);
        try {
          await sendOne(item.messageId, item.attempts, turn);
        } finally {
          inFlight.delete(item.messageId);
        }
      });
    } while (again);
  }

  /** Runs the outbox; concurrent calls coalesce into one more pass. */
  function flush(force = false): Promise<void> {
    if (flushing) {
      again = true;
      againForced ||= force;
      return flushing;
    }
    flushing = drain(force)
      .catch((err: unknown) => logger.error('xmpp: outbox flush failed', { error: errorName(err) }))
      .finally(() => {
        flushing = null;
      });
    return flushing;
  }

  return {
    attachments,
    flush,
    /**
     * A fresh session followed a lost one: what the server acknowledged lately and no receipt has
     * confirmed goes again, before the outbox's own pass (outbox-resend.ts).
     */
    resendUnconfirmed: () => resendUnconfirmed(ctx, resends, resend),
    /** An orderly stop: the server keeps what it acknowledged, nothing is sent again. */
    stopped: () => resends.clear(),
    /** Stores the message as queued (with its attachment row, issue 16) and schedules it; the UI gets it back at once. */
    enqueue(
      conversationId: string,
      body: string,
      replyToOriginId: string | null = null,
      urgent = false,
      attachment?: OutgoingAttachment,
      mentions: readonly MentionRange[] = [], // a care-team room's @mentions, checked by the caller (issue 18 §4)
    ): Message {
      const now = clock.now();
      const id = storeQueued(store, now, { conversationId, body, replyToOriginId, urgent, mentions }, attachment);
      const msg = store.messages.get(id);
      if (!msg) throw new AppError('INTERNAL', 'The message could not be stored.');
      ctx.emitMessage(msg, true);
      if (attachment) attachments.emit(store.attachments.byMessage(id));
      ctx.emitConversation(conversationId);
      // flush() logs its own failures; the 2 s timer (lifecycle.ts) tries again.
      void flush();
      return msg;
    },
    /** A colleague's first key appeared (trust.ts onKeyReady): what waits for them is due now, each once. */
    release(jid: string): void {
      const now = clock.now();
      for (const item of store.outbox.all()) {
        if (store.conversations.get(item.conversationId)?.peerJid === jid) store.outbox.enqueue(item.messageId, now);
      }
      // flush() logs its own failures; the 2 s timer (lifecycle.ts) tries again.
      void flush();
    },
    retry(messageId: string): Message {
      const msg = store.messages.get(messageId);
      if (!msg || msg.direction !== 'out') throw new AppError('NOT_FOUND', 'No such message.');
      if (msg.state !== 'failed') throw new AppError('CONFLICT', 'Only a message that failed can be retried.');
      const m = setState(messageId, 'queued');
      attachments.requeued(messageId);
      store.outbox.enqueue(messageId, clock.now(), clock.now());
      // As in enqueue: flush() logs its own failures and the timer tries again.
      void flush();
      return m ?? msg;
    },
    /** Waits until nothing is queued or in flight (tests, benchmarks, orderly stop). */
    async idle(timeoutMs: number): Promise<boolean> {
      const deadline = net.now() + timeoutMs;
      while (store.outbox.all().length > 0 || inFlight.size > 0) {
        if (net.now() > deadline) return false;
        await new Promise<void>((r) => net.setTimeout(r, 20));
      }
      return true;
    },
  };
}

export type Outbox = ReturnType<typeof createOutbox>;
