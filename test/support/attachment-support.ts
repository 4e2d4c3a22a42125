/** Helpers for attachment tests: a sink that, like the real ones, shows its bytes only after commit(). */
import { Writable } from 'node:stream';
import type { PlainSink } from '../../main/attachments/file-crypto';

export type MemorySink = PlainSink & { published: Buffer | null; aborted: boolean };

export function memorySink(): MemorySink {
  const chunks: Buffer[] = [];
  const sink: MemorySink = {
    published: null,
    aborted: false,
    writable: new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk);
        cb();
      },
    }),
    commit() {
      sink.published = Buffer.concat(chunks);
      return Promise.resolve();
    },
    abort() {
      sink.aborted = true;
      chunks.length = 0;
      return Promise.resolve();
    },
  };
  return sink;
}
