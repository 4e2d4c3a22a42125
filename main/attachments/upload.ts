/**
 * Sends one file: encrypts it as it is read (file-crypto.ts) and PUTs the ciphertext into an
 * XEP-0363 slot over HTTPS (https.ts), never holding the file in memory. The slot is asked for
 * with the ciphertext's size only: the server learns neither the name nor the type (the caller's
 * `requestSlot` uses a random name and application/octet-stream, main/xmpp/upload-slot.ts).
 * The key, IV, size and hash it returns go into the signed payload, never to the server.
 */
import type { ClientRequest } from 'node:http';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EncryptStream, newFileSecrets, TAG_BYTES, type FileSecrets, type PlainFacts } from './file-crypto';
import { httpsUrl, openRequest, transferErrorOf, type HttpsTrust } from './https';
import { progressCounter, type OnProgress } from './progress';
import { TransferError } from './transfer-error';

/** An XEP-0363 slot: where to PUT (with which headers), and where the file can then be fetched. */
export interface UploadSlot {
  putUrl: string;
  getUrl: string;
  /** XEP-0363 §4: only Authorization, Cookie and Expires, already filtered. */
  headers: Record<string, string>;
}

export interface UploadRequest {
  /** The plaintext, read once. */
  source: Readable;
  /** Its size as found before reading (a file's stat); a different count read fails the upload. */
  plainSize: number;
  requestSlot(cipherSize: number): Promise<UploadSlot>;
  trust: HttpsTrust;
  signal?: AbortSignal;
  onProgress?: OnProgress;
}

export interface Uploaded {
  getUrl: string;
  secrets: FileSecrets;
  facts: PlainFacts;
}

export async function uploadEncrypted(r: UploadRequest): Promise<Uploaded> {
  if (!Number.isSafeInteger(r.plainSize) || r.plainSize < 0) throw new RangeError('bad file size');
  const cipherSize = r.plainSize + TAG_BYTES;
  const slot = await r.requestSlot(cipherSize);
  const putUrl = httpsUrl(slot.putUrl);
  const getUrl = httpsUrl(slot.getUrl).toString();
  const secrets = newFileSecrets();
  const encrypt = new EncryptStream(secrets);
  const headers = { ...slot.headers, 'content-type': 'application/octet-stream', 'content-length': cipherSize };
  const { req, response } = openRequest(putUrl, 'PUT', headers, r.trust);
  // The server may answer (413, 401) before it has read the body; that answer says more than the
  // broken pipe the body then meets.
  const answered = response.then(
    (res) => ({ res }),
    (err: unknown) => ({ err }),
  );
  const counted = progressCounter(cipherSize, r.onProgress);
  try {
    await pipeline(r.source, exactly(r.plainSize), encrypt, counted, req, r.signal ? { signal: r.signal } : {});
  } catch (err) {
    req.destroy();
    if (err instanceof TransferError || (err as { name?: unknown }).name === 'AbortError') throw err;
    const early = await Promise.race([answered, new Promise<null>((resolve) => setImmediate(() => resolve(null)))]);
    if (early && 'res' in early) throw statusError(early.res.statusCode ?? 0);
    throw transferErrorOf(err);
  }
  // The last byte has left, but a cancel still counts until the server has answered.
  const outcome = await untilAnswered(answered, req, r.signal);
  if ('err' in outcome) throw transferErrorOf(outcome.err);
  outcome.res.resume();
  const status = outcome.res.statusCode ?? 0;
  if (status !== 200 && status !== 201) throw statusError(status);
  return { getUrl, secrets, facts: encrypt.facts };
}

/**
 * The server's answer, or an AbortError when `signal` aborts first: the request is dropped then,
 * so a cancel after the whole body was written still stops the upload and its message is not sent
 * (a lock stops it the same way; the outbox tries again). Bytes already handed to the network
 * still reach the server: when that was all of them, the server keeps the ciphertext, whose key
 * never leaves this computer.
 */
function untilAnswered<T>(answered: Promise<T>, req: ClientRequest, signal?: AbortSignal): Promise<T> {
  if (!signal) return answered;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      req.destroy();
      reject(new DOMException('The upload was aborted', 'AbortError'));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    // `answered` never rejects: a failed request is an outcome ({ err }), reported by the caller.
    void answered.then((outcome) => {
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    });
  });
}

/** Passes exactly `size` bytes; a file that grew or shrank since its size was taken fails. */
function exactly(size: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      seen += chunk.length;
      cb(seen > size ? new TransferError('size-changed') : null, chunk);
    },
    flush(cb: TransformCallback) {
      cb(seen === size ? null : new TransferError('size-changed'));
    },
  });
}

function statusError(status: number): TransferError {
  if (status === 413) return new TransferError('too-large');
  if (status === 401 || status === 403 || status === 409 || status === 410)
    return new TransferError('refused', `HTTP ${status}`);
  return new TransferError('http-status', `HTTP ${status}`);
}
