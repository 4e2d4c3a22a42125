/** Outbox: a message is stored first, then retried until the server acknowledges it (ARCHITECTURE.md §6). */
import { AppError } from '../../../common/result';
import { parseId } from '../ids';
import type { Clock } from '../../clock';
import type { Db } from '../open-db';
import type { OutboxItem, OutboxRepo } from '../types';

interface Row {
  message_id: number;
  conversation_id: number;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
}

const toItem = (r: Row): OutboxItem => ({
  messageId: String(r.message_id),
  conversationId: String(r.conversation_id),
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastError: r.last_error,
  createdAt: r.created_at,
});

const SELECT = `SELECT o.*, m.conversation_id FROM outbox o JOIN messages m ON m.id = o.message_id`;

export function createOutboxRepo(db: Db, clock: Pick<Clock, 'now'>): OutboxRepo {
  const enqueue = db.prepare<[number, number, number]>(
    `INSERT INTO outbox (message_id, next_attempt_at, created_at) VALUES (?, ?, ?)
     ON CONFLICT (message_id) DO UPDATE SET next_attempt_at = excluded.next_attempt_at`,
  );
  const all = db.prepare<[], Row>(`${SELECT} ORDER BY o.created_at, o.message_id`);
  const reschedule = db.prepare<[number, string | null, number]>(
    'UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE message_id = ?',
  );
  const remove = db.prepare<[number]>('DELETE FROM outbox WHERE message_id = ?');
  const id = (s: string): number => {
    const n = parseId(s);
    if (n === null) throw new AppError('NOT_FOUND', 'No such message.');
    return n;
  };
  return {
    enqueue: (messageId, nextAttemptAt, now = clock.now()) => void enqueue.run(id(messageId), nextAttemptAt, now),
    all: () => all.all().map(toItem),
    reschedule: (messageId, nextAttemptAt, error) => void reschedule.run(nextAttemptAt, error, id(messageId)),
    remove: (messageId) => {
      const n = parseId(messageId);
      if (n !== null) remove.run(n);
    },
  };
}
