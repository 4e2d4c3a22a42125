/**
 * Version 16 (issue 18 §4): @mentions and "Read by" in care-team rooms.
 *
 * - `messages.mentions`: the message's mentions as JSON `[{jid, begin, end}]` (code-point ranges of
 *   the body, docs/protocol.md "Mentions"): for our own messages what the outbox signs on every
 *   attempt, for received ones what the signed payload carried of the room's members. Cleared by
 *   an edit or a deletion (the ranges no longer fit the text).
 * - `messages.mentions_me`: 1 when a verified received message mentions us: the inbox counts the
 *   unread ones, the notification may pass a muted room.
 * - `room_reads`: per room and member, the newest message their XEP-0333 displayed marker named
 *   (only ever moves forward). A message of ours was read by a member when it is at or before
 *   that message in the conversation's order. Goes with the room, or with the message it names
 *   (retention): what was older than that message is gone too.
 */
import type { Db } from '../open-db';

export function migrate0016RoomMentionsAndReads(db: Db): void {
  db.exec(`
    ALTER TABLE messages ADD COLUMN mentions TEXT;
    ALTER TABLE messages ADD COLUMN mentions_me INTEGER NOT NULL DEFAULT 0 CHECK (mentions_me IN (0, 1));
    CREATE TABLE room_reads (
      room_id    INTEGER NOT NULL REFERENCES rooms (conversation_id) ON DELETE CASCADE,
      jid        TEXT NOT NULL,
      message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
      at         INTEGER NOT NULL,
      PRIMARY KEY (room_id, jid)
    ) STRICT;
    CREATE INDEX room_reads_by_message ON room_reads (message_id);
  `);
}
