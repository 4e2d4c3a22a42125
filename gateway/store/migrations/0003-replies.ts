/**
 * Version 3 (issue 17 item 3): patient replies. A send may carry the public keys replies are
 * encrypted to (reply_keys: binary OpenPGP keys one after another; NULL: the patient cannot reply).
 * A passed identity check gives the page one reply token, kept as its SHA-256 with its end time.
 * A reply is kept as ciphertext only until it is handed to the XMPP server (then NULL).
 */
import type Database from 'better-sqlite3-multiple-ciphers';

export function migrate0003Replies(db: Database.Database): void {
  db.exec(`
    ALTER TABLE messages ADD COLUMN reply_keys BLOB;
    ALTER TABLE messages ADD COLUMN reply_token_hash TEXT;
    ALTER TABLE messages ADD COLUMN reply_token_until INTEGER;

    CREATE TABLE replies (
      id           TEXT PRIMARY KEY,      -- 128 random bits, base64url; the stanza id too
      message_id   TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
      ciphertext   BLOB,                  -- OpenPGP message to the reply keys; NULL once delivered
      verified     TEXT NOT NULL CHECK (verified IN ('dob', 'code')),
      created_at   INTEGER NOT NULL,
      delivered_at INTEGER
    ) STRICT;
    CREATE INDEX replies_message ON replies (message_id);
    CREATE INDEX replies_undelivered ON replies (created_at) WHERE delivered_at IS NULL;
  `);
}
