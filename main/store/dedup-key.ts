/**
 * The integer key of an XEP-0359 origin-id / stanza-id in the dedup indexes (migration 0004).
 *
 * Why: real ids are random UUIDs (36+ characters). Indexed as text per conversation, a 10k-row
 * catch-up transaction dirtied ~10,000 index pages at 300k messages (measured; sequential ids:
 * ~5,000), and with SQLCipher every dirtied page is HMAC-SHA512'd and AES-encrypted on commit
 * (perf: ~30 % of all CPU at 1M). A 53-bit key makes each index entry ~15 bytes instead of ~50.
 * test/bench/store.bench.ts (UUID ids, msg per CPU-second, encrypted / plain), before this and
 * the WAL/automerge changes → after: 100k 39.1k / 60.5k (0.65) → 43.6k / 57.7k (0.76);
 * 1M 12.9k / 29.2k (0.44) → 23.2k / 41.3k (0.56).
 *
 * Exactness does not depend on the hash: a row whose key is already taken by a different id in
 * the same conversation is stored with a NULL key and found through the (normally empty)
 * unique "unkeyed" indexes on the text; every lookup compares the text. A crafted collision
 * therefore only moves a row to the unkeyed index, it never hides or merges a message.
 *
 * Part of the schema from version 4 on: never change this function (stored keys would no
 * longer match); a different key needs a new migration that recomputes them.
 */

/** cyrb53 (public domain, bryc): a fast 53-bit string hash; a safe integer, so no BigInt. */
export function dedupKey(id: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < id.length; i++) {
    const ch = id.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/**
 * Ids that carry their creation time — UUIDv7 (RFC 9562 §5.7), which Clinic Messenger uses for
 * every origin-id it sends (main/xmpp/origin-id.ts) — get a key that sorts by that time (schema
 * version 5): milliseconds since 2020-01-01 × 2048 + 11 bits of the cyrb53 hash. Messages arrive
 * roughly in time order, so each conversation's dedup index then grows at its end like the paging
 * index, instead of every insert landing on a random page of it. At 1M messages a 10k-message
 * catch-up transaction otherwise dirties ~4 pages of each conversation's origin index, and with
 * SQLCipher every dirtied page is HMAC'd and encrypted three times under WAL (commit, then
 * checkpoint read and write). Any other id (another client's random UUIDv4, a server's id) keeps
 * dedupKey. Exactness is unchanged: two ids with the same key (same millisecond, same 11 bits)
 * are handled like any collision (see above).
 *
 * Part of the schema from version 5 on: never change (stored keys would no longer match).
 */
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const ORDERED_KEY_EPOCH_MS = Date.UTC(2020, 0, 1);
/** 2^42 ms (139 years) × 2^11 stays below 2^53: a safe integer. */
const ORDERED_KEY_SPAN_MS = 2 ** 42;
const ORDERED_KEY_HASH_BITS = 2048;

/** Milliseconds since ORDERED_KEY_EPOCH_MS carried by a UUIDv7 in the key's range, else null. */
function orderedMs(id: string): number | null {
  if (id.length !== 36 || !UUID_V7.test(id)) return null;
  const ms = parseInt(id.slice(0, 8) + id.slice(9, 13), 16) - ORDERED_KEY_EPOCH_MS;
  return ms >= 0 && ms < ORDERED_KEY_SPAN_MS ? ms : null;
}

/** True for an id whose key sorts by time (see idKey). */
export function isTimeOrderedId(id: string): boolean {
  return orderedMs(id) !== null;
}

/** The dedup key of an origin-id or stanza-id from schema version 5 on. */
export function idKey(id: string): number {
  const ms = orderedMs(id);
  return ms === null ? dedupKey(id) : ms * ORDERED_KEY_HASH_BITS + (dedupKey(id) % ORDERED_KEY_HASH_BITS);
}
