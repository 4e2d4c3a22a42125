/**
 * Version 4: dedup on integer keys of the XEP-0359 ids instead of the id text (see
 * ../dedup-key.ts for why and how exactness is kept). Re-delivery stays a no-op, enforced by
 * unique indexes:
 *   messages_origin_key / messages_stanza_key       (conversation_id, key)  — nearly every row
 *   messages_origin_unkeyed / messages_stanza_unkeyed (conversation_id, text) — rows whose key
 *     collided with another id in the same conversation (key NULL); normally empty.
 * Existing rows get their keys here; a row whose key is taken keeps a NULL key (UPDATE OR IGNORE)
 * and so lands in the unkeyed index. The text indexes of 0001 are dropped afterwards.
 */
import { dedupKey } from '../dedup-key';
import type { Db } from '../open-db';

const STEP = 5000;

export function migrate0004DedupKeys(db: Db): void {
  db.exec(`
    ALTER TABLE messages ADD COLUMN origin_key INTEGER;
    ALTER TABLE messages ADD COLUMN stanza_key INTEGER;
    CREATE UNIQUE INDEX messages_origin_key ON messages (conversation_id, origin_key) WHERE origin_key IS NOT NULL;
    CREATE UNIQUE INDEX messages_stanza_key ON messages (conversation_id, stanza_key) WHERE stanza_key IS NOT NULL;
  `);
  const next = db.prepare<[number, number], { id: number; origin_id: string | null; stanza_id: string | null }>(
    'SELECT id, origin_id, stanza_id FROM messages WHERE id > ? AND (origin_id IS NOT NULL OR stanza_id IS NOT NULL) ORDER BY id LIMIT ?',
  );
  const setOrigin = db.prepare<[number, number]>('UPDATE OR IGNORE messages SET origin_key = ? WHERE id = ?');
  const setStanza = db.prepare<[number, number]>('UPDATE OR IGNORE messages SET stanza_key = ? WHERE id = ?');
  for (let after = 0; ;) {
    const rows = next.all(after, STEP);
    if (rows.length === 0) break;
    for (const r of rows) {
      if (r.origin_id !== null) setOrigin.run(dedupKey(r.origin_id), r.id);
      if (r.stanza_id !== null) setStanza.run(dedupKey(r.stanza_id), r.id);
    }
    after = rows[rows.length - 1]!.id;
  }
  db.exec(`
    DROP INDEX messages_origin;
    DROP INDEX messages_stanza;
    CREATE UNIQUE INDEX messages_origin_unkeyed ON messages (conversation_id, origin_id) WHERE origin_id IS NOT NULL AND origin_key IS NULL;
    CREATE UNIQUE INDEX messages_stanza_unkeyed ON messages (conversation_id, stanza_id) WHERE stanza_id IS NOT NULL AND stanza_key IS NULL;
  `);
}
