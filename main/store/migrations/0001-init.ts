/**
 * Version 1: the whole first schema (issue 4 §3). STRICT tables; SQL is static, no input.
 * Ids are INTEGER rowids so FTS5 can use messages as an external-content table.
 */
import type { Db } from '../open-db';

const STATES = `'queued','sent','acked','delivered','read','failed','unverified'`;
const TRUST = `'unknown','pinned','verified','changed','unavailable'`;
const ROLES = `'reception','physician','nurse','admin','staff'`;

export function migrate0001Init(db: Db): void {
  db.exec(`
    CREATE TABLE settings (
      key   TEXT PRIMARY KEY,
      value TEXT NOT NULL
    ) STRICT;

    CREATE TABLE contacts (
      jid                 TEXT PRIMARY KEY,
      display_name        TEXT NOT NULL,
      role                TEXT CHECK (role IN (${ROLES})),
      fingerprint         TEXT,
      trust               TEXT NOT NULL DEFAULT 'unknown' CHECK (trust IN (${TRUST})),
      pending_fingerprint TEXT,
      public_key          BLOB,
      first_seen          INTEGER,
      verified_at         INTEGER,
      updated_at          INTEGER NOT NULL
    ) STRICT;

    CREATE TABLE conversations (
      id         INTEGER PRIMARY KEY,
      peer_jid   TEXT NOT NULL UNIQUE,
      created_at INTEGER NOT NULL,
      last_at    INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX conversations_by_activity ON conversations (last_at DESC, id DESC);

    CREATE TABLE messages (
      id              INTEGER PRIMARY KEY,
      conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
      direction       TEXT NOT NULL CHECK (direction IN ('in','out')),
      state           TEXT NOT NULL CHECK (state IN (${STATES})),
      origin_id       TEXT,
      stanza_id       TEXT,
      body            TEXT,
      sent_at         INTEGER NOT NULL,
      received_at     INTEGER,
      read_at         INTEGER
    ) STRICT;
    -- Re-delivery (MAM replay, carbons, a resent stanza) is a no-op: XEP-0359 ids are unique per conversation.
    CREATE UNIQUE INDEX messages_origin ON messages (conversation_id, origin_id) WHERE origin_id IS NOT NULL;
    CREATE UNIQUE INDEX messages_stanza ON messages (conversation_id, stanza_id) WHERE stanza_id IS NOT NULL;
    CREATE INDEX messages_page ON messages (conversation_id, sent_at DESC, id DESC);
    CREATE INDEX messages_unread ON messages (conversation_id) WHERE direction = 'in' AND read_at IS NULL;

    CREATE VIRTUAL TABLE messages_fts USING fts5 (
      body,
      content = 'messages',
      content_rowid = 'id',
      tokenize = 'unicode61 remove_diacritics 2',
      -- Only 3-letter prefixes get their own index: shorter terms match whole words (search.ts),
      -- longer prefixes scan few terms. Each prefix length indexed costs bulk-insert time.
      prefix = '3'
    );
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.body IS NOT NULL BEGIN
      INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
    END;
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.body IS NOT NULL BEGIN
      INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
    END;
    CREATE TRIGGER messages_fts_update_old AFTER UPDATE OF body ON messages WHEN old.body IS NOT NULL BEGIN
      INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
    END;
    CREATE TRIGGER messages_fts_update_new AFTER UPDATE OF body ON messages WHEN new.body IS NOT NULL BEGIN
      INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
    END;

    CREATE TABLE outbox (
      message_id      INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
      attempts        INTEGER NOT NULL DEFAULT 0,
      next_attempt_at INTEGER NOT NULL,
      last_error      TEXT,
      created_at      INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX outbox_due ON outbox (next_attempt_at);

    CREATE TABLE attachments (
      id         INTEGER PRIMARY KEY,
      message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
      file_name  TEXT NOT NULL,
      mime       TEXT NOT NULL,
      size       INTEGER NOT NULL CHECK (size >= 0),
      sha256     TEXT NOT NULL,
      local_path TEXT,
      url        TEXT,
      key        BLOB NOT NULL,
      created_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX attachments_by_message ON attachments (message_id);

    -- Append-only, HMAC-chained (main/audit/). Rows carry their predecessor's MAC so verify()
    -- can tell an edited row from a deleted, inserted or reordered one.
    CREATE TABLE audit_log (
      seq      INTEGER PRIMARY KEY,
      at       INTEGER NOT NULL,
      type     TEXT NOT NULL,
      detail   TEXT NOT NULL,
      prev_mac BLOB NOT NULL,
      mac      BLOB NOT NULL
    ) STRICT;
    -- The newest row's seq and MAC, itself MACed: catches a truncated tail.
    CREATE TABLE audit_head (
      id       INTEGER PRIMARY KEY CHECK (id = 1),
      seq      INTEGER NOT NULL,
      mac      BLOB NOT NULL,
      head_mac BLOB NOT NULL
    ) STRICT;
  `);
}
