/**
 * Rows stored but not yet in the full-text index (fts_pending, migration 0002), counted on a
 * second connection: tests check that store.background.indexed() drained the queue. The app
 * itself never needs the number, so the store does not offer it.
 */
import { openDb } from '../../main/store/open-db';

export function searchBacklog(file: string, key: Buffer): number {
  const db = openDb({ file, key, onCorrupt: 'throw' });
  try {
    return db.prepare<[], { n: number }>('SELECT count(*) AS n FROM fts_pending').get()!.n;
  } finally {
    db.close();
  }
}
