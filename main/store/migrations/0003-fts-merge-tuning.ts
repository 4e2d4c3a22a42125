/**
 * Version 3: FTS5 merges less eagerly during bulk inserts (sqlite.org/fts5.html §6.7 "The
 * 'automerge' configuration option"). Every commit of new rows writes a level-0 segment; with the
 * default automerge=4, FTS5 merges each 4 segments of a level into the next at once, so a posting
 * is rewritten once per level, and with SQLCipher every rewritten page is encrypted again (and
 * once more when the WAL is checkpointed). automerge=8 halves the number of levels' worth of
 * rewrites for ~8 % more segments to probe per search term. Measured (test/bench/store.bench.ts
 * style catch-up, 100k messages, msg per CPU-second, encrypted): 56k → 60k; search p95 within noise.
 * This is FTS5 configuration data (messages_fts_config), not DDL: rows and the index are untouched.
 */
import type { Db } from '../open-db';

const FTS_AUTOMERGE = 8;

export function migrate0003FtsMergeTuning(db: Db): void {
  // A literal, not a bound parameter: FTS5 wants an INTEGER and a JS number binds as REAL.
  db.exec(`INSERT INTO messages_fts (messages_fts, rank) VALUES ('automerge', ${FTS_AUTOMERGE | 0})`);
}
