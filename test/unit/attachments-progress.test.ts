// Transfer progress (issue 16 §2): one report per whole percent and one at the end, never one per
// chunk; the bytes pass through unchanged.
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { progressCounter } from '../../main/attachments/progress';

async function run(total: number, chunk: number, declared = total) {
  const seen: [number, number][] = [];
  const parts: Buffer[] = [];
  const full = Buffer.alloc(chunk, 7);
  for (let at = 0; at < total; at += chunk) parts.push(total - at >= chunk ? full : Buffer.alloc(total - at, 9));
  const out = await buffer(Readable.from(parts).pipe(progressCounter(declared, (d, t) => seen.push([d, t]))));
  return { seen, out, parts };
}

describe('progressCounter', () => {
  it('reports a 50 MB transfer in 64 KiB chunks at most once per percent, ending at the total', async () => {
    const total = 50 * 1024 * 1024;
    const { seen, out, parts } = await run(total, 64 * 1024);
    expect(parts.length).toBe(800);
    expect(seen.length).toBeLessThanOrEqual(101);
    expect(seen.length).toBeGreaterThanOrEqual(100);
    expect(seen.at(-1)).toEqual([total, total]);
    const percents = seen.map(([d]) => Math.floor((d * 100) / total));
    expect(new Set(percents).size).toBe(percents.length); // each percent once
    for (let i = 1; i < seen.length; i++) expect(seen[i]![0]).toBeGreaterThan(seen[i - 1]![0]);
    expect(out.equals(Buffer.concat(parts))).toBe(true);
  });

  it('a small file in one chunk reports once, at the end', async () => {
    const { seen } = await run(1000, 64 * 1024);
    expect(seen).toEqual([[1000, 1000]]);
  });

  it('chunks larger than a percent each report', async () => {
    const { seen } = await run(10 * 4096, 4096);
    expect(seen.map(([d]) => d)).toEqual(Array.from({ length: 10 }, (_, i) => (i + 1) * 4096));
  });

  it('without a known size it reports every chunk', async () => {
    const { seen } = await run(3 * 100, 100, 0);
    expect(seen.map(([d]) => d)).toEqual([100, 200, 300]);
  });
});
