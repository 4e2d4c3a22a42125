/**
 * Version 1 of the gateway's database (issue 17 item 1). STRICT tables; static SQL. What is NOT
 * here is the point: no message text, no date of birth, no link secret, no SMS text.
 */
import type Database from 'better-sqlite3-multiple-ciphers';

export const MESSAGE_STATES = ['queued', 'sms-delivered', 'opened', 'replied', 'expired', 'failed'] as const;
const STATES = MESSAGE_STATES.map((s) => `'${s}'`).join(',');

export function migrate0001Init(db: Database.Database): void {
  db.exec(`
    -- pseudonym-key: the HMAC key that turns a phone number into the patient's JID (stable, opaque).
    CREATE TABLE meta (
      key   TEXT PRIMARY KEY,
      value BLOB NOT NULL
    ) STRICT;

    CREATE TABLE messages (
      id            TEXT PRIMARY KEY,      -- the link id: 128 random bits, base64url
      request_key   TEXT NOT NULL UNIQUE,  -- staff JID + the app's request id: a resent IQ is the same message
      staff_jid     TEXT NOT NULL,         -- bare JID that sent it; state changes and replies go there
      patient       TEXT NOT NULL,         -- the patient's JID local part (p-…), from the phone number
      phone         TEXT NOT NULL,         -- E.164, to text the link (and a one-time code)
      ciphertext    BLOB,                  -- OpenPGP message; NULL once expired
      dob_verifier  TEXT NOT NULL,         -- scrypt$… (gateway/dob.ts)
      dob_failures  INTEGER NOT NULL DEFAULT 0,
      locked_until  INTEGER,               -- ms; wrong DOBs lock the link until then
      state         TEXT NOT NULL CHECK (state IN (${STATES})),
      reason        TEXT,                  -- why it failed (a reason code)
      provider_ref  TEXT,                  -- the SMS provider's id for the text (Twilio's MessageSid)
      created_at    INTEGER NOT NULL,
      expires_at    INTEGER NOT NULL,
      updated_at    INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX messages_phone_created ON messages (phone, created_at);
    CREATE INDEX messages_live_expiry ON messages (expires_at) WHERE ciphertext IS NOT NULL;
    CREATE UNIQUE INDEX messages_provider_ref ON messages (provider_ref) WHERE provider_ref IS NOT NULL;

    CREATE TABLE opt_outs (
      phone TEXT PRIMARY KEY,
      at    INTEGER NOT NULL
    ) STRICT;

    -- One-time SMS codes (a link opened late or on a new device): only a hash of the code.
    CREATE TABLE one_time_codes (
      message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
      code_hash  TEXT NOT NULL,
      expires_at INTEGER NOT NULL,
      used_at    INTEGER,
      tries      INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE INDEX one_time_codes_message ON one_time_codes (message_id);
  `);
}
