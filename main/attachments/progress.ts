/**
 * Counts the bytes that pass, for progress bars; passes them on untouched. It reports each whole
 * percent once (and the end), not every chunk: a 500 MB upload in 64 KiB chunks would otherwise
 * send 8,000 'attachment:progress' events through IPC for a bar that moves 100 steps.
 */
import { Transform, type TransformCallback } from 'node:stream';

export type OnProgress = (doneBytes: number, totalBytes: number) => void;

export function progressCounter(total: number, onProgress?: OnProgress): Transform {
  let done = 0;
  let shown = -1; // the last percent reported
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      done += chunk.length;
      // Without a known size, every chunk is news.
      const percent = total > 0 ? Math.min(100, Math.floor((done * 100) / total)) : shown + 1;
      if (percent > shown || done === total) {
        shown = percent;
        onProgress?.(done, total);
      }
      cb(null, chunk);
    },
  });
}
