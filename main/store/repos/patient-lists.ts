/**
 * The clinic's patient list, its text templates and its segment sends (migration 0013, issue 17
 * item 5). Names, numbers and dates of birth are PHI: in this encrypted database, never logged.
 * A segment is recorded first: the segment and one recipient row each (migration 0017), in one
 * transaction, before any text is prepared. Preparing a batch turns its recipient rows into
 * patient_texts rows ('sending') in one transaction; each text's id is its recipient's id and its
 * gateway request id.
 */
import type { Clock } from '../../clock';
import type { Db } from '../open-db';

export interface StoredPatient {
  id: string;
  firstName: string;
  lastName: string;
  phone: string;
  dob: string;
}

export interface StoredTemplate {
  id: string;
  name: string;
  body: string;
  smsText: string;
  quick: boolean;
  updatedAt: number;
}

export interface SegmentProgress {
  id: string;
  name: string;
  createdAt: number;
  total: number;
  /** Recorded, its text not yet prepared (its DOB verifier not yet made). */
  preparing: number;
  /** Still 'sending': not yet taken by the gateway. */
  waiting: number;
  /** Taken by the gateway (any state after 'sending' but failed). */
  handed: number;
  failed: number;
}

export interface PatientListRepo {
  /** Adds or updates (by phone number) in one transaction. */
  importPatients(ps: (Omit<StoredPatient, 'id'> & { id: string })[]): { added: number; updated: number };
  listPatients(): StoredPatient[];
  patientsById(ids: readonly string[]): StoredPatient[];
  saveTemplate(t: Omit<StoredTemplate, 'updatedAt'>): StoredTemplate;
  getTemplate(id: string): StoredTemplate | undefined;
  templateByName(name: string): StoredTemplate | undefined;
  listTemplates(): StoredTemplate[];
  deleteTemplate(id: string): void;
  /** The segment and every recipient, in one transaction, before any text is prepared. */
  createSegment(s: { id: string; name: string; templateId: string | null }, recipients: NewRecipient[]): void;
  /** Recipients not yet prepared, oldest segment first, in the order chosen. */
  unprepared(limit: number): SegmentRecipient[];
  /**
   * A prepared batch: each recipient becomes its text ('sending', same id) and its recipient row
   * goes, all in one transaction. A recipient already prepared (or gone) is skipped.
   */
  prepared(batch: readonly { id: string; dobVerifier: string | null }[]): void;
  segment(id: string): SegmentProgress | undefined;
  /** Newest first. */
  segments(limit: number): SegmentProgress[];
  /** The segment a text belongs to, or null. */
  segmentOf(textId: string): string | null;
}

/** What preparing a recipient's text needs: the message filled in and the SMS text checked at record time. */
export interface NewRecipient {
  /** The id its text will have (the gateway request id). */
  id: string;
  patientId: string;
  patientName: string;
  phone: string;
  dob: string;
  body: string;
  smsText: string;
}
export interface SegmentRecipient extends NewRecipient {
  segmentId: string;
}

interface RecipientRow {
  id: string;
  segment_id: string;
  patient_id: string;
  patient_name: string;
  phone: string;
  dob: string;
  body: string;
  sms_text: string;
}

interface PatientRow {
  id: string;
  first_name: string;
  last_name: string;
  phone: string;
  dob: string;
}
interface TemplateRow {
  id: string;
  name: string;
  body: string;
  sms_text: string;
  quick: number;
  updated_at: number;
}
interface SegmentRow {
  id: string;
  name: string;
  created_at: number;
  total: number;
  preparing: number;
  waiting: number;
  failed: number;
}

const toPatient = (r: PatientRow): StoredPatient => ({
  id: r.id,
  firstName: r.first_name,
  lastName: r.last_name,
  phone: r.phone,
  dob: r.dob,
});
const toTemplate = (r: TemplateRow): StoredTemplate => ({
  id: r.id,
  name: r.name,
  body: r.body,
  smsText: r.sms_text,
  quick: r.quick === 1,
  updatedAt: r.updated_at,
});
const toSegment = (r: SegmentRow): SegmentProgress => ({
  id: r.id,
  name: r.name,
  createdAt: r.created_at,
  total: r.total,
  preparing: r.preparing,
  waiting: r.waiting,
  failed: r.failed,
  handed: r.total - r.preparing - r.waiting - r.failed,
});
const toRecipient = (r: RecipientRow): SegmentRecipient => ({
  id: r.id,
  segmentId: r.segment_id,
  patientId: r.patient_id,
  patientName: r.patient_name,
  phone: r.phone,
  dob: r.dob,
  body: r.body,
  smsText: r.sms_text,
});

const SEGMENT_SELECT = `SELECT s.id, s.name, s.created_at, s.total,
    (SELECT count(*) FROM patient_segment_recipients r WHERE r.segment_id = s.id) AS preparing,
    (SELECT count(*) FROM patient_texts t WHERE t.segment_id = s.id AND t.state = 'sending') AS waiting,
    (SELECT count(*) FROM patient_texts t WHERE t.segment_id = s.id AND t.state = 'failed') AS failed
  FROM patient_segments s`;

export function createPatientListRepo(db: Db, clock: Pick<Clock, 'now'>): PatientListRepo {
  const byPhone = db.prepare<[string], { id: string }>('SELECT id FROM patients WHERE phone = ?');
  const addPatient = db.prepare<[string, string, string, string, string, number, number]>(
    'INSERT INTO patients (id, first_name, last_name, phone, dob, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const updatePatient = db.prepare<[string, string, string, number, string]>(
    'UPDATE patients SET first_name = ?, last_name = ?, dob = ?, updated_at = ? WHERE id = ?',
  );
  const listPatients = db.prepare<[], PatientRow>(
    'SELECT id, first_name, last_name, phone, dob FROM patients ORDER BY last_name COLLATE NOCASE, first_name COLLATE NOCASE, id',
  );
  const patientById = db.prepare<[string], PatientRow>(
    'SELECT id, first_name, last_name, phone, dob FROM patients WHERE id = ?',
  );
  const upsertTemplate = db.prepare<[string, string, string, string, number, number, number]>(
    `INSERT INTO patient_templates (id, name, body, sms_text, quick, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, body = excluded.body, sms_text = excluded.sms_text,
       quick = excluded.quick, updated_at = excluded.updated_at`,
  );
  const getTemplate = db.prepare<[string], TemplateRow>('SELECT * FROM patient_templates WHERE id = ?');
  const templateByName = db.prepare<[string], TemplateRow>(
    'SELECT * FROM patient_templates WHERE name = ? COLLATE NOCASE',
  );
  const listTemplates = db.prepare<[], TemplateRow>('SELECT * FROM patient_templates ORDER BY name COLLATE NOCASE, id');
  const deleteTemplate = db.prepare<[string]>('DELETE FROM patient_templates WHERE id = ?');
  const addSegment = db.prepare<[string, string | null, string, number, number]>(
    'INSERT INTO patient_segments (id, template_id, name, created_at, total) VALUES (?, ?, ?, ?, ?)',
  );
  const addRecipient = db.prepare<[string, string, number, string, string, string, string, string, string]>(
    `INSERT INTO patient_segment_recipients (id, segment_id, seq, patient_id, patient_name, phone, dob, body, sms_text)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const unprepared = db.prepare<[number], RecipientRow>(
    `SELECT r.id, r.segment_id, r.patient_id, r.patient_name, r.phone, r.dob, r.body, r.sms_text
     FROM patient_segment_recipients r JOIN patient_segments s ON s.id = r.segment_id
     ORDER BY s.created_at, s.id, r.seq LIMIT ?`,
  );
  // The text takes everything from its recipient row but the DOB, which becomes the verifier.
  const textFromRecipient = db.prepare<[number, number, string | null, string]>(
    `INSERT INTO patient_texts (id, created_at, updated_at, patient_name, phone, dob_verifier, body, sms_text, state, segment_id, patient_id)
     SELECT id, ?, ?, patient_name, phone, ?, body, sms_text, 'sending', segment_id, patient_id
     FROM patient_segment_recipients WHERE id = ?`,
  );
  const dropRecipient = db.prepare<[string]>('DELETE FROM patient_segment_recipients WHERE id = ?');
  const segment = db.prepare<[string], SegmentRow>(`${SEGMENT_SELECT} WHERE s.id = ?`);
  const segments = db.prepare<[number], SegmentRow>(`${SEGMENT_SELECT} ORDER BY s.created_at DESC, s.id LIMIT ?`);
  const segmentOf = db.prepare<[string], { segment_id: string | null }>(
    'SELECT segment_id FROM patient_texts WHERE id = ?',
  );

  return {
    importPatients: (ps) =>
      db
        .transaction(() => {
          const now = clock.now();
          let added = 0;
          let updated = 0;
          for (const p of ps) {
            const existing = byPhone.get(p.phone);
            if (existing) {
              updatePatient.run(p.firstName, p.lastName, p.dob, now, existing.id);
              updated++;
            } else {
              addPatient.run(p.id, p.firstName, p.lastName, p.phone, p.dob, now, now);
              added++;
            }
          }
          return { added, updated };
        })
        .immediate(),
    listPatients: () => listPatients.all().map(toPatient),
    patientsById: (ids) =>
      ids
        .map((id) => patientById.get(id))
        .filter((r): r is PatientRow => !!r)
        .map(toPatient),
    saveTemplate(t) {
      const now = clock.now();
      upsertTemplate.run(t.id, t.name, t.body, t.smsText, t.quick ? 1 : 0, now, now);
      return toTemplate(getTemplate.get(t.id)!);
    },
    getTemplate: (id) => {
      const r = getTemplate.get(id);
      return r ? toTemplate(r) : undefined;
    },
    templateByName: (name) => {
      const r = templateByName.get(name);
      return r ? toTemplate(r) : undefined;
    },
    listTemplates: () => listTemplates.all().map(toTemplate),
    deleteTemplate: (id) => void deleteTemplate.run(id),
    createSegment: (s, recipients) =>
      db
        .transaction(() => {
          addSegment.run(s.id, s.templateId, s.name, clock.now(), recipients.length);
          recipients.forEach((r, seq) =>
            addRecipient.run(r.id, s.id, seq, r.patientId, r.patientName, r.phone, r.dob, r.body, r.smsText),
          );
        })
        .immediate(),
    unprepared: (limit) => unprepared.all(limit).map(toRecipient),
    prepared: (batch) =>
      db
        .transaction(() => {
          // One created_at per batch: patient_texts' unsent() orders by it, then by id.
          const now = clock.now();
          for (const t of batch)
            if (textFromRecipient.run(now, now, t.dobVerifier, t.id).changes === 1) dropRecipient.run(t.id);
        })
        .immediate(),
    segment: (id) => {
      const r = segment.get(id);
      return r ? toSegment(r) : undefined;
    },
    segments: (limit) => segments.all(limit).map(toSegment),
    segmentOf: (textId) => segmentOf.get(textId)?.segment_id ?? null,
  };
}
