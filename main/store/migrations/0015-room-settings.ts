/**
 * Version 15 (issue 18 §4, §5): what a care-team room says about its configuration, as this
 * workstation last read it from the room's disco#info (main/xmpp/room-config.ts).
 *
 * - `rooms.announcement`: an announcement room, where only the room's owners post. The composer is
 *   replaced for everyone else, the outbox refuses their messages, and a message from anyone but an
 *   owner is refused on receipt.
 * - `rooms.unsafe`: null while the room keeps the clinic's policy; else what it no longer keeps
 *   (`open`: not members-only, `anonymous`: members cannot see who wrote; comma-separated). Nothing
 *   is sent to such a room and nothing from it is accepted. `rooms.unsafe_at`: since when.
 */
import type { Db } from '../open-db';

export function migrate0015RoomSettings(db: Db): void {
  db.exec(`
    ALTER TABLE rooms ADD COLUMN announcement INTEGER NOT NULL DEFAULT 0 CHECK (announcement IN (0, 1));
    ALTER TABLE rooms ADD COLUMN unsafe TEXT;
    ALTER TABLE rooms ADD COLUMN unsafe_at INTEGER;
  `);
}
