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
