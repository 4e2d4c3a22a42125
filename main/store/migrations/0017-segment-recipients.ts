/**
 * Version 17 (issue 17 item 5): a segment send is recorded before its texts are prepared.
 *
 * `patient_segment_recipients`: one row per recipient still to prepare, written with the segment in
 * one transaction before any preparation (the slow part: each text's DOB verifier). Each row keeps
 * what its text needs — the message already filled in for the patient, the checked SMS text, the
 * number, the name and the date of birth — in this encrypted database like every message. Its id is
 * the id its `patient_texts` row will have (so also the gateway request id). Preparing a batch
 * inserts the batch's texts and deletes their recipient rows in one transaction: a recipient is
 * either still here or a text, never both and never neither, so a resume after a crash prepares
 * exactly the rest. The date of birth goes with the row; the text keeps only its verifier.
 */
import type { Db } from '../open-db';

export function migrate0017SegmentRecipients(db: Db): void {
  db.exec(`
    CREATE TABLE patient_segment_recipients (
      id           TEXT PRIMARY KEY,
      segment_id   TEXT NOT NULL REFERENCES patient_segments (id) ON DELETE CASCADE,
      seq          INTEGER NOT NULL,
      patient_id   TEXT NOT NULL,
      patient_name TEXT NOT NULL,
      phone        TEXT NOT NULL,
      dob          TEXT NOT NULL,
      body         TEXT NOT NULL,
      sms_text     TEXT NOT NULL
    ) STRICT;
    CREATE INDEX patient_segment_recipients_by_segment ON patient_segment_recipients (segment_id, seq);
  `);
}
