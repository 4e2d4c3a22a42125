/**
 * Version 2: the full-text index is filled from a queue instead of by a per-row trigger.
 * Measured (test/bench/store.bench.ts, 2 cores): FTS5 is ~75 % of a message insert, and its cost
 * depends on rows per commit (a segment is flushed at every commit). The queue decouples
 * indexing from the insert statement: new rows with a body go to fts_pending (append-only rowid
 * list) and the indexer (repos/fts-index.ts) moves them into messages_fts in as large a step as
 * the caller chooses — one row for a live message, the whole batch for a catch-up chunk, or
 * later (a queue left by a crash is drained by the worker at open). Deletes and body edits stay
 * exact: a row still queued is only dropped from the queue, an indexed row is removed from FTS5
 * with its old text.
 */
import type { Db } from '../open-db';

export function migrate0002DeferredFtsIndex(db: Db): void {
  db.exec(`
    CREATE TABLE fts_pending (id INTEGER PRIMARY KEY) STRICT;

    DROP TRIGGER messages_fts_insert;
    DROP TRIGGER messages_fts_delete;
    DROP TRIGGER messages_fts_update_old;
    DROP TRIGGER messages_fts_update_new;

    CREATE TRIGGER messages_fts_queue AFTER INSERT ON messages WHEN new.body IS NOT NULL BEGIN
      INSERT INTO fts_pending (id) VALUES (new.id);
    END;
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.body IS NOT NULL BEGIN
      INSERT INTO messages_fts (messages_fts, rowid, body)
        SELECT 'delete', old.id, old.body WHERE NOT EXISTS (SELECT 1 FROM fts_pending WHERE id = old.id);
      DELETE FROM fts_pending WHERE id = old.id;
    END;
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
      INSERT INTO messages_fts (messages_fts, rowid, body)
        SELECT 'delete', old.id, old.body
         WHERE old.body IS NOT NULL AND NOT EXISTS (SELECT 1 FROM fts_pending WHERE id = old.id);
      DELETE FROM fts_pending WHERE id = old.id;
      INSERT INTO fts_pending (id) SELECT new.id WHERE new.body IS NOT NULL;
    END;
  `);
}
