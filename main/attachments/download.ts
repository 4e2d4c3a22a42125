/**
 * Fetches one file and decrypts it as it arrives (file-crypto.ts) into a sink that publishes only
 * when tag, size and hash hold. Only https addresses on the clinic's own servers are fetched
 * (`allowedHosts`: a hostile sender must not make the workstation call out elsewhere), no
 * redirect is followed, and never more than the declared size + tag is read: a longer
 * Content-Length is refused before reading, a longer body at its first surplus byte.
 */
import { inBlocks } from './blocks';
import {
  decryptToSink,
  FileDamagedError,
  TAG_BYTES,
  type FileSecrets,
  type PlainFacts,
  type PlainSink,
} from './file-crypto';
import { httpsUrl, openRequest, transferErrorOf, type HttpsTrust } from './https';
import { progressCounter, type OnProgress } from './progress';
import { TransferError } from './transfer-error';

export interface DownloadRequest {
  url: string;
  secrets: FileSecrets;
  /** Size and SHA-256 of the plaintext, from the signed payload. */
  expected: PlainFacts;
  sink: PlainSink;
  trust: HttpsTrust;
  /** Host names files may come from: the clinic's upload service(s), lower case. */
  allowedHosts: readonly string[];
  signal?: AbortSignal;
  onProgress?: OnProgress;
}

export async function downloadDecrypted(d: DownloadRequest): Promise<void> {
  const url = httpsUrl(d.url);
  if (!d.allowedHosts.includes(url.hostname.toLowerCase())) throw new TransferError('host-not-allowed');
  const cipherSize = d.expected.size + TAG_BYTES;
  const { req, response } = openRequest(url, 'GET', { accept: 'application/octet-stream' }, d.trust);
  const onAbort = () => req.destroy();
  d.signal?.addEventListener('abort', onAbort, { once: true });
  let handedOver = false; // from then on decryptToSink aborts the sink itself
  try {
    req.end();
    const res = await response;
    const status = res.statusCode ?? 0;
    if (status !== 200) {
      res.resume();
      throw status === 404 || status === 410
        ? new TransferError('gone')
        : new TransferError('http-status', `HTTP ${status}`);
    }
    const declared = res.headers['content-length'];
    if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) !== cipherSize) {
      res.destroy();
      throw new FileDamagedError(Number(declared) > cipherSize ? 'too-long' : 'too-short');
    }
    // In blocks, not in the response's TLS-record-sized chunks: the stages after pay per chunk (blocks.ts).
    const blocks = inBlocks(cipherSize);
    const counted = res.pipe(blocks).pipe(progressCounter(cipherSize, d.onProgress));
    // Node reports a body cut off before its Content-Length as ECONNRESET ("aborted"): after the
    // headers that is an interrupted download, not an unreachable server.
    res.once('error', () => {
      counted.destroy(new TransferError('interrupted'));
      blocks.destroy();
    });
    handedOver = true;
    await decryptToSink(counted, d.secrets, d.expected, d.sink, d.signal);
  } catch (err) {
    req.destroy();
    if (!handedOver) await d.sink.abort();
    if (err instanceof FileDamagedError || err instanceof TransferError) throw err;
    throw transferErrorOf(err);
  } finally {
    d.signal?.removeEventListener('abort', onAbort);
  }
}
