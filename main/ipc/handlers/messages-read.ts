/** messages:page, messages:around and messages:search. Search runs through store.background (off the IPC thread where measured to matter). */
import { AppError } from '../../../common/result';
import type { DomainHandlers, HandlerContext } from './context';

export function messageReadHandlers(ctx: HandlerContext): DomainHandlers<'messages:page' | 'messages:around' | 'messages:search'> {
  return {
    'messages:page': ({ conversationId, before, limit }) => {
      const active = ctx.session.active();
      const conv = active.store.conversations.get(conversationId);
      if (!conv) throw new AppError('NOT_FOUND', 'No such conversation.');
      const page = active.store.messages.page(conversationId, { before, limit });
      const first = page.items[0];
      const last = page.items[page.items.length - 1];
      if (first && last) {
        // ARCHITECTURE.md §7: messages opened are audited — ids and counts, never text.
        active.audit.append('message-opened', {
          conversationId,
          peer: conv.peerJid,
          count: page.items.length,
          newestId: first.id,
          oldestId: last.id,
        });
      }
      return page;
    },
    'messages:around': ({ conversationId, messageId, limit }) => {
      const active = ctx.session.active();
      const conv = active.store.conversations.get(conversationId);
      if (!conv) throw new AppError('NOT_FOUND', 'No such conversation.');
      const page = active.store.messages.around(conversationId, messageId, limit); // NOT_FOUND when not in it
      const first = page.items[0];
      const last = page.items[page.items.length - 1];
      if (first && last) {
        // ARCHITECTURE.md §7: messages opened are audited — ids and counts, never text.
        active.audit.append('message-opened', {
          conversationId,
          peer: conv.peerJid,
          count: page.items.length,
          newestId: first.id,
          oldestId: last.id,
          aroundId: messageId,
        });
      }
      return page;
    },
    'messages:search': async ({ query, cursor, limit }) => {
      const active = ctx.session.active();
      return active.store.background.search(query, { cursor, limit });
    },
  };
}
