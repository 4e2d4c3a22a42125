/**
 * Durable outbox (issue 5 §5): a message is stored (queued) before anything goes on the wire,
 * signcrypted per attempt (XEP-0374 §2.1, to the recipient and to ourselves), and marked 'sent'
 * only when the server acknowledged the stanza (XEP-0198). Unacknowledged messages are retried
 * after reconnects with the SAME origin-id, so the recipient deduplicates a re-send.
 */
import type { Message } from '../../common/contract/domain';
import { AppError } from '../../common/result';
import { backoffMs } from '../backoff';
import { signcrypt } from '../crypto';
import { errorName } from '../log';
import type { MessagingContext } from './context';
import { newOriginId } from './origin-id';
import { oxMessage } from './stanzas';

const MAX_IN_FLIGHT = 32;
const MAX_ATTEMPTS = 25;

export function createOutbox(ctx: MessagingContext) {
  const { store, audit, logger, clock } = ctx.opts;
  const { net } = ctx;
  const inFlight = new Set<string>();
  let flushing: Promise<void> | null = null;
  let again = false;

  function setState(id: string, state: Message['state']) {
    const m = store.messages.updateState(id, state, clock.now());
    if (m) {
      ctx.emitMessage(m, false);
      ctx.emitConversation(m.conversationId);
    }
    return m;
  }

  async function sendOne(messageId: string, attempts: number): Promise<void> {
    const msg = store.messages.get(messageId);
    const conv = msg && store.conversations.get(msg.conversationId);
    if (msg && conv && msg.direction === 'out' && ['sent', 'delivered', 'read'].includes(msg.state)) {
      // It went out (a receipt has moved it on) but the commit after the server's ack failed:
      // finish that commit now rather than drop the row unaudited.
      store.transaction(() => {
        store.outbox.remove(messageId);
        audit.append('message-sent', { messageId, to: conv.peerJid });
      });
      return;
    }
    if (!msg || msg.direction !== 'out' || msg.state !== 'queued' || msg.body === null || !msg.originId) {
      store.outbox.remove(messageId);
      return;
    }
    const conn = ctx.conn();
    const identity = ctx.identity();
    if (!conv || !conn?.isReady() || !identity) return;
    try {
      if (!ctx.peerAllowed(conv.peerJid)) throw new AppError('FORBIDDEN', 'recipient outside the clinic domain');
      const key = await ctx.trust.keyForSending(conv.peerJid);
      // The signature and <time/> carry the injected clock's date (STYLE.md "Time").
      const base64 = await signcrypt({ identity, recipients: [key], to: conv.peerJid, body: msg.body, now: new Date(clock.now()) });
      await conn.sendAcked(oxMessage(conv.peerJid, msg.originId, base64));
      // One commit (issue 10 §11): out of the outbox, marked sent and audited together or not at all.
      const sent = store.transaction(() => {
        store.outbox.remove(messageId);
        const m = store.messages.updateState(messageId, 'sent', clock.now());
        audit.append('message-sent', { messageId, to: conv.peerJid });
        return m;
      });
      if (sent) {
        ctx.emitMessage(sent, false);
        ctx.emitConversation(sent.conversationId);
      }
    } catch (err) {
      const code = err instanceof AppError ? err.code : 'INTERNAL';
      if (code === 'KEY_CHANGED' || code === 'KEY_UNAVAILABLE' || code === 'FORBIDDEN' || attempts + 1 >= MAX_ATTEMPTS) {
        // Never a plaintext fallback: the message waits as failed until a person acts (retry).
        store.outbox.remove(messageId);
        setState(messageId, 'failed');
        logger.warn('xmpp: message not sent', { messageId, code });
        return;
      }
      const delay = backoffMs(attempts, { baseMs: 1_000, maxMs: 60_000, maxExponent: 6 });
      store.outbox.reschedule(messageId, clock.now() + delay, code);
      if (code !== 'NOT_CONNECTED')
        logger.warn('xmpp: send attempt failed', { messageId, code, attempts: attempts + 1 });
    }
  }

  async function drain(force: boolean): Promise<void> {
    do {
      again = false;
      const conn = ctx.conn();
      if (!conn?.isReady()) return;
      // After a reconnect everything pending is due now (force); otherwise honour the backoff.
      const items = (force ? store.outbox.all() : store.outbox.due(clock.now(), 1_000)).filter(
        (i) => !inFlight.has(i.messageId),
      );
      force = false;
      let next = 0;
      const worker = async () => {
        while (next < items.length) {
          const item = items[next++]!;
          inFlight.add(item.messageId);
          try {
            await sendOne(item.messageId, item.attempts);
          } finally {
            inFlight.delete(item.messageId);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(MAX_IN_FLIGHT, items.length) }, worker));
    } while (again);
  }

  /** Runs the outbox; concurrent calls coalesce into one more pass. */
  function flush(force = false): Promise<void> {
    if (flushing) {
      again = true;
      return flushing;
    }
    flushing = drain(force)
      .catch((err: unknown) =>
        logger.error('xmpp: outbox flush failed', { error: errorName(err) }),
      )
      .finally(() => {
        flushing = null;
      });
    return flushing;
  }

  return {
    flush,
    /** Stores the message as queued and schedules it; the UI gets it back at once. */
    enqueue(conversationId: string, body: string): Message {
      const now = clock.now();
      const id = store.transaction(() => {
        const ins = store.messages.insert({
          conversationId,
          direction: 'out',
          state: 'queued',
          body,
          originId: newOriginId(now),
          sentAt: now,
        });
        store.outbox.enqueue(ins.id, now, now);
        return ins.id;
      });
      const msg = store.messages.get(id);
      if (!msg) throw new AppError('INTERNAL', 'The message could not be stored.');
      ctx.emitMessage(msg, true);
      ctx.emitConversation(conversationId);
      void flush();
      return msg;
    },
    retry(messageId: string): Message {
      const msg = store.messages.get(messageId);
      if (!msg || msg.direction !== 'out') throw new AppError('NOT_FOUND', 'No such message.');
      if (msg.state !== 'failed') throw new AppError('CONFLICT', 'Only a message that failed can be retried.');
      const m = setState(messageId, 'queued');
      store.outbox.enqueue(messageId, clock.now(), clock.now());
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
