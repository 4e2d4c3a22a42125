/**
 * Texts to patients (issue 17 item 2): the list main keeps (newest first), updated by
 * 'patient:updated', and the send. PHI (names, numbers, text) lives here only while unlocked.
 */
import type { PatientText } from '../../../../common/contract/domain';
import type { ChannelInput } from '../../../../common/ipc-contract';
import { clinic } from '../clinic';
import { errorTextFor } from '../errors';
import { registerPhiReset } from '../phi';

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
    this.sending = true;
    this.error = null;
    try {
      const r = await clinic().patients.send(draft);
      if (r.ok) {
        this.apply(r.value);
        return r.value;
      }
      this.error = errorTextFor('patients', r.error);
      return null;
    } finally {
      this.sending = false;
    }
  }
}

export const patients = new PatientsState();
