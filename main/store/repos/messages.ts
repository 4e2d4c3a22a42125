/**
 * The messages repository: writes (insert with dedup, bulk insert, state moves — message-writes.ts),
 * reads (by id, keyset pages — message-reads.ts), full-text search and its index queue, and the
 * table-wide jobs below (retention purge, the ids audit verification checks).
 */
import type { Clock } from '../../clock';
import type { Db } from '../open-db';
import type { MessageRepo } from '../types';
import { createFtsIndexer } from './fts-index';
import { createMessageChanges } from './message-changes';
import { createMessageReads } from './message-reads';
import { createReadMarkers } from './read-markers';
import { createMessageLookup } from './message-rows';
import { createMessageStateMoves, createMessageWrites } from './message-writes';
import { createSearch } from './search';

export interface MessageRepoOptions {
  /** The default time of a state change (updateState without `at`). */
  clock: Pick<Clock, 'now'>;
}

export function createMessageRepo(db: Db, opts: MessageRepoOptions): MessageRepo {
  const indexer = createFtsIndexer(db);
  const rows = createMessageLookup(db);
  return {
    ...createMessageWrites(db, rows, indexer),
    ...createMessageStateMoves(db, rows, opts.clock),
    ...createMessageChanges(db, rows, indexer),
    ...createMessageReads(db, rows),
    ...createMessageSweeps(db),
    ...createReadMarkers(db),
    search: createSearch(db),
    indexPending: (limit) => db.transaction(() => indexer.indexSome(limit)).immediate(),
  };
}

/** Jobs over the whole table: retention and the audit's completeness check. */
function createMessageSweeps(db: Db): Pick<MessageRepo, 'purgeBefore' | 'auditableIds'> {
  const conversationIds = db.prepare<[], { id: number }>('SELECT id FROM conversations ORDER BY id');
  // Retention is by received time (issue 10 §4): a sender's clock cannot keep a message past it.
  // sent_at is never later than received_at (migration 0006), so the paging index
  // (conversation_id, sent_at, id) still bounds the scan; the FTS delete trigger (migration 0002)
  // removes the text from the search index; outbox and attachments cascade.
  const purgeConversation = db.prepare<[number, number, number]>(
    `DELETE FROM messages WHERE conversation_id = ? AND sent_at < ? AND coalesce(received_at, sent_at) < ?
       AND id NOT IN (SELECT message_id FROM outbox)`,
  );
  const purgeOne = db.transaction(
    (conv: number, cutoff: number) => purgeConversation.run(conv, cutoff, cutoff).changes,
  );
  // Every message that left or reached this workstation; our own still queued or failed never left.
  const auditableAfter = db.prepare<[number, number], { id: number }>(
    `SELECT id FROM messages WHERE id > ? AND NOT (direction = 'out' AND state IN ('queued', 'failed')) ORDER BY id LIMIT ?`,
  );
  return {
    *auditableIds() {
      for (let after = 0; ;) {
        const found = auditableAfter.all(after, 5000);
        if (found.length === 0) return;
        for (const r of found) yield String(r.id);
        after = found[found.length - 1]!.id;
      }
    },
    purgeBefore(cutoff) {
      let deleted = 0;
      for (const { id } of conversationIds.all()) deleted += purgeOne.immediate(id, cutoff);
      return deleted;
    },
  };
}
