/** Counts the bytes that pass, for progress bars; passes them on untouched. */
import { Transform, type TransformCallback } from 'node:stream';

export type OnProgress = (doneBytes: number, totalBytes: number) => void;

export function progressCounter(total: number, onProgress?: OnProgress): Transform {
  let done = 0;
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      done += chunk.length;
      onProgress?.(done, total);
      cb(null, chunk);
    },
  });
}
