/**
 * Urgent messages (issue 12 §7): `messages.urgent` is 1 when the sender marked the message Urgent
 * inside the signed OX payload (`<urgent xmlns='urn:clinicmessenger:0'/>`), for our own messages
 * when the person ticked Urgent. Kept so the row still shows it after a restart, and so a retry
 * sends it Urgent again.
 */
import type { Db } from '../open-db';

export function migrate0009MessageUrgent(db: Db): void {
  db.exec(`ALTER TABLE messages ADD COLUMN urgent INTEGER NOT NULL DEFAULT 0 CHECK (urgent IN (0, 1));`);
}
