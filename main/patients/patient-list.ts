/**
 * The clinic's patient list and text templates (issue 17 item 5), over the session's encrypted
 * store. An import checks the whole file first (common/patient-csv.ts); with refused rows it writes
 * nothing unless the person chose to import the other rows after seeing which were refused.
 * A template is checked when it is saved, new or edited: an unknown placeholder or PHI in its SMS
 * text is refused then, with every problem in words, by field. Audited with counts and ids only.
 */
import { randomUUID } from 'node:crypto';
import type { ListedPatient, PatientImport, PatientTemplate } from '../../common/contract/patient-lists';
import { parsePatientCsv } from '../../common/patient-csv';
import { checkTemplateFields, TEMPLATE_FIELDS } from '../../common/patient-template';
import { AppError } from '../../common/result';
import type { AuditLog } from '../audit';
import type { Clock } from '../clock';
import type { Store } from '../store';
import type { StoredTemplate } from '../store/repos/patient-lists';

export interface PatientList {
  importCsv(input: { csv: Uint8Array; skipRefused: boolean }): PatientImport;
  directory(): ListedPatient[];
  templates(): PatientTemplate[];
  saveTemplate(t: { id: string | null; name: string; body: string; smsText: string; quick: boolean }): PatientTemplate;
  deleteTemplate(id: string): void;
}

export interface PatientListDeps {
  store: Pick<Store, 'patientLists'>;
  audit: Pick<AuditLog, 'append'>;
  clock: Pick<Clock, 'now'>;
  /** The clinic's own words an SMS never carries. */
  blockedWords?: readonly string[];
}

const shownTemplate = (t: StoredTemplate): PatientTemplate => ({ ...t });

export function createPatientList(deps: PatientListDeps): PatientList {
  const { store, audit, clock } = deps;
  return {
    importCsv({ csv, skipRefused }) {
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(csv);
      } catch {
        throw new AppError('BAD_INPUT', 'The file is not text in UTF-8: save it from the spreadsheet as "CSV UTF-8".');
      }
      const today = new Date(clock.now()).toISOString().slice(0, 10);
      const parsed = parsePatientCsv(text, today);
      if (!parsed.ok) throw new AppError('BAD_INPUT', parsed.problem);
      const { patients, refused } = parsed;
      const result = { ready: patients.length, refused };
      if (patients.length === 0 || (refused.length > 0 && !skipRefused))
        return { imported: false, added: 0, updated: 0, ...result };
      const counts = store.patientLists.importPatients(
        patients.map(({ row: _row, ...p }) => ({ id: randomUUID(), ...p })),
      );
      audit.append('patient-text', {
        list: 'import',
        added: counts.added,
        updated: counts.updated,
        refused: refused.length,
      });
      return { imported: true, ...counts, ...result };
    },
    directory: () => store.patientLists.listPatients(),
    templates: () => store.patientLists.listTemplates().map(shownTemplate),
    saveTemplate(t) {
      const draft = { name: t.name.trim(), body: t.body.trim(), smsText: t.smsText.trim() };
      const editing = t.id !== null ? store.patientLists.getTemplate(t.id) : undefined;
      if (t.id !== null && !editing) throw new AppError('NOT_FOUND', 'That template no longer exists.');
      const problems = checkTemplateFields(draft, deps.blockedWords);
      const sameName = store.patientLists.templateByName(draft.name);
      if (sameName && sameName.id !== t.id) problems.name.push(`A template named “${draft.name}” exists already.`);
      const all = TEMPLATE_FIELDS.flatMap((f) => problems[f]);
      // Each field's words in details, so the form shows them beside the field they belong to.
      if (all.length > 0)
        throw new AppError(
          'BAD_INPUT',
          all.join(' '),
          Object.fromEntries(
            TEMPLATE_FIELDS.filter((f) => problems[f].length > 0).map((f) => [f, problems[f].join(' ')]),
          ),
        );
      const saved = store.patientLists.saveTemplate({ id: t.id ?? randomUUID(), ...draft, quick: t.quick });
      // Ids only: a template's text never goes into the audit.
      audit.append('patient-text', { template: saved.id, list: editing ? 'template-edited' : 'template-saved' });
      return shownTemplate(saved);
    },
    deleteTemplate(id) {
      if (!store.patientLists.getTemplate(id)) throw new AppError('NOT_FOUND', 'That template no longer exists.');
      // Segments already prepared keep their texts: each recipient's message was copied when it was made.
      store.patientLists.deleteTemplate(id);
      audit.append('patient-text', { template: id, list: 'template-deleted' });
    },
  };
}
