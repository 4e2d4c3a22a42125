/**
 * Version 4 (issue 17 item 3): the one-time code a date-of-birth message also asks for when its
 * link is opened more than 24 h after the text reached the phone, or on a new device.
 * - sent_at: when the text was handed to the SMS provider (ms); delivered_at: when the provider's
 *   delivery receipt arrived (ms; the sink reports delivery at once). The 24 h count from
 *   delivered_at, else sent_at (no receipt), else created_at (rows from before this version).
 * - device_hash: the device that first passed the check for this link, as an HMAC of the page's
 *   device token (meta 'device-key', with the link id); '' when that device sent no token. NULL
 *   until the first pass. The token itself is never stored.
 * - step_up_at: when a right DOB was last answered with "code required" (ms): from then on the
 *   page may ask for codes for this message, as a `code` message may at once.
 */
import type Database from 'better-sqlite3-multiple-ciphers';

export function migrate0004StepUp(db: Database.Database): void {
  db.exec(`
    ALTER TABLE messages ADD COLUMN sent_at INTEGER;
    ALTER TABLE messages ADD COLUMN delivered_at INTEGER;
    ALTER TABLE messages ADD COLUMN device_hash TEXT;
    ALTER TABLE messages ADD COLUMN step_up_at INTEGER;
  `);
}
