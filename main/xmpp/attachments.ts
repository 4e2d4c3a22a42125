/**
 * Attachments in messaging (issue 16): the send half here, beside the outbox.
 *
 * Send: the file goes into the profile's encrypted file store first (its size and SHA-256 computed
 * on the way), then the message, its attachment row and its outbox entry are written in one
 * transaction (outbox.ts enqueue): stored before anything is sent, and a restart finds it queued.
 * Each outbox attempt (outbox-send.ts) calls `forSending`: a file not uploaded yet is encrypted
 * under a fresh key as it is read from the store and PUT into an XEP-0363 slot; the address, key,
 * IV and ciphertext hash are kept on the row the moment the upload finished, so a later attempt
 * (after a lost ack, a restart) sends the same element again and never uploads twice. The
 * message's origin-id is the same on every attempt, so the recipient stores it once.
 *
 * Policy (attachmentsAllowed, maxAttachmentMB) is checked when the file is attached and again
 * before it is uploaded. Names, types and content are never logged.
 */
import type { Attachment } from '../../common/contract/domain';
import { AppError } from '../../common/result';
import type { FileStore } from '../attachments/file-store';
import type { HttpsTrust } from '../attachments/https';
import { isPreviewImageType } from '../attachments/image-preview';
import { TransferError } from '../attachments/transfer-error';
import { uploadEncrypted } from '../attachments/upload';
import type { ReadFileSharing, SharedFile } from '../crypto/file-sharing';
import type { StoredAttachment } from '../store';
import { toAttachment } from '../store/repos/attachments';
import type { MessagingContext } from './context';
import {
  createTransfers,
  createUploadServiceFinder,
  MB,
  storeOutgoing,
  type OutgoingAttachment,
  type OutgoingFile,
} from './attachment-transfers';
import {
  downloadAttachment,
  openStoredAttachment,
  readAttachment,
  type PreviewView,
  type TransferDeps,
} from './attachment-download';
import { requestUploadSlot } from './upload-slot';

export type { OutgoingAttachment, OutgoingFile };

/** Refuses what the policy does not allow; `size` in bytes of plaintext. */
export function checkAttachmentPolicy(policy: MessagingContext['opts']['policy'], size: number | null): void {
  if (!policy.attachmentsAllowed)
    throw new AppError('FORBIDDEN', "Your clinic's policy does not allow attachments.", {
      policy: 'attachmentsAllowed',
    });
  if (size !== null && size > policy.maxAttachmentMB * MB)
    throw new AppError(
      'TOO_LARGE',
      `Files over ${policy.maxAttachmentMB} MB cannot be sent or received (clinic policy).`,
      {
        maxAttachmentMB: policy.maxAttachmentMB,
      },
    );
}

/** HTTPS with the XMPP connection's trust: the policy's CA (and the app's extra one), dialling the policy's server host. */
export function httpsTrustOf(opts: MessagingContext['opts']): HttpsTrust {
  const pems = [opts.policy.trustedCaPem, opts.tls?.ca].filter((p): p is string => typeof p === 'string' && p !== '');
  return {
    caPem: pems.length > 0 ? pems.join('\n') : null,
    ...(opts.account.server.host ? { dialHost: opts.account.server.host } : {}),
  };
}

/** The element's content from a row that has been uploaded (or was received). */
export function sharedFileOf(a: StoredAttachment): SharedFile | null {
  if (!a.url || !a.key || !a.iv || !a.sha256 || !a.cipherSha256) return null;
  return {
    mediaType: a.mediaType,
    name: a.name,
    size: a.size,
    sha256: a.sha256,
    key: a.key,
    iv: a.iv,
    cipherSha256: a.cipherSha256,
    url: a.url,
    thumbnail:
      a.thumbnail && isPreviewImageType(a.thumbnail.mediaType)
        ? { ...a.thumbnail, mediaType: a.thumbnail.mediaType }
        : null,
  };
}

/**
 * The row for a received message's attachment (receive.ts, in the message's own transaction):
 * available to download when the policy allows it (attachmentsAllowed, its size within
 * maxAttachmentMB), else failed with the policy's code and without key or address, so it can
 * never be fetched. An element the parser refused is a failed row with its reason; the text stays.
 */
export function recordReceived(
  opts: Pick<MessagingContext['opts'], 'store' | 'policy'>,
  messageId: string,
  direction: 'in' | 'out',
  found: ReadFileSharing,
): void {
  const { store, policy } = opts;
  if (!found.ok) {
    const refused = { name: 'file', mediaType: 'application/octet-stream', size: 0 };
    store.attachments.add({ messageId, direction, ...refused, state: 'failed', failure: found.reason });
    return;
  }
  const f = found.file;
  const refusal = !policy.attachmentsAllowed ? 'FORBIDDEN' : f.size > policy.maxAttachmentMB * MB ? 'TOO_LARGE' : null;
  const fetchable = { key: f.key, iv: f.iv, cipherSha256: f.cipherSha256, url: f.url };
  store.attachments.add({
    messageId,
    direction,
    name: f.name,
    mediaType: f.mediaType,
    size: f.size,
    sha256: f.sha256,
    thumbnail: f.thumbnail,
    ...(refusal ? { state: 'failed', failure: refusal } : { state: 'available', ...fetchable }),
  });
}

/** A TransferError as the outbox's error code: too large never succeeds; the rest may on a later attempt. */
function sendErrorOf(err: unknown): unknown {
  if (err instanceof TransferError) {
    const code = err.reason === 'too-large' ? 'TOO_LARGE' : err.reason === 'cancelled' ? 'CANCELLED' : 'INTERNAL';
    return new AppError(code, err.message, { transfer: err.reason });
  }
  return err;
}

/**
 * The message's attachment ready for the payload, uploading it first when that has not happened
 * yet; null when the message carries none. Throws AppError (the outbox's codes) on failure.
 */
async function forSending(d: TransferDeps, messageId: string): Promise<SharedFile | null> {
  const { ctx } = d;
  const { store } = ctx.opts;
  const a = store.attachments.byMessage(messageId);
  if (!a) return null;
  const ready = sharedFileOf(a);
  if (ready) return ready;
  d.checkPolicy(a.size);
  const fs = d.files();
  const conn = ctx.conn();
  if (!conn?.isReady()) throw new AppError('NOT_CONNECTED', 'Not connected.');
  if (!a.localFileId || !a.sha256) throw new AppError('INTERNAL', 'The file to send is missing.');
  const { localFileId, sha256 } = a;
  d.emit(store.attachments.update(a.id, { state: 'uploading', failure: null }));
  try {
    const svc = await d.uploadService(conn);
    if (!svc) throw new TransferError('no-upload-service');
    const up = await d.tracked(
      async (signal) =>
        uploadEncrypted({
          source: await fs.read(localFileId, { size: a.size, sha256 }),
          plainSize: a.size,
          requestSlot: (size) => requestUploadSlot((el) => conn.iq(el), svc, size),
          trust: d.trust(),
          signal,
          onProgress: d.progress(a.id),
        }),
      a.id,
    );
    const cipherSha256 = up.facts.cipherSha256;
    if (!cipherSha256) throw new AppError('INTERNAL', 'The upload gave no ciphertext hash.');
    const done = store.attachments.update(a.id, {
      url: up.getUrl,
      key: up.secrets.key,
      iv: up.secrets.iv,
      cipherSha256,
    });
    await ctx.opts.inspect?.afterUpload?.(messageId);
    const shared = done && sharedFileOf(done);
    if (!shared) throw new AppError('INTERNAL', 'The uploaded file could not be recorded.');
    return shared;
  } catch (err) {
    const reason = err instanceof TransferError ? err.reason : err instanceof AppError ? err.code : 'INTERNAL';
    d.emit(store.attachments.update(a.id, { state: 'pending', failure: reason }));
    throw sendErrorOf(err);
  }
}

export function createAttachments(ctx: MessagingContext) {
  const { store, policy, events } = ctx.opts;
  const files: FileStore | null = ctx.opts.files ?? null;
  const transfers = createTransfers();
  const finder = createUploadServiceFinder(ctx.ownJid.slice(ctx.ownJid.indexOf('@') + 1));

  const emit = (a: StoredAttachment | undefined): StoredAttachment | undefined => {
    if (a && !(ctx.opts.locked?.() ?? false)) events.emit('attachment:updated', toAttachment(a));
    return a;
  };
  const progress = (attachmentId: string) => (done: number, total: number) => {
    if (!(ctx.opts.locked?.() ?? false)) events.emit('attachment:progress', { attachmentId, done, total });
  };
  // A download the app did not live to finish kept nothing (its partial file is never published): it may be tried again.
  for (const a of store.attachments.inState('downloading'))
    store.attachments.update(a.id, { state: 'failed', failure: 'interrupted', localFileId: null });
  function requireFiles(): FileStore {
    if (!files) throw new AppError('INTERNAL', 'Attachments are not available in this session.');
    return files;
  }

  /** Stores the file encrypted at rest; the row to write with the message (outbox.ts enqueue). */
  async function prepareOutgoing(file: OutgoingFile): Promise<{ row: OutgoingAttachment; release: () => void }> {
    checkAttachmentPolicy(policy, null);
    return storeOutgoing(requireFiles(), policy, file, transfers.tracked);
  }

  /** A blob written for a message that was then refused: removed at once (the sweep would find it too). */
  async function discard(a: OutgoingAttachment): Promise<void> {
    if (files && a.localFileId) await files.remove(a.localFileId);
  }

  /** After the outbox's commit: the row follows its message (sent, or failed for good). */
  function settled(messageId: string, outcome: 'sent' | 'failed', failure?: string): void {
    const a = store.attachments.byMessage(messageId);
    if (!a || a.state === outcome) return;
    emit(
      store.attachments.update(a.id, {
        state: outcome,
        ...(outcome === 'failed' ? { failure: failure ?? 'INTERNAL' } : { failure: null }),
      }),
    );
  }

  /** A failed message retried: its file waits to be uploaded (or sent) again. */
  function requeued(messageId: string): void {
    const a = store.attachments.byMessage(messageId);
    if (a?.direction === 'out' && a.state === 'failed') emit(store.attachments.update(a.id, { state: 'pending' }));
  }

  const downloads: TransferDeps = {
    ctx,
    files: requireFiles,
    tracked: transfers.tracked,
    uploadService: (conn) => finder.of(conn),
    trust: () => httpsTrustOf(ctx.opts),
    emit,
    progress,
    checkPolicy: (size) => checkAttachmentPolicy(policy, size),
  };

  return {
    prepareOutgoing,
    download: (attachmentId: string) => downloadAttachment(downloads, attachmentId),
    read: (attachmentId: string, view?: PreviewView) => readAttachment(downloads, attachmentId, view ? { view } : {}),
    open: (attachmentId: string) => openStoredAttachment(downloads, attachmentId),
    discard,
    /**
     * Cancels this attachment's upload or download under way (attachments:cancel): a download ends
     * failed 'cancelled' with nothing kept (it may be tried again); an upload's message fails
     * CANCELLED and waits for Retry. False when none is under way.
     */
    cancel: (attachmentId: string): boolean => transfers.cancel(attachmentId),
    forSending: (messageId: string) => forSending(downloads, messageId),
    settled,
    requeued,
    /** The conversation's attachments for the renderer, oldest first. */
    list: (conversationId: string): Attachment[] => store.attachments.ofConversation(conversationId).map(toAttachment),
    emit,
    /** Cancels every transfer under way (stop, lock): nothing partial is kept. */
    stop(): Promise<void> {
      transfers.stop();
      finder.reset();
      return Promise.resolve();
    },
  };
}

export type Attachments = ReturnType<typeof createAttachments>;
