/**
 * Version 2: the full-text index is filled from a queue instead of inside every insert.
 * Measured (test/bench/store.bench.ts, 2 cores): FTS5 tokenising and merging is ~75 % of a
 * message insert; with it inline a catch-up ran at ~30k msg/s of CPU, without it at ~140k.
 * New rows with a body go to fts_pending (an append-only rowid list); the indexer
 * (repos/fts-index.ts) moves them into messages_fts — inline for a single live message, in the
 * store worker after a catch-up batch. Deletes and body edits stay exact: a row still pending
 * is only dropped from the queue, an indexed row is removed from FTS5 with its old text.
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
