/**
 * A download's chunks gathered into blocks (main/attachments/blocks.ts): the same bytes in the same
 * order, in blocks of at least the block size (the last one shorter), nothing held back once the
 * file's size has passed.
 */
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inBlocks } from '../../main/attachments/blocks';

async function blocksOf(chunks: Buffer[], upTo: number, blockBytes: number): Promise<Buffer[]> {
  // 'data' events, not async iteration: read() would join whatever blocks wait in the buffer.
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(chunks),
    inBlocks(upTo, blockBytes),
    new Writable({
      write(b: Buffer, _enc, cb) {
        out.push(b);
        cb();
      },
    }),
  );
  return out;
}

describe('inBlocks', () => {
  it('passes the same bytes in blocks of at least the block size, only the last shorter', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 3000 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 8192 }),
        async (sizes, blockBytes) => {
          const chunks = sizes.map((n) => randomBytes(n));
          const whole = Buffer.concat(chunks);
          const blocks = await blocksOf(chunks, whole.length, blockBytes);
          expect(Buffer.concat(blocks).equals(whole)).toBe(true);
          // Every block but the last reached the block size; none held more than it plus one chunk.
          for (const b of blocks.slice(0, -1)) expect(b.length).toBeGreaterThanOrEqual(blockBytes);
          for (const b of blocks) expect(b.length).toBeLessThan(blockBytes + 3000);
        },
      ),
    );
  });

  it('holds nothing back once the expected size has passed: the end and any byte past it go on at once', async () => {
    const source = new Readable({ read() {} });
    const blocks = source.pipe(inBlocks(10_000, 64 * 1024));
    const seen: number[] = [];
    blocks.on('data', (b: Buffer) => seen.push(b.length));
    source.push(randomBytes(6_000));
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([]); // under the block size and the expected size: gathered
    source.push(randomBytes(4_000)); // reaches the expected size
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([10_000]);
    source.push(randomBytes(1)); // a surplus byte, passed on to be refused without waiting for more
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([10_000, 1]);
    source.push(null);
  });
});
