/**
 * Edits and deletions for everyone of a stored message (issue 12 §6, migration 0010). Whether a
 * change may be applied (its signer is the original's sender) is decided before this, in
 * main/xmpp/message-change.ts; here the row changes, and the search index with it: the update
 * trigger of migration 0002 removes the old text from FTS5, an edit's new text is indexed at once.
 */
import { parseId } from '../ids';
import type { Db } from '../open-db';
import type { MessageRepo } from '../types';
import type { FtsIndexer } from './fts-index';
import { toMessageWithReply, type MessageLookup } from './message-rows';

export function createMessageChanges(
  db: Db,
  rows: MessageLookup,
  indexer: FtsIndexer,
): Pick<MessageRepo, 'applyChange' | 'signerOf'> {
  const setBody = db.prepare<[string, number, number]>(
    // Its mention ranges (migration 0016) named the old text: they go with it.
    `UPDATE messages SET body = ?, edited_at = ?, mentions = NULL WHERE id = ? AND retracted_at IS NULL AND state != 'unverified'`,
  );
  const retract = db.prepare<[number, number]>(
    `UPDATE messages SET body = NULL, retracted_at = ?, mentions = NULL, mentions_me = 0 WHERE id = ? AND retracted_at IS NULL AND state != 'unverified'`,
  );
  // A deletion for everyone takes the message's file with it (issue 16): its row and key go in this
  // transaction; the blob no row names is then removed by the caller (message-change.ts emitChanged).
  const dropAttachment = db.prepare<[number]>('DELETE FROM attachments WHERE message_id = ?');
  const signer = db.prepare<[number], { signer: string | null }>('SELECT signer FROM messages WHERE id = ?');
  const apply = db.transaction((id: number, change: Parameters<MessageRepo['applyChange']>[1], at: number) => {
    const before = rows.byId(id);
    if (!before) return undefined;
    if (change.kind === 'edit') {
      if (before.body === change.body || setBody.run(change.body, at, id).changes === 0) return undefined;
      indexer.indexOne(id);
    } else if (retract.run(at, id).changes === 0) return undefined;
    else dropAttachment.run(id);
    return toMessageWithReply(rows.byId(id)!, rows);
  });
  return {
    signerOf(id) {
      const n = parseId(id);
      return n === null ? null : (signer.get(n)?.signer ?? null);
    },
    applyChange(id, change, at) {
      const n = parseId(id);
      return n === null ? undefined : apply.immediate(n, change, at);
    },
  };
}
