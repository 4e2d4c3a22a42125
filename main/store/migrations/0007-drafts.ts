/**
 * Version 7 (issue 12 item 2, "nothing typed is lost"):
 *
 * - `drafts`: the unsent text of each conversation's composer, one row per conversation, kept in
 *   this encrypted database like the messages themselves, so a draft survives switching
 *   conversations, a lock and a restart. An empty draft is no row. `updated_at` (the session's
 *   clock) lets retention remove drafts as old as the messages it removes.
 * - `messages.failure`: why our own message ended 'failed' — an error code (KEY_CHANGED,
 *   FORBIDDEN, the last attempt's code…), never text — so the conversation can show the reason
 *   beside its Retry button after a switch or a restart. Cleared when the message leaves 'failed'.
 */
import type { Db } from '../open-db';

export function migrate0007Drafts(db: Db): void {
  db.exec(`
    CREATE TABLE drafts (
      conversation_id INTEGER PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
      body            TEXT NOT NULL,
      updated_at      INTEGER NOT NULL
    ) STRICT;

    ALTER TABLE messages ADD COLUMN failure TEXT;
  `);
}
