/**
 * Texts to patients (migration 0012, issue 17 item 2). A row is written before the text goes to
 * the gateway and its id is the request id, so a retry is answered with the first answer. States
 * only move forward; expired and failed end a text. Body, phone and name are PHI: never logged.
 */
import type { PatientText, PatientTextState } from '../../../common/contract/domain';
import type { Clock } from '../../clock';
import type { Db } from '../open-db';

interface Row {
  id: string;
  created_at: number;
  updated_at: number;
  patient_name: string;
  phone: string;
  dob_verifier: string;
  body: string;
  sms_text: string;
  state: PatientTextState;
  failure: string | null;
  link_id: string | null;
  patient_jid: string | null;
  expires_at: number | null;
}

export interface NewPatientText {
  id: string;
  patientName: string;
  phone: string;
  dobVerifier: string;
  body: string;
  smsText: string;
}

/** A stored text with what a resend needs (the verifier; never shown). */
export interface StoredPatientText extends PatientText {
  dobVerifier: string;
  linkId: string | null;
}

export interface PatientTextRepo {
  insert(t: NewPatientText): StoredPatientText;
  get(id: string): StoredPatientText | undefined;
  /** Newest first. */
  list(limit: number): StoredPatientText[];
  /** Stored but not yet taken by the gateway (oldest first): to send again once connected. */
  unsent(): StoredPatientText[];
  /** The gateway took it. */
  taken(id: string, v: { linkId: string; patientJid: string; state: PatientTextState; expiresAt: number }): void;
  /** A state from the gateway for its link id; false when unknown or not a step forward. */
  advance(linkId: string, state: PatientTextState, failure: string | null): StoredPatientText | null;
  fail(id: string, failure: string): void;
}

/** Order of the states: a later message never moves a text back. */
const RANK: Record<PatientTextState, number> = {
  sending: 0,
  queued: 1,
  'sms-delivered': 2,
  opened: 3,
  replied: 4,
  expired: 5,
  failed: 5,
};

const toText = (r: Row): StoredPatientText => ({
  id: r.id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  patientName: r.patient_name,
  phone: r.phone,
  body: r.body,
  smsText: r.sms_text,
  state: r.state,
  failure: r.failure,
  patientJid: r.patient_jid,
  expiresAt: r.expires_at,
  dobVerifier: r.dob_verifier,
  linkId: r.link_id,
});

export function createPatientTextRepo(db: Db, clock: Pick<Clock, 'now'>): PatientTextRepo {
  const insert = db.prepare<[string, number, number, string, string, string, string, string]>(
    `INSERT INTO patient_texts (id, created_at, updated_at, patient_name, phone, dob_verifier, body, sms_text, state)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'sending')`,
  );
  const get = db.prepare<[string], Row>('SELECT * FROM patient_texts WHERE id = ?');
  const byLink = db.prepare<[string], Row>('SELECT * FROM patient_texts WHERE link_id = ?');
  const list = db.prepare<[number], Row>('SELECT * FROM patient_texts ORDER BY created_at DESC, id LIMIT ?');
  const unsent = db.prepare<[], Row>("SELECT * FROM patient_texts WHERE state = 'sending' ORDER BY created_at, id");
  const taken = db.prepare<[string, string, string, number, number, string]>(
    `UPDATE patient_texts SET link_id = ?, patient_jid = ?, state = ?, expires_at = ?, updated_at = ?, failure = NULL
     WHERE id = ? AND state = 'sending'`,
  );
  const setState = db.prepare<[string, string | null, number, string]>(
    'UPDATE patient_texts SET state = ?, failure = ?, updated_at = ? WHERE id = ?',
  );
  return {
    insert(t) {
      const now = clock.now();
      insert.run(t.id, now, now, t.patientName, t.phone, t.dobVerifier, t.body, t.smsText);
      return toText(get.get(t.id)!);
    },
    get: (id) => {
      const r = get.get(id);
      return r ? toText(r) : undefined;
    },
    list: (limit) => list.all(limit).map(toText),
    unsent: () => unsent.all().map(toText),
    taken(id, v) {
      taken.run(v.linkId, v.patientJid, v.state, v.expiresAt, clock.now(), id);
    },
    advance(linkId, state, failure) {
      const r = byLink.get(linkId);
      if (!r || RANK[state] <= RANK[r.state] || RANK[r.state] === RANK.failed) return null;
      setState.run(state, state === 'failed' ? failure : null, clock.now(), r.id);
      return toText(get.get(r.id)!);
    },
    fail(id, failure) {
      setState.run('failed', failure, clock.now(), id);
    },
  };
}
