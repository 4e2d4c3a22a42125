/**
 * The clinic's patient list, text templates and segment sends (issue 17 item 5): what main keeps,
 * the last import's answer (which rows were refused and why), and each segment's progress from
 * 'patient:segment'. PHI (names, numbers, dates of birth) lives here only while unlocked.
 */
import type {
  ListedPatient,
  PatientImport,
  PatientSegment,
  PatientTemplate,
} from '../../../../common/contract/patient-lists';
import type { ChannelInput } from '../../../../common/ipc-contract';
import { TEMPLATE_FIELDS } from '../../../../common/patient-template';
import { clinic } from '../clinic';
import { errorTextFor } from '../errors';
import { registerPhiReset } from '../phi';

export type TemplateDraft = ChannelInput<'patients:saveTemplate'>;
export type TemplateFieldErrors = Partial<Record<(typeof TEMPLATE_FIELDS)[number], string>>;

/** main's per-field words for a refused template (details.name / body / smsText), when it gave them. */
function fieldErrors(details: Record<string, unknown> | undefined): TemplateFieldErrors {
  const out: TemplateFieldErrors = {};
  for (const f of TEMPLATE_FIELDS) if (typeof details?.[f] === 'string') out[f] = details[f];
  return out;
}

class PatientListsState {
  patients = $state.raw<ListedPatient[]>([]);
  templates = $state.raw<PatientTemplate[]>([]);
  segments = $state<PatientSegment[]>([]);
  /** The last import's answer, with its refused rows. */
  lastImport = $state<PatientImport | null>(null);
  importError = $state<string | null>(null);
  templateError = $state<string | null>(null);
  /** A refused save's problems by field (main's details), shown beside each field of the form. */
  templateFieldErrors = $state<TemplateFieldErrors>({});
  segmentError = $state<string | null>(null);
  busy = $state(false);

  constructor() {
    registerPhiReset(() => {
      this.patients = [];
      this.templates = [];
      this.segments = [];
      this.lastImport = null;
      this.importError = this.templateError = this.segmentError = null;
      this.templateFieldErrors = {};
    });
  }

  async load(): Promise<void> {
    const [p, t, s] = await Promise.all([
      clinic().patients.directory(),
      clinic().patients.templates(),
      clinic().patients.segments(),
    ]);
    if (p.ok) this.patients = p.value;
    if (t.ok) this.templates = t.value;
    if (s.ok) this.segments = s.value;
  }

  /** Checks the file; writes it when no row was refused or the person chose to skip the refused ones. */
  async importCsv(csv: Uint8Array<ArrayBuffer>, skipRefused: boolean): Promise<void> {
    this.busy = true;
    this.importError = null;
    try {
      const r = await clinic().patients.import({ csv, skipRefused });
      if (!r.ok) {
        this.lastImport = null;
        this.importError = errorTextFor('patients', r.error);
        return;
      }
      this.lastImport = r.value;
      if (r.value.imported) {
        const p = await clinic().patients.directory();
        if (p.ok) this.patients = p.value;
      }
    } finally {
      this.busy = false;
    }
  }

  async saveTemplate(t: TemplateDraft): Promise<PatientTemplate | null> {
    this.templateError = null;
    this.templateFieldErrors = {};
    const r = await clinic().patients.saveTemplate(t);
    if (!r.ok) {
      this.templateError = errorTextFor('patients', r.error);
      this.templateFieldErrors = fieldErrors(r.error.details);
      return null;
    }
    this.templates = [...this.templates.filter((x) => x.id !== r.value.id), r.value].sort((a, b) =>
      a.name.localeCompare(b.name),
    );
    return r.value;
  }

  async deleteTemplate(id: string): Promise<boolean> {
    this.templateError = null;
    const r = await clinic().patients.deleteTemplate({ id });
    if (r.ok) this.templates = this.templates.filter((x) => x.id !== id);
    else this.templateError = errorTextFor('patients', r.error);
    return r.ok;
  }

  clearTemplateErrors(): void {
    this.templateError = null;
    this.templateFieldErrors = {};
  }

  async sendSegment(templateId: string, patientIds: string[], clinicName: string): Promise<PatientSegment | null> {
    this.busy = true;
    this.segmentError = null;
    try {
      const r = await clinic().patients.sendSegment({ templateId, patientIds, clinicName });
      if (!r.ok) {
        this.segmentError = errorTextFor('patients', r.error);
        return null;
      }
      this.applySegment(r.value);
      return r.value;
    } finally {
      this.busy = false;
    }
  }

  applySegment(s: PatientSegment): void {
    const i = this.segments.findIndex((x) => x.id === s.id);
    if (i >= 0) this.segments[i] = s;
    else this.segments = [s, ...this.segments];
  }
}

export const patientLists = new PatientListsState();
