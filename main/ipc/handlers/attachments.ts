/**
 * attachments:* (issue 16) — files end to end encrypted, through messaging (main/xmpp/attachments.ts,
 * attachment-download.ts). Sending stores the file and its message before anything is sent; the
 * renderer only ever receives names, states and, for a preview, the bytes of an allowed image
 * (re-encoded here) or PDF. Every preview shown and every export is audited with the message and
 * attachment ids, never the name, the path or the content.
 */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { opensInAnotherApp } from '../../../common/open-externally';
import { AppError } from '../../../common/result';
import { errorName } from '../../log';
import type { DomainHandlers, HandlerContext } from './context';

type Handlers = DomainHandlers<
  | 'attachments:send'
  | 'attachments:list'
  | 'attachments:download'
  | 'attachments:cancel'
  | 'attachments:read'
  | 'attachments:export'
  | 'attachments:openExternally'
  | 'attachments:dragOut'
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
    ctx.logger.warn('attachment export failed', { attachmentId, error: errorName(err) });
    throw new AppError(
      'STORE_CORRUPT',
      'The file could not be saved: its stored copy is damaged, or the place chosen cannot be written.',
    );
  }
  active.audit.append('export', { ...ids, allowed: true });
  return { saved: true };
}

/**
 * Hands a copy to another app, an export in both its forms (the other app reads the file in the
 * clear): "Open in another app" and drag-out. Only where the policy allows export; the copy is
 * written into the profile folder (attachments/opened-copies.ts) and removed when the session
 * closes; one written while the session locked is removed at once. Audited ('export' with `to`)
 * once the copy is there, just before `handOver` gets it.
 */
async function handToAnotherApp(
  ctx: HandlerContext,
  attachmentId: string,
  how: {
    to: 'app' | 'drag';
    /** What the policy's refusal says. */
    forbidden: string;
    /** What the system offers for it here; absent: not available. */
    handOver: ((path: string) => Promise<void>) | undefined;
    unavailable: string;
    /** Refuses a file by its name (throws). */
    check?: (name: string) => void;
  },
): Promise<void> {
  const active = ctx.session.active();
  ctx.session.reportActivity();
  const row = active.store.attachments.get(attachmentId);
  if (!row) throw new AppError('NOT_FOUND', 'No such attachment.');
  const ids = { kind: 'attachment', messageId: row.messageId, attachmentId, to: how.to };
  if (!ctx.policy.policy.exportAllowed) {
    active.audit.append('export', { ...ids, allowed: false });
    throw new AppError('FORBIDDEN', how.forbidden, { policy: 'exportAllowed' });
  }
  how.check?.(row.name);
  if (!how.handOver || !active.opened) throw new AppError('INTERNAL', how.unavailable);
  const file = await active.messaging.openAttachment(attachmentId);
  let path: string;
  try {
    path = await active.opened.write(file.name, file.source);
  } catch (err) {
    if (err instanceof AppError) throw err;
    ctx.logger.warn('attachment copy for another app failed', { attachmentId, error: errorName(err) });
    throw new AppError('STORE_CORRUPT', 'The file could not be opened: its stored copy is damaged.');
  }
  if (!stillOpen(ctx, active)) {
    await rm(dirname(path), { recursive: true, force: true });
    throw new AppError('LOCKED', 'The session is locked.');
  }
  active.audit.append('export', { ...ids, allowed: true });
  await how.handOver(path);
}

/**
 * "Open in another app": the system's default app for the file's type; only a document or
 * picture (common/open-externally.ts: never a program or script).
 */
async function openExternally(ctx: HandlerContext, attachmentId: string): Promise<{ opened: true }> {
  await handToAnotherApp(ctx, attachmentId, {
    to: 'app',
    forbidden: 'Opening files in other apps is turned off by your clinic policy.',
    handOver: ctx.openExternally,
    unavailable: 'Opening files in other apps is not available here.',
    check: (name) => {
      if (!opensInAnotherApp(name))
        throw new AppError(
          'FORBIDDEN',
          'This kind of file cannot be opened in another app from here. Save it instead.',
        );
    },
  });
  return { opened: true };
}

/**
 * Drag-out: the system's drag of the copy, to a folder or another app. Any type, as "Save as…":
 * a drop only places the file, as saving does.
 */
async function dragOut(ctx: HandlerContext, attachmentId: string): Promise<{ started: true }> {
  await handToAnotherApp(ctx, attachmentId, {
    to: 'drag',
    forbidden: 'Dragging files out is turned off by your clinic policy.',
    handOver: ctx.startDrag,
    unavailable: 'Dragging files out is not available here.',
  });
  return { started: true };
}

/** Whether `active` is still the open session (not locked, or locked and opened again, meanwhile). */
function stillOpen(ctx: HandlerContext, active: ReturnType<HandlerContext['session']['active']>): boolean {
  return ctx.session.isUnlocked() && ctx.session.active() === active;
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
    'attachments:openExternally': ({ attachmentId }) => openExternally(ctx, attachmentId),
    'attachments:dragOut': ({ attachmentId }) => dragOut(ctx, attachmentId),
  };
}
