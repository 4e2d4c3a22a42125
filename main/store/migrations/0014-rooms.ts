/**
 * Version 14 (issue 18): care-team rooms.
 *
 * A room is a conversation like any other (its `peer_jid` is the room's bare JID), so its messages
 * live in `messages` and search, retention, wipe and the outbox cover rooms as they cover pairs.
 *
 * - `rooms`: which conversations are rooms, the room's name, our nick and whether we are still a
 *   member (`left_at` set when the room removed us or we could no longer join).
 * - `room_affiliations`: every change of a person's affiliation we learnt, with the time we learnt
 *   it (the room's list at join, each later change from the room's presences). The receive check
 *   asks who was a member when the server stamped a message (main/crypto/room-membership.ts).
 * - `messages.sender_jid`: the real bare JID of a room message's sender (null in a pair, where the
 *   conversation's peer is the sender).
 */
import type { Db } from '../open-db';

export function migrate0014Rooms(db: Db): void {
  db.exec(`
    CREATE TABLE rooms (
      conversation_id INTEGER PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
      jid             TEXT NOT NULL UNIQUE,
      name            TEXT,
      nick            TEXT,
      joined_at       INTEGER,
      left_at         INTEGER
    ) STRICT;
    CREATE TABLE room_affiliations (
      id          INTEGER PRIMARY KEY,
      room_id     INTEGER NOT NULL REFERENCES rooms (conversation_id) ON DELETE CASCADE,
      jid         TEXT NOT NULL,
      affiliation TEXT NOT NULL CHECK (affiliation IN ('owner','admin','member','none','outcast')),
      at          INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX room_affiliations_by_room ON room_affiliations (room_id, at, id);
    ALTER TABLE messages ADD COLUMN sender_jid TEXT;
  `);
}
