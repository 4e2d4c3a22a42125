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
  dob_verifier: string | null;
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
  /** null: a one-time SMS code is the identity check. */
  dobVerifier: string | null;
  body: string;
  smsText: string;
}

/** A stored text with what a resend needs (the verifier; never shown). */
export interface StoredPatientText extends PatientText {
  dobVerifier: string | null;
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
  /**
   * A patient's reply to the text with this link id: stored once (by reply id) and the text moves to
   * 'replied'. null when no text has that link id, or the reply is already stored.
   */
  addReply(
    linkId: string,
    r: { id: string; at: number; verified: 'dob' | 'code'; body: string },
  ): StoredPatientText | null;
  /** The text a link id names (to check who the reply came from before decrypting it). */
  byLink(linkId: string): StoredPatientText | undefined;
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

interface ReplyRow {
  id: string;
  text_id: string;
  received_at: number;
  verified: 'dob' | 'code';
  body: string;
}

const toText = (r: Row, replies: ReplyRow[]): StoredPatientText => ({
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
  check: r.dob_verifier === null ? 'code' : 'dob',
  replies: replies.map((x) => ({ id: x.id, at: x.received_at, verified: x.verified, body: x.body })),
  dobVerifier: r.dob_verifier,
  linkId: r.link_id,
});

export function createPatientTextRepo(db: Db, clock: Pick<Clock, 'now'>): PatientTextRepo {
  const insert = db.prepare<[string, number, number, string, string, string | null, string, string]>(
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
  const repliesOf = db.prepare<[string], ReplyRow>(
    'SELECT * FROM patient_replies WHERE text_id = ? ORDER BY received_at, id',
  );
  const addReply = db.prepare<[string, string, number, string, string]>(
    'INSERT OR IGNORE INTO patient_replies (id, text_id, received_at, verified, body) VALUES (?, ?, ?, ?, ?)',
  );
  const full = (r: Row | undefined): StoredPatientText | undefined => (r ? toText(r, repliesOf.all(r.id)) : undefined);
  const advance = (r: Row, state: PatientTextState, failure: string | null): boolean => {
    if (RANK[state] <= RANK[r.state] || RANK[r.state] === RANK.failed) return false;
    setState.run(state, state === 'failed' ? failure : null, clock.now(), r.id);
    return true;
  };
  return {
    insert(t) {
      const now = clock.now();
      insert.run(t.id, now, now, t.patientName, t.phone, t.dobVerifier, t.body, t.smsText);
      return full(get.get(t.id))!;
    },
    get: (id) => full(get.get(id)),
    byLink: (linkId) => full(byLink.get(linkId)),
    list: (limit) => list.all(limit).map((r) => full(r)!),
    unsent: () => unsent.all().map((r) => full(r)!),
    taken(id, v) {
      taken.run(v.linkId, v.patientJid, v.state, v.expiresAt, clock.now(), id);
    },
    advance(linkId, state, failure) {
      const r = byLink.get(linkId);
      return r && advance(r, state, failure) ? full(get.get(r.id))! : null;
    },
    fail(id, failure) {
      setState.run('failed', failure, clock.now(), id);
    },
    addReply(linkId, reply) {
      const r = byLink.get(linkId);
      if (!r) return null;
      const stored = db.transaction(() => {
        if (addReply.run(reply.id, r.id, reply.at, reply.verified, reply.body).changes === 0) return false;
        // A reply after an expiry or a failure is still kept; the state moves only forward.
        advance(r, 'replied', null);
        return true;
      })();
      return stored ? full(get.get(r.id))! : null;
    },
  };
}
