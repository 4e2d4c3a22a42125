/**
 * The patient conversation open in the inbox (issue 17): the texts to one number and the patient's
 * replies, from patients:thread, kept current by 'patient:updated'; a new text from its composer
 * (patients:sendInThread). Replies seen while it is in view are marked read (patients:markRead).
 * PHI (names, numbers, text) lives here only while unlocked.
 */
import type { PatientText } from '../../../../common/contract/domain';
import { clinic } from '../clinic';
import { errorTextFor } from '../errors';
import { registerPhiReset } from '../phi';
import { sendPatientText } from './patient-send';

export const PATIENT_CONVERSATION_PREFIX = 'patient:';

/** The number a patient conversation id names, or null. */
export const phoneOf = (conversationId: string | null): string | null =>
  conversationId?.startsWith(PATIENT_CONVERSATION_PREFIX)
    ? conversationId.slice(PATIENT_CONVERSATION_PREFIX.length)
    : null;

const replyCount = (items: PatientText[]): number => items.reduce((n, t) => n + t.replies.length, 0);

class PatientThreadState {
  phone = $state<string | null>(null);
  items = $state<PatientText[]>([]);
  loaded = $state(false);
  error = $state<string | null>(null);
  sending = $state(false);
  private epoch = 0;

  constructor() {
    registerPhiReset(() => this.close());
  }

  close(): void {
    this.epoch += 1;
    this.phone = null;
    this.items = [];
    this.loaded = false;
    this.error = null;
  }

  async open(phone: string): Promise<void> {
    const epoch = ++this.epoch;
    this.phone = phone;
    this.items = [];
    this.loaded = false;
    this.error = null;
    const r = await clinic().patients.thread({ phone });
    if (epoch !== this.epoch) return;
    if (!r.ok) {
      this.error = errorTextFor('patients', r.error);
      return;
    }
    this.items = r.value;
    this.loaded = true;
  }

  /** A text changed (or a reply came); true when it brought a new reply to this conversation. */
  apply(t: PatientText): boolean {
    if (!this.loaded || t.phone !== this.phone) return false;
    const before = replyCount(this.items);
    const rest = this.items.filter((x) => x.id !== t.id);
    this.items = [...rest, t].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    return replyCount(this.items) > before;
  }

  /** The replies are on screen: the inbox row's unread count goes to 0. Best effort: never rejects. */
  async markRead(): Promise<void> {
    if (!this.phone) return;
    try {
      await clinic().patients.markRead({ phone: this.phone });
    } catch {
      // Best effort (a locked session, a closed window): the next open marks it read.
    }
  }

  /** A new text in this conversation; null when refused (the reason is in `error`). */
  async send(text: string, smsTemplate: string): Promise<PatientText | null> {
    const phone = this.phone;
    if (!phone) return null;
    return sendPatientText(this, () => clinic().patients.sendInThread({ phone, text, smsTemplate }));
  }
}

export const patientThread = new PatientThreadState();
