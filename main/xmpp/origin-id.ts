/**
 * XEP-0359 origin-ids for the messages this client sends: UUIDv7 (RFC 9562 §5.7) — 48 bits of
 * Unix milliseconds, then 74 random bits from the OS CSPRNG. Unique like a random UUID; and
 * because they sort by time, the store's origin dedup index grows at its end
 * (main/store/dedup-key.ts idKey), which keeps catch-up inserts cheap in a large cache.
 * The millisecond it carries is no secret from the server: it stamps and archives the stanza anyway.
 */
import { randomFillSync } from 'node:crypto';

export function newOriginId(nowMs: number): string {
  const b = randomFillSync(Buffer.alloc(16));
  const ms = Math.max(0, Math.floor(nowMs));
  b.writeUIntBE(ms, 0, 6);
  b[6] = 0x70 | (b[6]! & 0x0f); // version 7
  b[8] = 0x80 | (b[8]! & 0x3f); // variant 10
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
