/**
 * Drafts (migration 0007): the unsent composer text of each conversation, encrypted at rest like
 * the messages. Nothing typed is lost on a conversation switch, a lock or a restart (issue 12
 * item 2). The text is PHI: it is never logged, and only the handlers and retention touch it.
 */
import { AppError } from '../../../common/result';
import type { Clock } from '../../clock';
import { parseId } from '../ids';
import type { Db } from '../open-db';
import type { Draft, DraftRepo } from '../types';

interface Row {
  conversation_id: number;
  body: string;
  updated_at: number;
}

export function createDraftRepo(db: Db, clock: Pick<Clock, 'now'>): DraftRepo {
  const get = db.prepare<[number], Row>('SELECT * FROM drafts WHERE conversation_id = ?');
  const put = db.prepare<[number, string, number]>(
    `INSERT INTO drafts (conversation_id, body, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (conversation_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`,
  );
  const remove = db.prepare<[number]>('DELETE FROM drafts WHERE conversation_id = ?');
  const purge = db.prepare<[number]>('DELETE FROM drafts WHERE updated_at < ?');
  const conversation = db.prepare<[number], { id: number }>('SELECT id FROM conversations WHERE id = ?');
  return {
    get(conversationId): Draft | undefined {
      const n = parseId(conversationId);
      const row = n === null ? undefined : get.get(n);
      return row
        ? { conversationId: String(row.conversation_id), text: row.body, updatedAt: row.updated_at }
        : undefined;
    },
    set(conversationId, text, now = clock.now()) {
      const n = parseId(conversationId);
      if (n === null || !conversation.get(n)) throw new AppError('NOT_FOUND', 'No such conversation.');
      // Whitespace only is nothing worth keeping: the composer would not send it either.
      if (text.trim() === '') remove.run(n);
      else put.run(n, text, now);
    },
    remove(conversationId) {
      const n = parseId(conversationId);
      if (n !== null) remove.run(n);
    },
    purgeBefore: (cutoff) => purge.run(cutoff).changes,
  };
}
