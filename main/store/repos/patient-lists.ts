/**
 * The clinic's patient list, its text templates and its segment sends (migration 0013, issue 17
 * item 5). Names, numbers and dates of birth are PHI: in this encrypted database, never logged.
 * A segment's recipients are patient_texts rows ('sending'), all written with the segment in one
 * transaction before the first goes to the gateway; each row's id is its gateway request id.
 */
import type { Clock } from '../../clock';
import type { Db } from '../open-db';
import type { NewPatientText } from './patient-texts';

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
  /** The segment and every recipient's text, in one transaction. */
  createSegment(
    s: { id: string; name: string; templateId: string | null },
    texts: (NewPatientText & { patientId: string })[],
  ): void;
  segment(id: string): SegmentProgress | undefined;
  /** Newest first. */
  segments(limit: number): SegmentProgress[];
  /** The segment a text belongs to, or null. */
  segmentOf(textId: string): string | null;
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
  waiting: r.waiting,
  failed: r.failed,
  handed: r.total - r.waiting - r.failed,
});

const SEGMENT_SELECT = `SELECT s.id, s.name, s.created_at, s.total,
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
  const addText = db.prepare<[string, number, number, string, string, string | null, string, string, string, string]>(
    `INSERT INTO patient_texts (id, created_at, updated_at, patient_name, phone, dob_verifier, body, sms_text, state, segment_id, patient_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'sending', ?, ?)`,
  );
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
    createSegment: (s, texts) =>
      db
        .transaction(() => {
          const now = clock.now();
          addSegment.run(s.id, s.templateId, s.name, now, texts.length);
          // One created_at for all: patient_texts' unsent() orders them by id within it.
          for (const t of texts)
            addText.run(t.id, now, now, t.patientName, t.phone, t.dobVerifier, t.body, t.smsText, s.id, t.patientId);
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
