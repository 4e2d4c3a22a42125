/**
 * Version 5: dedup indexes laid out so a catch-up writes few index pages (issue 4 §7).
 *
 * Measured (tmp store experiments, 300k messages over 1,000 conversations, 10k-row transactions,
 * bytes written to WAL + database, encrypted): every index that starts with conversation_id costs
 * about one page per conversation per transaction — ~1,000 dirtied pages, each HMAC'd and encrypted
 * three times under WAL — whether its keys are random or ordered. The two per-conversation dedup
 * indexes of version 4 were ~45 % of all bytes written. Now:
 *
 * - Origin-id: one unique index over the key alone. Clinic Messenger's origin-ids are UUIDv7 and
 *   their keys sort by time (../dedup-key.ts idKey), so new entries land on the index's last pages
 *   (~50 pages per 10k messages instead of ~1,000). Per-conversation semantics are kept by the
 *   lookup (key + conversation + id text); a key already held anywhere (another conversation, a
 *   collision) leaves the row's key NULL and the unkeyed per-conversation index on the text guards it.
 * - Stanza-id: a message's identity is its origin-id when it has one (XEP-0359 §3.1: set by the
 *   sender, carried unchanged by every delivery — live, carbon, archive). Only messages without an
 *   origin-id are deduplicated by stanza-id, so the stanza indexes hold only those rows. A stanza-id
 *   learned later for a message with an origin-id is still stored on the row, unindexed.
 *
 * Existing rows: UUIDv7 ids get idKey; origin keys that are no longer unique across the whole table
 * keep the first row's key and are NULLed on the later rows; stanza keys of rows with an origin-id
 * are dropped. Total bytes written by the same catch-up: 665 MiB → 391 MiB.
 */
import { idKey, isTimeOrderedId } from '../dedup-key';
import type { Db } from '../open-db';

const STEP = 5000;
/** A cheap pre-filter for the UUIDv7 shape; isTimeOrderedId is the exact test. */
const V7_GLOB = '????????-????-7???-????-????????????';

export function migrate0005OrderedIdKeys(db: Db): void {
  db.exec(`
    DROP INDEX messages_origin_key;
    DROP INDEX messages_stanza_key;
    DROP INDEX messages_stanza_unkeyed;
    UPDATE messages SET stanza_key = NULL WHERE origin_id IS NOT NULL AND stanza_key IS NOT NULL;
  `);

  // Re-key UUIDv7 ids (no unique index on the keys at this point).
  const next = db.prepare<
    [number, string, string, number],
    { id: number; origin_id: string | null; stanza_id: string | null }
  >(
    'SELECT id, origin_id, stanza_id FROM messages WHERE id > ? AND (origin_id GLOB ? OR stanza_id GLOB ?) ORDER BY id LIMIT ?',
  );
  const setOrigin = db.prepare<[number, number]>(
    'UPDATE messages SET origin_key = ? WHERE id = ? AND origin_key IS NOT NULL',
  );
  const setStanza = db.prepare<[number, number]>(
    'UPDATE messages SET stanza_key = ? WHERE id = ? AND stanza_key IS NOT NULL',
  );
  for (let after = 0; ;) {
    const rows = next.all(after, V7_GLOB, V7_GLOB, STEP);
    if (rows.length === 0) break;
    for (const r of rows) {
      if (r.origin_id !== null && isTimeOrderedId(r.origin_id)) setOrigin.run(idKey(r.origin_id), r.id);
      if (r.origin_id === null && r.stanza_id !== null && isTimeOrderedId(r.stanza_id))
        setStanza.run(idKey(r.stanza_id), r.id);
    }
    after = rows[rows.length - 1]!.id;
  }

  // Keys must be unique in their new scope: the oldest row keeps a shared key, later ones go unkeyed.
  db.exec(`
    CREATE INDEX migrate_origin_key ON messages (origin_key) WHERE origin_key IS NOT NULL;
    UPDATE messages SET origin_key = NULL
     WHERE origin_key IS NOT NULL
       AND EXISTS (SELECT 1 FROM messages o WHERE o.origin_key = messages.origin_key AND o.id < messages.id);
    DROP INDEX migrate_origin_key;
    CREATE INDEX migrate_stanza_key ON messages (conversation_id, stanza_key) WHERE stanza_key IS NOT NULL;
    UPDATE messages SET stanza_key = NULL
     WHERE stanza_key IS NOT NULL
       AND EXISTS (SELECT 1 FROM messages o WHERE o.conversation_id = messages.conversation_id AND o.stanza_key = messages.stanza_key AND o.id < messages.id);
    DROP INDEX migrate_stanza_key;

    CREATE UNIQUE INDEX messages_origin_key ON messages (origin_key) WHERE origin_key IS NOT NULL;
    CREATE UNIQUE INDEX messages_stanza_key ON messages (conversation_id, stanza_key) WHERE stanza_key IS NOT NULL AND origin_id IS NULL;
    CREATE UNIQUE INDEX messages_stanza_unkeyed ON messages (conversation_id, stanza_id)
      WHERE stanza_id IS NOT NULL AND stanza_key IS NULL AND origin_id IS NULL;
  `);
}
