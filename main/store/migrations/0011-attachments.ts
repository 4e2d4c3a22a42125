/**
 * Attachments (issue 16): one row per file a message carries (XEP-0447/0448, at most one per
 * message: main/crypto/file-sharing.ts refuses several). Replaces the unused placeholder table of
 * version 1, which never held a row.
 *
 * - `state`: pending (stored, not uploaded yet) → uploading → sent (the message carrying it was
 *   acknowledged) for files we send; available (announced, not fetched) → downloading → stored,
 *   or damaged (size, tag or hash did not hold: nothing kept), for files we receive; failed (with
 *   `failure`, a code, never text) for either.
 * - `file_key`, `file_iv`, `cipher_sha256`, `url`: XEP-0448's key material and the upload address,
 *   kept only here, in the SQLCipher database, like the message text. NULL until an upload made
 *   them, and for a refused attachment.
 * - `local_file_id`: the blob in the profile's encrypted file store (main/attachments/file-store.ts);
 *   chosen before the blob is written, so every blob on disk has its row (retention's sweep).
 * - `thumbnail*`: the sender's small preview (XEP-0264 data: URI), as received.
 */
import type { Db } from '../open-db';

export const ATTACHMENT_STATES = [
  'pending',
  'uploading',
  'sent',
  'available',
  'downloading',
  'stored',
  'damaged',
  'failed',
] as const;

export function migrate0011Attachments(db: Db): void {
  const states = ATTACHMENT_STATES.map((s) => `'${s}'`).join(',');
  db.exec(`
    DROP INDEX IF EXISTS attachments_by_message;
    DROP TABLE IF EXISTS attachments;
    CREATE TABLE attachments (
      id               INTEGER PRIMARY KEY,
      message_id       INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
      direction        TEXT NOT NULL CHECK (direction IN ('in','out')),
      name             TEXT NOT NULL,
      media_type       TEXT NOT NULL,
      size             INTEGER NOT NULL CHECK (size >= 0),
      sha256           BLOB CHECK (sha256 IS NULL OR length(sha256) = 32),
      cipher_sha256    BLOB CHECK (cipher_sha256 IS NULL OR length(cipher_sha256) = 32),
      file_key         BLOB CHECK (file_key IS NULL OR length(file_key) = 32),
      file_iv          BLOB CHECK (file_iv IS NULL OR length(file_iv) = 12),
      url              TEXT,
      state            TEXT NOT NULL CHECK (state IN (${states})),
      failure          TEXT,
      local_file_id    TEXT UNIQUE,
      thumbnail        BLOB,
      thumbnail_type   TEXT,
      thumbnail_width  INTEGER,
      thumbnail_height INTEGER,
      created_at       INTEGER NOT NULL,
      updated_at       INTEGER NOT NULL
    ) STRICT;
    CREATE UNIQUE INDEX attachments_by_message ON attachments (message_id);
  `);
}
