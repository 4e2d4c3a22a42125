/**
 * Helpers of the attachment service (attachments.ts): transfers that stop() can cancel, the
 * server's upload service found once per connection, and a file to send stored at rest.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { AppError } from '../../common/result';
import type { FileStore } from '../attachments/file-store';
import type { PlainFacts } from '../attachments/file-crypto';
import { IMAGE_MAX_BYTES, isPreviewImageType, makeThumbnail } from '../attachments/image-preview';
import { MetadataError, stripMetadata } from '../attachments/strip-metadata';
import { TransferError } from '../attachments/transfer-error';
import { fileSharingLimits, safeDisplayName, safeMediaType, type Thumbnail } from '../crypto/file-sharing';
import type { Policy } from '../policy/schema';
import type { NewAttachment } from '../store';
import type { XmppConnection } from './transport/connection';
import { findUploadService, type UploadService } from './upload-slot';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';

export const MB = 1024 * 1024;

/** A file to send: read once, as a stream. */
export interface OutgoingFile {
  name: string;
  mediaType: string;
  source: Readable;
}

/** What the outbox writes with the message (outbox.ts enqueue). */
export type OutgoingAttachment = Omit<NewAttachment, 'messageId'>;

export const newFileId = (): string => `f${randomBytes(12).toString('hex')}`;

/**
 * Runs a transfer with an AbortSignal that stop() (lock, sign-out) aborts; with a `key` (the
 * attachment id) cancel(key) aborts it too, and it then fails as TransferError('cancelled')
 * whatever the aborted step threw.
 */
export type Tracked = <T>(run: (signal: AbortSignal) => Promise<T>, key?: string) => Promise<T>;

/** Transfers under way, each with its AbortController: stop() cancels them all, cancel(key) one. */
export function createTransfers(): { tracked: Tracked; cancel(key: string): boolean; stop(): void } {
  const transfers = new Set<AbortController>();
  const byKey = new Map<string, AbortController>();
  const cancelled = new WeakSet<AbortController>();
  return {
    async tracked(run, key) {
      const ac = new AbortController();
      transfers.add(ac);
      if (key !== undefined) byKey.set(key, ac);
      try {
        return await run(ac.signal);
      } catch (err) {
        if (cancelled.has(ac)) throw new TransferError('cancelled');
        throw err;
      } finally {
        transfers.delete(ac);
        if (key !== undefined && byKey.get(key) === ac) byKey.delete(key);
      }
    },
    cancel(key) {
      const ac = byKey.get(key);
      if (!ac) return false;
      cancelled.add(ac);
      ac.abort();
      return true;
    },
    stop() {
      for (const t of transfers) t.abort();
    },
  };
}

/** The domain's XEP-0363 service, asked once per connection (a failure is asked again next time). */
export function createUploadServiceFinder(domain: string) {
  let service: { conn: XmppConnection; found: Promise<UploadService | null> } | null = null;
  return {
    of(conn: XmppConnection): Promise<UploadService | null> {
      if (service?.conn !== conn) {
        const found = findUploadService((el) => conn.iq(el), domain);
        found.catch(() => undefined); // awaited below, where a failure is reported
        service = { conn, found };
      }
      const s = service;
      return s.found.catch((err: unknown) => {
        if (service === s) service = null;
        throw err;
      });
    },
    reset() {
      service = null;
    },
  };
}

/** Passes at most `limit` bytes; one more fails the stream (a file of unknown length). */
function atMost(limit: number, onOver: () => Error): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      seen += chunk.length;
      cb(seen > limit ? onOver() : null, chunk);
    },
  });
}

/**
 * Stores a file to send encrypted at rest (its size and SHA-256 computed on the way), a JPEG or
 * PNG without its metadata (strip-metadata.ts), and returns the row to write with the message. The policy's limit is enforced while reading; a refusal
 * leaves nothing behind (the store's write removes its partial file).
 */
export async function storeOutgoing(
  fs: FileStore,
  policy: Pick<Policy, 'maxAttachmentMB'>,
  file: OutgoingFile,
  tracked: Tracked,
): Promise<{ row: OutgoingAttachment; release: () => void }> {
  const fileId = newFileId();
  // Written before its row exists: no sweep may take it until the caller has stored the row (or given up).
  const release = fs.hold(fileId);
  const tooBig = () =>
    new AppError('TOO_LARGE', `Files over ${policy.maxAttachmentMB} MB cannot be sent (clinic policy).`, {
      maxAttachmentMB: policy.maxAttachmentMB,
    });
  const limited = atMost(policy.maxAttachmentMB * MB, tooBig);
  // A photo's EXIF, XMP and text (where and when it was taken, the phone, names) never leave.
  const stripped = stripMetadata();
  file.source.once('error', (err) => stripped.destroy(err));
  stripped.once('error', (err) => limited.destroy(err));
  let facts;
  try {
    facts = await tracked((signal) => fs.write(fileId, file.source.pipe(stripped).pipe(limited), signal));
  } catch (err) {
    release();
    if (err instanceof MetadataError)
      throw new AppError(
        'BAD_INPUT',
        'Not sent: this image is damaged, so the details hidden in it (such as where it was taken) could not be removed.',
      );
    throw err;
  }
  const declared = { name: safeDisplayName(file.name), mediaType: safeMediaType(file.mediaType) };
  let thumbnail: Thumbnail | null;
  try {
    thumbnail = await thumbnailOf(fs, fileId, facts, declared);
  } catch (err) {
    release();
    throw err;
  }
  const row: OutgoingAttachment = {
    direction: 'out',
    ...declared,
    size: facts.size,
    sha256: facts.sha256,
    state: 'pending',
    localFileId: fileId,
    ...(thumbnail ? { thumbnail } : {}),
  };
  return { row, release };
}

/**
 * The thumbnail the signed payload carries for an image (image-preview.ts makeThumbnail), made
 * from the stored copy (its metadata already gone); null for anything that is not a previewable
 * image within the preview's size limit, or that does not decode: that file goes as a card.
 */
async function thumbnailOf(
  fs: FileStore,
  fileId: string,
  facts: PlainFacts,
  declared: { name: string; mediaType: string },
): Promise<Thumbnail | null> {
  if (!isPreviewImageType(declared.mediaType) || facts.size > IMAGE_MAX_BYTES) return null;
  const data = await buffer(await fs.read(fileId, facts));
  const t = await makeThumbnail(data, declared, fileSharingLimits.maxThumbnailBytes);
  return t && { mediaType: t.mediaType, width: t.width, height: t.height, data: t.data };
}
