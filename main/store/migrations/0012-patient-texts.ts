/**
 * Version 12 (issue 17 item 2): texts to patients through the clinic's patient gateway.
 *
 * `patient_texts`: one row per text, written before it is sent (the row's id is the request id the
 * gateway answers idempotently, so a retry never texts twice). It keeps what the sender wrote and
 * the SMS text, in this encrypted database like every message; the phone number and the name as
 * typed; the DOB only as the gateway's slow-hash verifier (none: the patient proves who they are
 * with a one-time SMS code instead); never the link secret. The gateway's
 * answer fills `link_id`, `patient_jid` and `expires_at`; its state messages move `state` forward
 * (queued → sms-delivered → opened → replied; expired or failed end it).
 *
 * `patient_replies`: what the patient wrote back, decrypted with the sender's key (the gateway only
 * ever held ciphertext), with how the patient proved who they are; the gateway's reply id keeps a
 * reply delivered twice once.
 */
import type { Db } from '../open-db';

export function migrate0012PatientTexts(db: Db): void {
  db.exec(`
    CREATE TABLE patient_texts (
      id           TEXT PRIMARY KEY,
      created_at   INTEGER NOT NULL,
      updated_at   INTEGER NOT NULL,
      patient_name TEXT NOT NULL,
      phone        TEXT NOT NULL,
      dob_verifier TEXT,
      body         TEXT NOT NULL,
      sms_text     TEXT NOT NULL,
      state        TEXT NOT NULL CHECK (state IN ('sending', 'queued', 'sms-delivered', 'opened', 'replied', 'expired', 'failed')),
      failure      TEXT,
      link_id      TEXT UNIQUE,
      patient_jid  TEXT,
      expires_at   INTEGER
    ) STRICT;
    CREATE INDEX patient_texts_by_time ON patient_texts (created_at DESC);

    CREATE TABLE patient_replies (
      id          TEXT PRIMARY KEY,
      text_id     TEXT NOT NULL REFERENCES patient_texts (id) ON DELETE CASCADE,
      received_at INTEGER NOT NULL,
      verified    TEXT NOT NULL CHECK (verified IN ('dob', 'code')),
      body        TEXT NOT NULL
    ) STRICT;
    CREATE INDEX patient_replies_by_text ON patient_replies (text_id, received_at);
  `);
}
