/** Moves queued rows (fts_pending) into messages_fts; see migrations/0002-deferred-fts-index.ts. */
import type { Db } from '../open-db';

export interface FtsIndexer {
  /** Indexes up to `limit` queued rows (oldest first) in the caller's transaction; returns how many. */
  indexSome(limit: number): number;
  /** Indexes one row now (a live message should be searchable at once). */
  indexOne(id: number): void;
}

export function createFtsIndexer(db: Db): FtsIndexer {
  const lastOfChunk = db.prepare<[number], { id: number }>('SELECT id FROM fts_pending ORDER BY id LIMIT 1 OFFSET ?');
  const maxPending = db.prepare<[], { id: number | null }>('SELECT max(id) AS id FROM fts_pending');
  const indexRange = db.prepare<[number]>(
    `INSERT INTO messages_fts (rowid, body)
       SELECT m.id, m.body FROM fts_pending p JOIN messages m ON m.id = p.id WHERE p.id <= ? ORDER BY p.id`,
  );
  const dropRange = db.prepare<[number]>('DELETE FROM fts_pending WHERE id <= ?');
  const indexRow = db.prepare<[number]>(
    'INSERT INTO messages_fts (rowid, body) SELECT m.id, m.body FROM fts_pending p JOIN messages m ON m.id = p.id WHERE p.id = ?',
  );
  const dropRow = db.prepare<[number]>('DELETE FROM fts_pending WHERE id = ?');
  return {
    indexSome(limit) {
      const upto = lastOfChunk.get(limit - 1)?.id ?? maxPending.get()!.id;
      if (upto === null || upto === undefined) return 0;
      const n = indexRange.run(upto).changes;
      dropRange.run(upto);
      return n;
    },
    indexOne(id) {
      indexRow.run(id);
      dropRow.run(id);
    },
  };
}
