/**
 * attachments:* (issue 16) — files end to end encrypted, through messaging (main/xmpp/attachments.ts,
 * attachment-download.ts). Sending stores the file and its message before anything is sent; the
 * renderer only ever receives names, states and, for a preview, the bytes of an allowed image
 * (re-encoded here) or PDF. Every preview shown and every export is audited with the message and
 * attachment ids, never the name, the path or the content.
 */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../../common/result';
import type { DomainHandlers, HandlerContext } from './context';

type Handlers = DomainHandlers<
  | 'attachments:send'
  | 'attachments:list'
  | 'attachments:download'
  | 'attachments:cancel'
  | 'attachments:read'
  | 'attachments:export'
>;

/**
 * "Save as…": only where the policy allows export (checked here, whatever the renderer shows);
 * the path comes from the save dialog, never from the renderer. The file is written as it streams
 * out of the encrypted store and removed again if its checks fail at the end: no partial file.
 */
async function exportAttachment(ctx: HandlerContext, attachmentId: string): Promise<{ saved: boolean }> {
  const active = ctx.session.active();
  ctx.session.reportActivity();
  const row = active.store.attachments.get(attachmentId);
  if (!row) throw new AppError('NOT_FOUND', 'No such attachment.');
  const ids = { kind: 'attachment', messageId: row.messageId, attachmentId };
  if (!ctx.policy.policy.exportAllowed) {
    active.audit.append('export', { ...ids, allowed: false });
    throw new AppError('FORBIDDEN', 'Saving files is turned off by your clinic policy.', { policy: 'exportAllowed' });
  }
  if (!ctx.chooseSavePath) throw new AppError('INTERNAL', 'Saving files is not available here.');
  const file = await active.messaging.openAttachment(attachmentId);
  const path = await ctx.chooseSavePath(file.name).catch((err: unknown) => {
    file.source.destroy();
    throw err;
  });
  if (!path) {
    file.source.destroy();
    return { saved: false };
  }
  try {
    await pipeline(file.source, createWriteStream(path, { mode: 0o600 }));
  } catch (err) {
    await rm(path, { force: true });
    if (err instanceof AppError) throw err;
    ctx.logger.warn('attachment export failed', { attachmentId, error: err instanceof Error ? err.name : 'unknown' });
    throw new AppError(
      'STORE_CORRUPT',
      'The file could not be saved: its stored copy is damaged, or the place chosen cannot be written.',
    );
  }
  active.audit.append('export', { ...ids, allowed: true });
  return { saved: true };
}

export function attachmentHandlers(ctx: HandlerContext): Handlers {
  return {
    'attachments:send': async ({ conversationId, body, replyTo, urgent, mentions, file }) => {
      const active = ctx.session.active();
      ctx.session.reportActivity();
      const bytes = Buffer.from(file.data.buffer, file.data.byteOffset, file.data.byteLength);
      const sent = await active.messaging.sendAttachment(
        conversationId,
        { name: file.name, mediaType: file.mediaType, source: Readable.from([bytes]) },
        {
          ...(body ? { body } : {}),
          ...(replyTo ? { replyTo } : {}),
          urgent: urgent === true,
          ...(mentions?.length ? { mentions } : {}),
        },
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
    'attachments:cancel': ({ attachmentId }) => {
      ctx.session.reportActivity();
      return { cancelled: ctx.session.active().messaging.cancelTransfer(attachmentId) };
    },
    'attachments:read': async ({ attachmentId, view }) => {
      const active = ctx.session.active();
      const { mediaType, data } = await active.messaging.readAttachment(attachmentId, view);
      const messageId = active.store.attachments.get(attachmentId)?.messageId ?? null;
      active.audit.append('attachment-opened', { messageId, attachmentId, view });
      return { mediaType, data: new Uint8Array(data) };
    },
    'attachments:export': ({ attachmentId }) => exportAttachment(ctx, attachmentId),
  };
}
