/**
 * Edit (XEP-0308) and delete for everyone (XEP-0424) of a message, both ways (issue 12 §6). The
 * change travels inside the signed OX payload (main/crypto/message-change.ts) and names the message
 * by its origin-id. Only the original sender may change a message:
 * - received: the change came through the same receive checks as a message (signed by the pinned
 *   key of the conversation's colleague, or by our own key for a copy of ours); it applies only to a
 *   message of the same conversation, from the same side, and signed by the same key (when we
 *   recorded it, migration 0010). Anything else is rejected and audited with ids, never text.
 * - sent: only our own message that left this workstation; sent before the change is stored, so
 *   the screen never shows a change the colleague did not get.
 * A deletion is final. Audit entries name the message id and who changed it, never the text.
 */
import type { Message } from '../../common/contract/domain';
import { AppError } from '../../common/result';
import { signcryptWithDigest, type MessageChange, type OpenedSigncrypt } from '../crypto';
import { sweepFiles } from '../attachments/sweep';
import { errorName } from '../log';
import type { MessageChangeWrite } from '../store';
import type { MessagingContext } from './context';
import { newOriginId } from './origin-id';
import type { OxItem } from './receive';
import { oxMessage } from './stanzas';

/** Why a received change was not applied (the audit's `reason`). */
export type ChangeRejection = 'unknown-message' | 'not-original-sender';

const write = (change: MessageChange, body: string): MessageChangeWrite =>
  change.kind === 'edit' ? { kind: 'edit', body } : { kind: 'retract' };

/**
 * Applies a received, verified change inside the caller's commit transaction. Returns the changed
 * message (for the renderer), or null when nothing changed.
 */
export function applyReceivedChange(
  ctx: MessagingContext,
  item: { it: OxItem; conversationId: string },
  opened: OpenedSigncrypt & { change: MessageChange },
): Message | null {
  const { store, audit, clock } = ctx.opts;
  const { it, conversationId } = item;
  const original = store.messages.findByOriginId(conversationId, opened.change.id);
  const signer = original ? store.messages.signerOf(original.id) : null;
  let reason: ChangeRejection | null = null;
  if (!original) reason = 'unknown-message';
  else if (original.direction !== it.direction || (signer !== null && signer !== opened.senderFingerprint)) {
    reason = 'not-original-sender';
  }
  if (reason || !original) {
    audit.append('message-change-rejected', {
      messageId: original?.id ?? null,
      peer: it.peer,
      direction: it.direction,
      change: opened.change.kind,
      reason,
    });
    ctx.opts.logger.warn('xmpp: message change rejected', { messageId: original?.id ?? null, reason });
    return null;
  }
  const changed = store.messages.applyChange(original.id, write(opened.change, opened.body), clock.now());
  // Applied once: a copy of the same signed change (carbon, archive) is a replay from now on.
  store.replay.add(opened.senderFingerprint, Buffer.from(opened.contentDigest, 'hex'));
  if (changed) audited(ctx, changed, opened.change.kind, it.peer, it.direction === 'in' ? 'peer' : 'other');
  return changed ?? null;
}

/** The renderer hears of each changed message, and of its conversation (the inbox preview). */
export function emitChanged(ctx: MessagingContext, changed: Message[]): void {
  for (const m of changed) {
    ctx.emitMessage(m, false);
    ctx.emitConversation(m.conversationId);
  }
  // A deletion for everyone took its attachment's row (issue 16): the file goes now, not at the next sweep.
  const { files, store, logger } = ctx.opts;
  if (files && changed.some((m) => m.deletedAt !== undefined))
    // Best effort: a blob left behind is removed by the next sweep (retention); the failure is logged.
    void sweepFiles(store, files).catch((err: unknown) =>
      logger.warn('attachment files not swept', { error: errorName(err) }),
    );
}

function audited(ctx: MessagingContext, m: Message, kind: MessageChange['kind'], peer: string, by: string): void {
  // `by`: the colleague, this workstation, or another workstation of ours.
  ctx.opts.audit.append(kind === 'edit' ? 'message-edited' : 'message-deleted', { messageId: m.id, peer, by });
}

/** Our own message as it may be changed: sent from this account, left this workstation, not deleted. */
function changeable(ctx: MessagingContext, messageId: string): Message & { originId: string } {
  const m = ctx.opts.store.messages.get(messageId);
  if (!m || m.direction !== 'out' || m.deletedAt !== undefined || m.body === null || !m.originId) {
    throw new AppError('NOT_FOUND', 'Only your own messages can be edited or deleted.');
  }
  if (!['sent', 'delivered', 'read'].includes(m.state)) {
    throw new AppError('CONFLICT', 'This message has not been sent yet. Edit or delete it once it is sent.');
  }
  return { ...m, originId: m.originId };
}

/**
 * Sends an edit (the new text) or a deletion of our own message, then stores it with its audit
 * entry and its replay-guard row in one commit. Needs the connection: offline it refuses
 * (NOT_CONNECTED) and nothing changes.
 */
export async function sendChange(
  ctx: MessagingContext,
  messageId: string,
  change: { kind: 'edit'; body: string } | { kind: 'retract' },
): Promise<Message> {
  const { store, clock } = ctx.opts;
  const m = changeable(ctx, messageId);
  const body = change.kind === 'edit' ? change.body : '';
  if (change.kind === 'edit' && body === m.body) return m;
  const conv = store.conversations.get(m.conversationId);
  const conn = ctx.conn();
  const identity = ctx.identity();
  if (!conv || !conn?.isReady() || !identity) {
    throw new AppError(
      'NOT_CONNECTED',
      'Not connected to the clinic server. Nothing was changed; try again when connected.',
    );
  }
  const key = await ctx.trust.keyForSending(conv.peerJid);
  const sealed = await signcryptWithDigest({
    identity,
    recipients: [key],
    to: conv.peerJid,
    body,
    now: new Date(clock.now()),
    change: { kind: change.kind, id: m.originId },
  });
  await conn.sendAcked(oxMessage(conv.peerJid, newOriginId(clock.now()), sealed.base64));
  const changed = store.transaction(() => {
    const after = store.messages.applyChange(m.id, change, clock.now());
    // Our own copy comes back from the archive (catch-up) or as a carbon: it must not apply twice.
    store.replay.add(identity.fingerprint, Buffer.from(sealed.contentDigest, 'hex'));
    if (after) audited(ctx, after, change.kind, conv.peerJid, 'me');
    return after;
  });
  if (!changed) return store.messages.get(m.id) ?? m;
  emitChanged(ctx, [changed]);
  return changed;
}
