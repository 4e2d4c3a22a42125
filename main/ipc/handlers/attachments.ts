/**
 * attachments:* (issue 16) — files end to end encrypted, through messaging (main/xmpp/attachments.ts,
 * attachment-download.ts). Sending stores the file and its message before anything is sent; the
 * renderer only ever receives names, states and, for a preview, the bytes of an allowed image or PDF.
 */
import { Readable } from 'node:stream';
import type { DomainHandlers, HandlerContext } from './context';

export function attachmentHandlers(
  ctx: HandlerContext,
): DomainHandlers<'attachments:send' | 'attachments:list' | 'attachments:download' | 'attachments:read'> {
  return {
    'attachments:send': async ({ conversationId, body, replyTo, urgent, file }) => {
      const active = ctx.session.active();
      ctx.session.reportActivity();
      const bytes = Buffer.from(file.data.buffer, file.data.byteOffset, file.data.byteLength);
      const sent = await active.messaging.sendAttachment(
        conversationId,
        { name: file.name, mediaType: file.mediaType, source: Readable.from([bytes]) },
        { ...(body ? { body } : {}), ...(replyTo ? { replyTo } : {}), urgent: urgent === true },
      );
      // As messages:send: accepted (stored), so the draft its text came from is done.
      if (body) active.store.drafts.remove(conversationId);
      return sent;
    },
    'attachments:list': ({ conversationId }) => ctx.session.active().messaging.attachments(conversationId),
    'attachments:download': async ({ attachmentId }) => {
      ctx.session.reportActivity();
      return ctx.session.active().messaging.downloadAttachment(attachmentId);
    },
    'attachments:read': async ({ attachmentId }) => {
      const { mediaType, data } = await ctx.session.active().messaging.readAttachment(attachmentId);
      return { mediaType, data: new Uint8Array(data) };
    },
  };
}
