/**
 * drafts:get / drafts:set (issue 12 §2): the composer's unsent text per conversation, in the
 * encrypted store. The text is PHI: never logged, never audited (it has not left the workstation).
 */
import { AppError } from '../../../common/result';
import type { DomainHandlers, HandlerContext } from './context';

export function draftHandlers(ctx: HandlerContext): DomainHandlers<'drafts:get' | 'drafts:set'> {
  return {
    'drafts:get': ({ conversationId }) => {
      const { store } = ctx.session.active();
      if (!store.conversations.get(conversationId)) throw new AppError('NOT_FOUND', 'No such conversation.');
      return { text: store.drafts.get(conversationId)?.text ?? '' };
    },
    'drafts:set': ({ conversationId, text }) => {
      ctx.session.active().store.drafts.set(conversationId, text);
      return null;
    },
  };
}
