/**
 * Plain SMS on a patient's documented request (issue 17 item 4): the recorded requests, and the
 * answers of record / withdraw / send. Loaded only when the policy allows plain SMS.
 */
import type { PlainSmsRequest, PlainSmsSent } from '../../../../common/contract/patient-plain-sms';
import { clinic } from '../clinic';
import { errorTextFor } from '../errors';
import { registerPhiReset } from '../phi';

class PlainSmsState {
  requests = $state.raw<PlainSmsRequest[]>([]);
  error = $state<string | null>(null);
  busy = $state(false);

  constructor() {
    registerPhiReset(() => {
      this.requests = [];
      this.error = null;
    });
  }

  async load(): Promise<void> {
    const r = await clinic().patients.plainSmsRequests();
    if (r.ok) this.requests = r.value;
    else this.error = errorTextFor('patients', r.error);
  }

  async record(patientId: string, reference: string): Promise<boolean> {
    this.error = null;
    const r = await clinic().patients.recordPlainSmsRequest({ patientId, reference });
    if (!r.ok) {
      this.error = errorTextFor('patients', r.error);
      return false;
    }
    this.requests = [...this.requests.filter((x) => x.patientId !== patientId), r.value];
    return true;
  }

  async withdraw(patientId: string): Promise<void> {
    this.error = null;
    const r = await clinic().patients.withdrawPlainSmsRequest({ patientId });
    if (r.ok) this.requests = this.requests.filter((x) => x.patientId !== patientId);
    else this.error = errorTextFor('patients', r.error);
  }

  /** Only after the person confirmed the warning (warningConfirmed is sent as true). */
  async send(patientId: string, text: string): Promise<PlainSmsSent | null> {
    this.error = null;
    this.busy = true;
    try {
      const r = await clinic().patients.sendPlainSms({ patientId, text, warningConfirmed: true });
      if (!r.ok) {
        this.error = errorTextFor('patients', r.error);
        return null;
      }
      return r.value;
    } finally {
      this.busy = false;
    }
  }
}

export const plainSms = new PlainSmsState();
