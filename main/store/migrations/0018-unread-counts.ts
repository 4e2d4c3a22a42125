/**
 * Version 18 (issue 13 item 4): a conversation's unread counts are kept on its row.
 *
 * The conversation summary (conversations.ts) counted unread, urgent-unread and mention-unread
 * messages with three subqueries over the partial index `messages_unread`, each with a row lookup
 * per unread message for its state and flags. Every message received or sent announces its
 * conversation's summary, so a conversation with many unread messages (a shared reception inbox
 * after a weekend) made each new message cost more: measured on this machine, 0.05 ms at 100
 * unread, 2.0 ms at 10,000 and 10.1 ms at 50,000 per summary.
 *
 * Now `conversations.unread`, `urgent_unread` and `mention_unread` hold the counts, kept by
 * triggers on `messages` inside the same transaction as the change: whatever writes a message
 * (insert, read/unread marks, a state change to or from 'unverified', a deletion or a retention
 * sweep) moves the counts with it. A message counts when it is inbound, not read and not
 * 'unverified' (never shown, so never unread; issue 10 §9); urgent and mention add their flag. The
 * update trigger only fires on the columns that decide this. The counts of the existing rows are
 * computed once here, with the old subqueries. test/unit/store-unread-counts.test.ts checks the
 * counters against those subqueries after random sequences of writes.
 */
import type { Db } from '../open-db';

/** Whether a message row (NEW, OLD or a table alias) counts as unread, as an SQL expression. */
const counts = (r: string) => `(${r}.direction = 'in' AND ${r}.read_at IS NULL AND ${r}.state <> 'unverified')`;

/**
 * The three counts counted from the messages of conversation `conv` (an SQL expression for its
 * id), as SQL expressions: what the triggers keep. The migration fills the columns with them; the
 * unit test and the store bench compare against them.
 */
export const countedUnread = (conv: string) => {
  const of = (flag: string) =>
    `(SELECT count(*) FROM messages u WHERE u.conversation_id = ${conv} AND ${counts('u')}${flag})`;
  return { unread: of(''), urgent: of(' AND u.urgent = 1'), mention: of(' AND u.mentions_me = 1') };
};

/** The three counters moved by `sign` for row `r` in its conversation. */
const move = (r: 'NEW' | 'OLD', sign: '+' | '-') => `
    UPDATE conversations
       SET unread = unread ${sign} 1,
           urgent_unread = urgent_unread ${sign} ${r}.urgent,
           mention_unread = mention_unread ${sign} ${r}.mentions_me
     WHERE id = ${r}.conversation_id AND ${counts(r)};`;

export function migrate0018UnreadCounts(db: Db): void {
  const now = countedUnread('conversations.id');
  db.exec(`
    ALTER TABLE conversations ADD COLUMN unread INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE conversations ADD COLUMN urgent_unread INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE conversations ADD COLUMN mention_unread INTEGER NOT NULL DEFAULT 0;

    UPDATE conversations SET unread = ${now.unread}, urgent_unread = ${now.urgent}, mention_unread = ${now.mention};

    CREATE TRIGGER messages_unread_insert AFTER INSERT ON messages WHEN ${counts('NEW')}
    BEGIN ${move('NEW', '+')}
    END;

    CREATE TRIGGER messages_unread_delete AFTER DELETE ON messages WHEN ${counts('OLD')}
    BEGIN ${move('OLD', '-')}
    END;

    CREATE TRIGGER messages_unread_update
      AFTER UPDATE OF conversation_id, direction, read_at, state, urgent, mentions_me ON messages
      WHEN ${counts('OLD')} OR ${counts('NEW')}
    BEGIN ${move('OLD', '-')} ${move('NEW', '+')}
    END;
  `);
}
