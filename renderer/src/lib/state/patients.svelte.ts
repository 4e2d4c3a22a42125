/**
 * Texts to patients (issue 17 item 2): the list main keeps (newest first), updated by
 * 'patient:updated', and the send. PHI (names, numbers, text) lives here only while unlocked.
 */
import type { PatientText } from '../../../../common/contract/domain';
import type { ChannelInput } from '../../../../common/ipc-contract';
import { clinic } from '../clinic';
import { errorTextFor } from '../errors';
import { registerPhiReset } from '../phi';
import { sendPatientText } from './patient-send';

export type PatientTextDraft = ChannelInput<'patients:send'>;

export const DEFAULT_SMS_TEMPLATE = 'Your clinic sent you a secure message: {link}';

class PatientsState {
  items = $state<PatientText[]>([]);
  error = $state<string | null>(null);
  sending = $state(false);

  constructor() {
    registerPhiReset(() => {
      this.items = [];
      this.error = null;
    });
  }

  async load(): Promise<void> {
    const r = await clinic().patients.list();
    if (r.ok) this.items = r.value;
    else this.error = errorTextFor('patients', r.error);
  }

  apply(t: PatientText): void {
    const i = this.items.findIndex((x) => x.id === t.id);
    if (i >= 0) this.items[i] = t;
    else this.items = [t, ...this.items];
  }

  /** The stored text (in whatever state the gateway left it), or null: the error is in `error`. */
  async send(draft: PatientTextDraft): Promise<PatientText | null> {
    return sendPatientText(this, () => clinic().patients.send(draft));
  }
}

export const patients = new PatientsState();
