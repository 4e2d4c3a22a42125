/**
 * One outbox attempt (issue 5 §5): signcrypt to the recipient and to ourselves (XEP-0374 §2.1),
 * send, and only when the server acknowledged the stanza (XEP-0198) mark it sent — out of the
 * outbox, sent and audited in one commit. A refusal (key changed or unavailable, foreign domain)
 * or too many attempts leaves the message failed until a person retries; a colleague who has not
 * published a key yet has it wait, queued, for their key; anything else is rescheduled with backoff.
 */
import type { Message } from '../../common/contract/domain';
import { AppError } from '../../common/result';
import { backoffMs } from '../backoff';
import { signcrypt, type Identity, type ReplyRef } from '../crypto';
import type { Attachments } from './attachments';
import type { MessagingContext } from './context';
import type { XmppConnection } from './transport/connection';
import { roomMessageStanza } from './room-stanzas';
import { oxMessage } from './stanzas';

const MAX_ATTEMPTS = 25;
/**
 * A message waiting for a colleague's first key (issue 12 §3) is released as soon as the key shows
 * up (trust.ts onKeyReady: their key-list notice or presence) and re-checked on every connect; this
 * is only the fallback for a server that tells us neither.
 */
export const WAIT_RECHECK_MS = 5 * 60_000;

/** An attempt's place in its conversation's wire order (outbox.ts drain). */
export interface Turn {
  /** Settles when the message before it in the conversation is on the wire (or will not be). */
  wait: Promise<void>;
  /** Lets the next message of the conversation go; idempotent. */
  done: () => void;
}
const FREE_TURN: Turn = { wait: Promise.resolve(), done: () => undefined };

/** A reply's reference and quote (XEP-0461): the answered message's author and origin-id. */
function replyFor(ctx: MessagingContext, msg: Message, peerJid: string): { reply?: ReplyRef & { quote: string } } {
  const { store } = ctx.opts;
  const ref = msg.replyTo?.messageId ? store.messages.get(msg.replyTo.messageId) : undefined;
  if (!ref?.originId) return {};
  // In a room the answered message's author is its sender (issue 18).
  const to = ref.direction === 'in' ? (ref.senderJid ?? peerJid) : ctx.ownJid;
  return { reply: { to, id: ref.originId, quote: msg.replyTo?.excerpt ?? '' } };
}

/**
 * The signcrypted stanza: to the colleague and ourselves (XEP-0374 §2.1), or to a care-team
 * room's current members and ourselves (issue 18, rooms.ts). The signature and <time/> carry
 * the injected clock's date (STYLE.md "Time").
 */
async function stanzaFor(
  ctx: MessagingContext,
  attachments: Attachments,
  msg: Message,
  peer: string,
  originId: string,
  identity: Identity,
) {
  const { clock } = ctx.opts;
  const attachment = await attachments.forSending(msg.id);
  const extra = { ...replyFor(ctx, msg, peer), urgent: msg.urgent === true, ...(attachment ? { attachment } : {}) };
  if (ctx.rooms?.isRoom(peer)) {
    // Its @mentions (issue 18 §4) as stored with it; only a room's messages carry them.
    const mentions = msg.mentions ?? [];
    return roomMessageStanza(peer, originId, await ctx.rooms.encrypt(peer, msg, identity, { ...extra, mentions }));
  }
  if (!ctx.peerAllowed(peer)) throw new AppError('FORBIDDEN', 'recipient outside the clinic domain');
  const key = await ctx.trust.keyForSending(peer);
  const base64 = await signcrypt({
    identity,
    recipients: [key],
    to: peer,
    body: msg.body ?? '',
    now: new Date(clock.now()),
    ...extra,
  });
  return oxMessage(peer, originId, base64);
}

/**
 * Signcrypts `msg` and writes it in its turn: `turn.done()` lets the conversation's next message
 * go once this one is written, before its ack, so sends stay pipelined. Resolves on the server's
 * ack (XEP-0198). `signed`: the stanza is ready (the benchmarks' `signed` stage).
 */
async function sendInTurn(
  ctx: MessagingContext,
  attachments: Attachments,
  o: {
    conn: XmppConnection;
    msg: Message;
    originId: string;
    peer: string;
    identity: Identity;
    turn: Turn;
    signed?: () => void;
  },
): Promise<void> {
  const { conn, msg, originId, peer, identity, turn, signed } = o;
  const stanza = await stanzaFor(ctx, attachments, msg, peer, originId, identity);
  signed?.();
  await turn.wait;
  const acked = conn.sendAcked(stanza);
  turn.done();
  await acked;
}

/**
 * `onAcked`: the server acknowledged a 1:1 message (the outbox's resend list, outbox-resend.ts);
 * a care-team room's messages are not reported.
 */
export function createOutboxSender(
  ctx: MessagingContext,
  attachments: Attachments,
  onAcked: (messageId: string) => void = () => undefined,
) {
  const { store, audit, logger, clock } = ctx.opts;

  /** `failure`: the error code a move to 'failed' records, for the conversation to show beside Retry. */
  function setState(id: string, state: Message['state'], failure?: string) {
    const m = store.messages.updateState(id, state, clock.now(), failure);
    if (m) {
      ctx.emitMessage(m, false);
      ctx.emitConversation(m.conversationId);
    }
    return m;
  }

  /**
   * `turn`: the wire order within the conversation (outbox.ts). Signcrypt runs as soon as the
   * attempt starts, concurrently with other messages; the stanza goes out only once `turn.wait`
   * settled (the one written before it is on the wire, or gave up), and `turn.done` lets the next
   * one go the moment this stanza is written — before its ack, so sends stay pipelined. Called on
   * every path out of the attempt.
   */
  async function sendOne(messageId: string, attempts: number, turn: Turn = FREE_TURN): Promise<void> {
    try {
      await attempt(messageId, attempts, turn);
    } finally {
      turn.done();
    }
  }

  async function attempt(messageId: string, attempts: number, turn: Turn): Promise<void> {
    const msg = store.messages.get(messageId);
    const conv = msg && store.conversations.get(msg.conversationId);
    if (msg && conv && msg.direction === 'out' && ['sent', 'delivered', 'read'].includes(msg.state)) {
      // It went out (a receipt has moved it on) but the commit after the server's ack failed:
      // finish that commit now rather than drop the row unaudited.
      store.transaction(() => {
        store.outbox.remove(messageId);
        attachments.settled(messageId, 'sent');
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
      const originId = msg.originId;
      await sendInTurn(ctx, attachments, {
        conn,
        msg,
        originId,
        peer: conv.peerJid,
        identity,
        turn,
        signed: () => ctx.opts.metrics?.live?.('signed', originId, performance.now()),
      });
      ctx.opts.metrics?.live?.('acked', msg.originId, performance.now());
      // One commit (issue 10 §11): out of the outbox, marked sent and audited together or not at all.
      const sent = store.transaction(() => {
        store.outbox.remove(messageId);
        const m = store.messages.updateState(messageId, 'sent', clock.now());
        attachments.settled(messageId, 'sent');
        audit.append('message-sent', { messageId, to: conv.peerJid });
        return m;
      });
      if (sent) {
        ctx.emitMessage(sent, false);
        ctx.emitConversation(sent.conversationId);
      }
      if (!ctx.rooms?.isRoom(conv.peerJid)) onAcked(messageId);
    } catch (err) {
      const code = err instanceof AppError ? err.code : 'INTERNAL';
      if (code === 'KEY_UNAVAILABLE' && ctx.trust.keyStatus(conv.peerJid) === 'none') {
        // They have not signed in yet: it stays queued ("Waiting for … to sign in") and counts no
        // attempt. enqueue only moves an existing row's next attempt.
        store.outbox.enqueue(messageId, clock.now() + WAIT_RECHECK_MS);
        return;
      }
      if (
        code === 'KEY_CHANGED' ||
        code === 'KEY_UNAVAILABLE' ||
        code === 'FORBIDDEN' ||
        code === 'ROOM_UNSAFE' ||
        code === 'ROOM_OWNERS_ONLY' ||
        code === 'TOO_LARGE' ||
        code === 'CANCELLED' ||
        attempts + 1 >= MAX_ATTEMPTS
      ) {
        // Never a plaintext fallback: the message waits as failed until a person acts (retry).
        store.outbox.remove(messageId);
        setState(messageId, 'failed', code);
        attachments.settled(messageId, 'failed', code);
        logger.warn('xmpp: message not sent', { messageId, code });
        return;
      }
      const delay = backoffMs(attempts, { baseMs: 1_000, maxMs: 60_000, maxExponent: 6 });
      store.outbox.reschedule(messageId, clock.now() + delay, code);
      if (code !== 'NOT_CONNECTED')
        logger.warn('xmpp: send attempt failed', { messageId, code, attempts: attempts + 1 });
    }
  }

  const resend = (messageId: string, turn: Turn = FREE_TURN) => resendOne(ctx, attachments, onAcked, messageId, turn);

  return { sendOne, setState, resend };
}

/**
 * Sends a message the server acknowledged once more, with the same origin-id (outbox-resend.ts):
 * its state stays as it is. True once this copy is acknowledged (and `remember`ed again); false
 * when it did not go: no longer "sent" (a receipt came), refused, or the connection was lost
 * again (then it is remembered for the next fresh session).
 */
async function resendOne(
  ctx: MessagingContext,
  attachments: Attachments,
  remember: (messageId: string) => void,
  messageId: string,
  turn: Turn,
): Promise<boolean> {
  const { store, logger } = ctx.opts;
  try {
    const msg = store.messages.get(messageId);
    const conv = msg && store.conversations.get(msg.conversationId);
    const conn = ctx.conn();
    const identity = ctx.identity();
    if (!msg || !conv || msg.direction !== 'out' || msg.state !== 'sent' || msg.body === null || !msg.originId)
      return false;
    if (!identity || ctx.rooms?.isRoom(conv.peerJid)) return false;
    if (!conn?.isReady()) {
      remember(messageId); // the new stream is gone already (a setup that stopped early): next time
      return false;
    }
    await sendInTurn(ctx, attachments, { conn, msg, originId: msg.originId, peer: conv.peerJid, identity, turn });
    remember(messageId);
    return true;
  } catch (err) {
    const code = err instanceof AppError ? err.code : 'INTERNAL';
    // Lost again with this stream: the next fresh session tries once more.
    if (code === 'NOT_CONNECTED') remember(messageId);
    else logger.warn('xmpp: message not sent again', { messageId, code });
    return false;
  } finally {
    turn.done();
  }
}
