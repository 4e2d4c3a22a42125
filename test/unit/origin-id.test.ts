import { describe, expect, it } from 'vitest';
import { dedupKey, idKey, isTimeOrderedId } from '../../main/store/dedup-key';
import { newOriginId } from '../../main/xmpp/origin-id';

describe('origin-ids (UUIDv7) and their time-ordered dedup keys', () => {
  it('writes RFC 9562 UUIDv7: the millisecond in the first 48 bits, version 7, variant 10, random rest', () => {
    const at = Date.UTC(2026, 10, 28, 3, 16, 36, 123);
    const ids = Array.from({ length: 1000 }, () => newOriginId(at));
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at);
      expect(isTimeOrderedId(id)).toBe(true);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keys UUIDv7 ids in time order, and every other id exactly as schema version 4 did', () => {
    const t = Date.UTC(2026, 0, 1);
    const keys = [0, 1, 2, 1000, 86_400_000].map((d) => idKey(newOriginId(t + d)));
    expect([...keys].sort((a, b) => a - b)).toEqual(keys);
    for (const k of keys) expect(Number.isSafeInteger(k) && k >= 0).toBe(true);
    for (const other of ['9b2f6a1e-0c4d-4e8a-b1f2-3c4d5e6f7a8b', 'o-2', 'arch-1', ''])
      expect(idKey(other)).toBe(dedupKey(other));
    // Out of the key's time range (before 2020) or not quite the shape: the plain hash.
    const old = newOriginId(Date.UTC(2019, 0, 1));
    expect(isTimeOrderedId(old)).toBe(false);
    expect(idKey(old)).toBe(dedupKey(old));
    const v4shaped = newOriginId(t).replace(/-7/, '-4');
    expect(idKey(v4shaped)).toBe(dedupKey(v4shaped));
  });
});
