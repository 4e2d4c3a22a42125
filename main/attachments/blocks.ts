/**
 * Gathers a download's small chunks into blocks before the stages that pay per chunk. An HTTPS
 * response arrives in TLS-record-sized chunks (8 KiB from Prosody's mod_http_file_share), and
 * each chunk then went through the progress count, the decryption, the file store's
 * re-encryption (six hash and cipher calls) and a file write of its own: 500 MB took 61,000 of
 * each, and the receive ran at 0.27 of a plain GET of the same file (issue 16 §7,
 * docs/performance.md). In 256 KiB blocks the same work takes about 0.6 of the CPU time.
 *
 * Memory stays flat: at most one block and one chunk are held. Once `upTo` bytes (the size the
 * file must have) have passed, everything is passed on as it comes, so the end of the file is
 * not held back and a byte past it reaches the size check at once.
 */
import { Transform, type TransformCallback } from 'node:stream';

export const BLOCK_BYTES = 256 * 1024;

export function inBlocks(upTo: number, blockBytes = BLOCK_BYTES): Transform {
  let held: Buffer[] = [];
  let heldBytes = 0;
  let seen = 0;
  const take = (): Buffer => {
    const block = held.length === 1 ? held[0]! : Buffer.concat(held, heldBytes);
    held = [];
    heldBytes = 0;
    return block;
  };
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      seen += chunk.length;
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes < blockBytes && seen < upTo) return cb();
      cb(null, take());
    },
    flush(cb: TransformCallback) {
      cb(null, heldBytes ? take() : undefined);
    },
  });
}
