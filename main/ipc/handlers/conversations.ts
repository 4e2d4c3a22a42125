/**
 * conversations:* — the list (with live presence from XMPP), open, mark read, and which one is in view.
 * Everything goes through ctx.session.active(), which throws LOCKED once the profile is locked.
 */
import { AppError } from '../../../common/result';
import type { ConversationSummary } from '../../../common/contract/domain';
import type { ActiveSession } from '../../session/types';
import { decodeCursor } from '../../store/ids';
import { mergeIntoPage, phoneOfConversation } from '../../store/repos/patient-conversations';
import type { ConversationListItem } from '../../store/types';
import type { DomainHandlers, HandlerContext } from './context';

function withPresence(active: ActiveSession, item: ConversationListItem): ConversationSummary {
  return { ...item, presence: active.messaging.presenceOf(item.peerJid) };
}

const domainOf = (jid: string) => jid.slice(jid.indexOf('@') + 1).toLowerCase();

export function conversationHandlers(
  ctx: HandlerContext,
): DomainHandlers<
  | 'conversations:list'
  | 'conversations:open'
  | 'conversations:markRead'
  | 'conversations:markUnread'
  | 'conversations:view'
  | 'rooms:create'
> {
  return {
    'conversations:list': ({ cursor, limit }) => {
      const active = ctx.session.active();
      const page = active.store.conversations.list({ cursor, limit });
      // Patient conversations (issue 17) have rows of their own; each goes on the page of its time.
      const items = mergeIntoPage(page, decodeCursor(cursor)?.at ?? null, active.store.patientConversations.list());
      // The preview is the last message's text: a read of PHI (issue 10 §8). One entry per list
      // call (not one per row) with the ids of the messages whose text was previewed.
      const previewed = items.flatMap((i) => (i.lastMessage?.preview != null ? [i.lastMessage.id] : []));
      if (previewed.length > 0)
        active.audit.append('message-previewed', { count: previewed.length, messageIds: previewed.join(',') });
      return { items: items.map((i) => withPresence(active, i)), nextCursor: page.nextCursor };
    },
    'conversations:open': ({ peerJid }) => {
      const active = ctx.session.active();
      const peer = peerJid.toLowerCase();
      // Recipients are limited to the clinic's own domain (HIPAA.md: nothing sent outside the organisation).
      if (domainOf(peer) !== domainOf(active.jid)) {
        throw new AppError('FORBIDDEN', 'Conversations are limited to colleagues on your clinic server.');
      }
      if (peer === active.jid.toLowerCase())
        throw new AppError('BAD_INPUT', 'You cannot start a conversation with yourself.');
      return { conversationId: active.store.conversations.getOrCreate(peer).id };
    },
    // A care-team room made here (issue 18 §1): policy, name and members are checked in room-create.ts.
    'rooms:create': async ({ name, members }) => {
      const { conversationId } = await ctx.session.active().messaging.createRoom({ name, members });
      return { conversationId };
    },
    'conversations:markRead': ({ conversationId, upTo }) => {
      const active = ctx.session.active();
      if (!active.store.conversations.get(conversationId)) throw new AppError('NOT_FOUND', 'No such conversation.');
      if (active.store.messages.get(upTo)?.conversationId !== conversationId)
        throw new AppError('NOT_FOUND', 'No such message in this conversation.');
      markRead(ctx, active, conversationId, upTo);
      return null;
    },
    'conversations:markUnread': ({ conversationId, from }) => {
      const active = ctx.session.active();
      const m = active.store.messages.get(from);
      // Only a message they received, in this conversation: our own have no "unread".
      if (m?.conversationId !== conversationId || m.direction !== 'in' || m.state === 'unverified')
        throw new AppError('NOT_FOUND', 'No such received message in this conversation.');
      // Nothing goes to the sender: their "Read" stays true, this only brings it back to our attention.
      if (active.store.conversations.markUnread(conversationId, from) === 0) return null;
      const summary = active.store.conversations.summary(conversationId);
      if (summary) ctx.events.emit('conversation:updated', withPresence(active, summary));
      return null;
    },
    'conversations:view': ({ conversationId }) => {
      const active = ctx.session.active();
      // A patient conversation (issue 17) is one number's texts and replies, not a chat row.
      const phone = conversationId === null ? null : phoneOfConversation(conversationId);
      const exists = (id: string) =>
        phone !== null
          ? active.store.patientConversations.summary(phone) !== undefined
          : !!active.store.conversations.get(id);
      if (conversationId !== null && !exists(conversationId)) {
        active.messaging.view(null);
        throw new AppError('NOT_FOUND', 'No such conversation.');
      }
      // From now on messaging stores live inbound messages (a patient's replies) to it read. What arrived before is not
      // marked here: the renderer says what it showed (conversations:markRead), issue 12 §1.
      active.messaging.view(conversationId);
      return null;
    },
  };
}

/**
 * Marks a conversation's inbound messages up to `upTo` read; when any changed, the inbox row and
 * the sender hear of it.
 */
function markRead(ctx: HandlerContext, active: ActiveSession, conversationId: string, upTo: string): void {
  // The read time comes from the store's clock: the session's injected one (STYLE.md "Time").
  const changed = active.store.conversations.markRead(conversationId, undefined, upTo);
  if (changed === 0) return;
  const summary = active.store.conversations.summary(conversationId);
  if (summary) ctx.events.emit('conversation:updated', withPresence(active, summary));
  // XEP-0333: tell the sender their messages were displayed. Best effort: a marker that
  // cannot be sent now (offline) must not fail the local mark-read.
  void active.messaging.markDisplayed(conversationId, upTo).catch(() => undefined);
}
