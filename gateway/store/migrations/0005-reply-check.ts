/**
 * Version 5 (issue 17 item 3): the check a reply token was earned with. reply_token_check is
 * 'code' when the open that gave the token checked a one-time code (a `code` message, or a DOB
 * message after the step-up), else 'dob'; a reply posted with that token is marked so. The gateway
 * decides it at the open; nothing the page sends with its reply can change it. NULL with no token
 * (and for a token given before this version: the message's own check then).
 */
import type Database from 'better-sqlite3-multiple-ciphers';

export function migrate0005ReplyCheck(db: Database.Database): void {
  db.exec(`
    ALTER TABLE messages ADD COLUMN reply_token_check TEXT CHECK (reply_token_check IN ('dob', 'code'));
  `);
}
