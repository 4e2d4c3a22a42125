/**
 * The receive half of attachments (issue 16), on demand: download, verify and decrypt a received
 * file into the profile's encrypted file store, and read a stored one back for a preview.
 *
 * A download streams: ciphertext from the clinic's upload server (only there: download.ts
 * allowedHosts), through AES-256-GCM and the size and hash checks, re-encrypted into the file
 * store as it goes. It is published there only when tag, size and hash all held; any mismatch is
 * state 'damaged' (with the reason) and nothing is kept. A transfer failure is state 'failed'
 * with its reason, and may be tried again.
 */
import type { Readable } from 'node:stream';
import type { Attachment } from '../../common/contract/domain';
import { AppError } from '../../common/result';
import { downloadDecrypted } from '../attachments/download';
import { FileDamagedError } from '../attachments/file-crypto';
import { isPreviewImageType, nameAgreesWithType, reencodeImage, reencodeThumbnail } from '../attachments/image-preview';
import { fileSharingLimits } from '../crypto/file-sharing';
import type { FileStore } from '../attachments/file-store';
import { isJpeg, isPdf, isPng, isWebp } from '../attachments/signatures';
import { TransferError } from '../attachments/transfer-error';
import type { StoredAttachment } from '../store';
import { toAttachment } from '../store/repos/attachments';
import { newFileId, type Tracked } from './attachment-transfers';
import type { MessagingContext } from './context';
import type { UploadService } from './upload-slot';
import type { XmppConnection } from './transport/connection';
import type { HttpsTrust } from '../attachments/https';

/** What uploads and downloads need from the attachment service (attachments.ts). */
export interface TransferDeps {
  ctx: MessagingContext;
  files: () => FileStore;
  tracked: Tracked;
  uploadService: (conn: XmppConnection) => Promise<UploadService | null>;
  trust: () => HttpsTrust;
  emit: (a: StoredAttachment | undefined) => StoredAttachment | undefined;
  progress: (attachmentId: string) => (done: number, total: number) => void;
  checkPolicy: (size: number) => void;
}

/** Media types a preview may receive as bytes, each with the signature its content must start with. */
const PREVIEWABLE: Record<string, (b: Buffer) => boolean> = {
  'image/png': isPng,
  'image/jpeg': isJpeg,
  'image/webp': isWebp,
  'application/pdf': isPdf,
};

export const previewableTypes = Object.keys(PREVIEWABLE);

/** The largest file handed to the renderer for a preview: it is held in memory on both sides. */
export const PREVIEW_MAX_BYTES = 100 * 1024 * 1024;

/** The sender's own copy, or a received file that was stored: its plaintext is in the file store. */
const isLocal = (a: StoredAttachment): boolean =>
  a.localFileId !== null && a.sha256 !== null && (a.state === 'stored' || a.direction === 'out');

function fetchable(a: StoredAttachment) {
  if (!a.url || !a.key || !a.iv || !a.sha256 || !a.cipherSha256) return null;
  return {
    url: a.url,
    secrets: { key: a.key, iv: a.iv },
    expected: { size: a.size, sha256: a.sha256, cipherSha256: a.cipherSha256 },
  };
}

/**
 * Downloads one attachment into the file store. Resolves with its final state: stored, damaged
 * (altered or cut: nothing kept) or failed (a transfer failure: `failure` says which; try again).
 * Rejects without changing anything: NOT_FOUND, FORBIDDEN / TOO_LARGE (policy), CONFLICT
 * (already downloading, or damaged), NOT_CONNECTED.
 */
export async function downloadAttachment(d: TransferDeps, attachmentId: string): Promise<Attachment> {
  const { store } = d.ctx.opts;
  const a = store.attachments.get(attachmentId);
  if (!a) throw new AppError('NOT_FOUND', 'No such attachment.');
  if (isLocal(a)) return toAttachment(a);
  if (a.state === 'downloading') throw new AppError('CONFLICT', 'This file is already being downloaded.');
  if (a.state === 'damaged')
    throw new AppError('CONFLICT', 'This file was damaged or altered on its way and cannot be opened.');
  d.checkPolicy(a.size);
  const src = fetchable(a);
  if (!src) throw new AppError('NOT_FOUND', 'This attachment cannot be downloaded.', { failure: a.failure });
  const conn = d.ctx.conn();
  if (!conn?.isReady()) throw new AppError('NOT_CONNECTED', 'Not connected to the clinic server.');
  const fs = d.files();
  const domain = d.ctx.ownJid.slice(d.ctx.ownJid.indexOf('@') + 1).toLowerCase();
  // The file id is on the row before anything is written: the retention sweep never takes it.
  const fileId = newFileId();
  d.emit(store.attachments.update(a.id, { state: 'downloading', failure: null, localFileId: fileId }));
  try {
    // Not found (or the query failed): files may still come from the domain itself, nowhere else.
    const svc = await d.uploadService(conn).catch(() => null);
    await d.tracked(
      (signal) =>
        downloadDecrypted({
          ...src,
          sink: fs.sink(fileId),
          trust: d.trust(),
          allowedHosts: [domain, ...(svc ? [svc.jid.toLowerCase()] : [])],
          signal,
          onProgress: d.progress(a.id),
        }),
      a.id,
    );
    return toAttachment(d.emit(store.attachments.update(a.id, { state: 'stored' }))!);
  } catch (err) {
    const damaged = err instanceof FileDamagedError;
    const failure = damaged ? err.reason : err instanceof TransferError ? err.reason : 'interrupted';
    const after = store.attachments.update(a.id, { state: damaged ? 'damaged' : 'failed', failure, localFileId: null });
    d.ctx.opts.logger.warn('xmpp: attachment not downloaded', { attachmentId: a.id, failure });
    return toAttachment(d.emit(after)!);
  }
}

/** A stored file's plaintext as a stream (attachments:export), with what the export needs to name it. */
export interface StoredFileStream {
  messageId: string;
  name: string;
  mediaType: string;
  size: number;
  /** Fails (FileDamagedError) before its end unless tag, size and hash hold: delete what was written then. */
  source: Readable;
}

/**
 * A stored file's plaintext for an export (its bytes as sent, not a preview): the row must be
 * here (the sender's own copy or a stored download) and the policy's attachment rules must allow
 * it. The caller checks exportAllowed and audits; this only opens the stream.
 */
export async function openStoredAttachment(
  d: Pick<TransferDeps, 'ctx' | 'files' | 'checkPolicy'>,
  attachmentId: string,
): Promise<StoredFileStream> {
  const a = d.ctx.opts.store.attachments.get(attachmentId);
  if (!a) throw new AppError('NOT_FOUND', 'No such attachment.');
  d.checkPolicy(a.size);
  if (!isLocal(a)) throw new AppError('NOT_FOUND', 'This file has not been downloaded.');
  const source = await d.files().read(a.localFileId!, { size: a.size, sha256: a.sha256! });
  return { messageId: a.messageId, name: a.name, mediaType: a.mediaType, size: a.size, source };
}

/** What a preview is for: a thumbnail in the conversation, or the full-size viewer. */
export type PreviewView = 'thumbnail' | 'viewer';

/** The sender's thumbnail of a file not downloaded (yet), re-encoded like any image from outside. */
async function sendersThumbnail(t: { mediaType: string; data: Uint8Array }): Promise<{
  mediaType: string;
  data: Uint8Array;
}> {
  const limits = { maxBytes: fileSharingLimits.maxThumbnailBytes, maxSide: fileSharingLimits.maxThumbnailSide };
  const image = await reencodeThumbnail(t, limits);
  return {
    mediaType: image.mediaType,
    data: new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.length),
  };
}

/**
 * A stored file's bytes for a preview: only the types in PREVIEWABLE, and only when the name, the
 * type and the content's start agree (a file named .png that is not one is refused). The file
 * store checks tag, size and hash as it reads; nothing is returned unless they hold. An image is
 * never handed over as sent: it is decoded and re-encoded here, within pixel and size limits and
 * without metadata (image-preview.ts); a PDF goes as it is to pdf.js in the sandboxed renderer.
 */
export async function readAttachment(
  d: Pick<TransferDeps, 'ctx' | 'files' | 'checkPolicy'>,
  attachmentId: string,
  { view = 'viewer', maxBytes = PREVIEW_MAX_BYTES }: { view?: PreviewView; maxBytes?: number } = {},
): Promise<{ mediaType: string; data: Uint8Array }> {
  const a = d.ctx.opts.store.attachments.get(attachmentId);
  if (!a) throw new AppError('NOT_FOUND', 'No such attachment.');
  d.checkPolicy(a.size);
  if (!isLocal(a)) {
    // Not downloaded: a thumbnail may still be shown, the one the sender signed into the message.
    if (view === 'thumbnail' && a.thumbnail && a.state !== 'damaged') return sendersThumbnail(a.thumbnail);
    throw new AppError('NOT_FOUND', 'This file has not been downloaded.');
  }
  const matches = PREVIEWABLE[a.mediaType];
  if (!matches) throw new AppError('FORBIDDEN', 'This kind of file cannot be previewed.', { mediaType: a.mediaType });
  if (a.size > maxBytes) throw new AppError('TOO_LARGE', 'This file is too large to preview.', { maxBytes });
  if (!nameAgreesWithType(a.name, a.mediaType))
    throw new AppError('FORBIDDEN', 'This file is not what its name says, so it is not shown.', {
      mediaType: a.mediaType,
      preview: 'name-mismatch',
    });
  const chunks: Buffer[] = [];
  try {
    for await (const c of await d.files().read(a.localFileId!, { size: a.size, sha256: a.sha256! }))
      chunks.push(c as Buffer);
  } catch (err) {
    if (err instanceof FileDamagedError)
      throw new AppError('STORE_CORRUPT', 'The stored copy of this file is damaged.');
    throw err;
  }
  const data = Buffer.concat(chunks);
  if (!matches(data))
    throw new AppError('FORBIDDEN', 'This file is not what its type says, so it is not shown.', {
      mediaType: a.mediaType,
    });
  if (isPreviewImageType(a.mediaType)) {
    const image = await reencodeImage(data, { mediaType: a.mediaType, name: a.name });
    return {
      mediaType: image.mediaType,
      data: new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.length),
    };
  }
  return { mediaType: a.mediaType, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
