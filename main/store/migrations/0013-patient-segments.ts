/**
 * Version 13 (issue 17 item 5): the clinic's patient list, message templates and segment sends.
 *
 * `patients`: one row per patient imported from a CSV file (name, phone number, date of birth), in
 * this encrypted database like every message; one row per phone number (a later import of the same
 * number updates it). The date of birth stays here: a text carries only its slow-hash verifier.
 *
 * `patient_templates`: a message with placeholders ({firstName}, {clinicName}, {date} …) and the
 * PHI-free SMS text that carries its link; `quick` ones are offered as one-tap texts.
 *
 * `patient_segments`: one row per "send to a segment". Its recipients are `patient_texts` rows
 * (segment_id), all written in one transaction before the first goes to the gateway: each row's id
 * is its gateway request id, so a resume after a crash sends each still-'sending' row again under
 * the same id and the gateway answers it with its first answer — nobody texted twice, nobody skipped.
 */
import type { Db } from '../open-db';

export function migrate0013PatientSegments(db: Db): void {
  db.exec(`
    CREATE TABLE patients (
      id         TEXT PRIMARY KEY,
      first_name TEXT NOT NULL,
      last_name  TEXT NOT NULL,
      phone      TEXT NOT NULL UNIQUE,
      dob        TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX patients_by_name ON patients (last_name, first_name, id);

    CREATE TABLE patient_templates (
      id         TEXT PRIMARY KEY,
      name       TEXT NOT NULL UNIQUE,
      body       TEXT NOT NULL,
      sms_text   TEXT NOT NULL,
      quick      INTEGER NOT NULL DEFAULT 0 CHECK (quick IN (0, 1)),
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    ) STRICT;

    CREATE TABLE patient_segments (
      id          TEXT PRIMARY KEY,
      template_id TEXT,
      name        TEXT NOT NULL,
      created_at  INTEGER NOT NULL,
      total       INTEGER NOT NULL
    ) STRICT;

    ALTER TABLE patient_texts ADD COLUMN segment_id TEXT REFERENCES patient_segments (id) ON DELETE SET NULL;
    ALTER TABLE patient_texts ADD COLUMN patient_id TEXT;
    CREATE INDEX patient_texts_by_segment ON patient_texts (segment_id, state);
  `);
}
