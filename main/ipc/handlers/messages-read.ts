/** messages:page, messages:around and messages:search. Search runs through store.background (off the IPC thread where measured to matter). */
import type { Message } from '../../../common/contract/domain';
import { AppError } from '../../../common/result';
import type { ActiveSession } from '../../session/types';
import { withReadBy } from '../../xmpp/room-reads';
import type { DomainHandlers, HandlerContext } from './context';

/** Reads one window of a conversation's history and audits it as opened (ARCHITECTURE.md §7: ids and counts, never text). */
function openWindow<P extends { items: Message[] }>(
  active: ActiveSession,
  conversationId: string,
  read: () => P,
  extra: Record<string, string> = {},
): P {
  const conv = active.store.conversations.get(conversationId);
  if (!conv) throw new AppError('NOT_FOUND', 'No such conversation.');
  // Our own messages in a care-team room carry who read them (issue 18 §4).
  const found = read();
  const page = { ...found, items: withReadBy(active.store, active.jid, found.items) };
  const first = page.items[0];
  const last = page.items[page.items.length - 1];
  if (first && last) {
    active.audit.append('message-opened', {
      conversationId,
      peer: conv.peerJid,
      count: page.items.length,
      newestId: first.id,
      oldestId: last.id,
      ...extra,
    });
  }
  return page;
}

export function messageReadHandlers(
  ctx: HandlerContext,
): DomainHandlers<'messages:page' | 'messages:around' | 'messages:search'> {
  return {
    'messages:page': ({ conversationId, before, limit }) => {
      const active = ctx.session.active();
      return openWindow(active, conversationId, () => active.store.messages.page(conversationId, { before, limit }));
    },
    'messages:around': ({ conversationId, messageId, limit }) => {
      const active = ctx.session.active();
      // The store answers NOT_FOUND when the message is not in this conversation.
      return openWindow(active, conversationId, () => active.store.messages.around(conversationId, messageId, limit), {
        aroundId: messageId,
      });
    },
    'messages:search': async ({ query, cursor, limit }) => {
      const active = ctx.session.active();
      const page = await active.store.background.search(query, { cursor, limit });
      // Results show message text: a read of PHI (issue 10 §8). Ids and count only — the query
      // is itself PHI-bearing text (a patient's name) and never reaches the log.
      if (page.items.length > 0) {
        active.audit.append('message-search', {
          count: page.items.length,
          messageIds: page.items.map((h) => h.messageId).join(','),
        });
      }
      return page;
    },
  };
}
