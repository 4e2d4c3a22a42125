/**
 * Edits and deletions for everyone (issue 12 §6, XEP-0308 / XEP-0424):
 * - `edited_at`: when the newest accepted edit replaced the body (the row shows "edited");
 * - `retracted_at`: when the sender deleted it for everyone; the body is gone (NULL, and so out of
 *   the search index through the update trigger of migration 0002) and the row shows "deleted";
 * - `signer`: the fingerprint of the key that signed a received message, so a later edit or
 *   deletion is accepted only when signed by that same key. NULL for rows from before this
 *   version and for messages written here (their author is this account).
 */
import type { Db } from '../open-db';

export function migrate0010MessageChanges(db: Db): void {
  db.exec(`
    ALTER TABLE messages ADD COLUMN edited_at INTEGER;
    ALTER TABLE messages ADD COLUMN retracted_at INTEGER;
    ALTER TABLE messages ADD COLUMN signer TEXT;
  `);
}
