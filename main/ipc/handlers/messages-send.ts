/**
 * messages:send / messages:retry — through the durable outbox (main/xmpp/outbox.ts). The message
 * is stored before anything is sent; KEY_CHANGED / KEY_UNAVAILABLE refuse (never plaintext); to a
 * colleague who has not signed in yet (no key published) it waits in the outbox for their key.
 */
import type { DomainHandlers, HandlerContext } from './context';

export function messageSendHandlers(
  ctx: HandlerContext,
): DomainHandlers<'messages:send' | 'messages:retry' | 'messages:edit' | 'messages:delete'> {
  return {
    'messages:send': async ({ conversationId, body, replyTo, urgent, mentions }) => {
      const active = ctx.session.active();
      ctx.session.reportActivity();
      const sent = await active.messaging.send(conversationId, body, replyTo, urgent === true, mentions);
      // Accepted (stored in the outbox): the draft it came from is done (issue 12 §2). A refusal
      // rejects above and keeps the draft, so nothing typed is lost.
      active.store.drafts.remove(conversationId);
      return sent;
    },
    'messages:retry': async ({ messageId }) => ctx.session.active().messaging.retry(messageId),
    // Edit and delete for everyone (issue 12 §6): only our own sent messages; main checks, the UI only offers.
    'messages:edit': async ({ messageId, body }) => {
      ctx.session.reportActivity();
      return ctx.session.active().messaging.change(messageId, { kind: 'edit', body });
    },
    'messages:delete': async ({ messageId }) => {
      ctx.session.reportActivity();
      return ctx.session.active().messaging.change(messageId, { kind: 'retract' });
    },
  };
}
