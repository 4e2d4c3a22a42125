/**
 * Patient conversations in the inbox (issue 17: "staff write from the same inbox"; the patient's
 * reply "arrives in that staff member's inbox"): one number's texts and replies as an inbox row
 * (main/store/repos/patient-conversations.ts), read in the conversation, marked read there, and a
 * new text written from its composer. The new text goes the same way as one from the Patients
 * screen (patient-texts.ts: the SMS text checker, the archive key, the gateway's refusals), to the
 * same number and name with the identity check of the newest text: its DOB verifier is reused, so
 * the date of birth is not asked again, and is still never stored. A reply notifies like a message
 * (the session's decision, MessagingOptions.onPatientReply), unless its conversation is the one in
 * view (conversations:view): then it is read at once, with no notification. PHI is never logged.
 */
import type { PatientText } from '../../common/contract/domain';
import type { ChannelParsedInput } from '../../common/ipc-contract';
import { AppError } from '../../common/result';
import { preparePatientText, type PreparedPatientText } from '../patients/send-text';
import { patientConversationId } from '../store/repos/patient-conversations';
import type { StoredPatientText } from '../store/repos/patient-texts';
import type { MessagingContext } from './context';

export type PatientThreadDraft = ChannelParsedInput<'patients:sendInThread'>;

export interface PatientConversations {
  /** The texts to this number, oldest first. NOT_FOUND: it is no patient conversation. */
  thread(phone: string): PatientText[];
  /** Its replies are seen: the inbox row's unread count goes to 0. */
  markRead(phone: string): void;
  /** A new text in the conversation (patients:sendInThread). */
  send(draft: PatientThreadDraft): Promise<PatientText>;
  /** A reply was stored: the inbox row changed (patient-texts.ts emits it) and the session may notify. */
  replied(t: StoredPatientText, body: string): void;
}

/** What patient-texts.ts offers: a text already checked, stored and handed to the gateway. */
export type SendPrepared = (t: {
  patientName: string;
  prepared: PreparedPatientText;
  body: string;
}) => Promise<PatientText>;

/**
 * What a patient's reply does once stored: nothing more while locked (it waits, unread); in the
 * conversation the person is looking at (conversations:view, as a chat message in view), it is
 * read at once and raises no notification; otherwise it notifies (the session's decision).
 */
export function replyOutcome(r: { locked: boolean; inView: boolean }): 'quiet' | 'read' | 'notify' {
  if (r.locked) return 'quiet';
  return r.inView ? 'read' : 'notify';
}

const shown = ({ dobVerifier: _v, linkId: _l, ...t }: StoredPatientText): PatientText => t;

export function createPatientConversations(
  ctx: MessagingContext,
  deps: { sendPrepared: SendPrepared; requireArchive: () => void },
): PatientConversations {
  const { store } = ctx.opts;

  const existing = (phone: string) => {
    if (!store.patientConversations.summary(phone)) throw new AppError('NOT_FOUND', 'No such patient conversation.');
  };

  return {
    thread(phone) {
      existing(phone);
      return store.patientConversations.thread(phone).map(shown);
    },
    markRead(phone) {
      existing(phone);
      if (store.patientConversations.markRead(phone) > 0) ctx.emitConversation(patientConversationId(phone));
    },
    async send({ phone, text, smsTemplate }) {
      existing(phone);
      deps.requireArchive();
      const latest = store.patientConversations.latest(phone);
      const prev = latest ? store.patientTexts.get(latest.id) : undefined;
      if (!prev) throw new AppError('NOT_FOUND', 'No such patient conversation.');
      // The number and the SMS text are checked as for any text (the check 'code' here only skips
      // making a new DOB verifier: the newest text's is kept, with its check).
      const checked = await preparePatientText({
        phone: prev.phone,
        patientName: prev.patientName,
        dob: '',
        check: 'code',
        smsTemplate,
      });
      return deps.sendPrepared({
        patientName: prev.patientName,
        prepared: { ...checked, dobVerifier: prev.dobVerifier },
        body: text,
      });
    },
    replied(t, body) {
      const conversationId = patientConversationId(t.phone);
      const outcome = replyOutcome({ locked: ctx.opts.locked?.() === true, inView: ctx.inView(conversationId) });
      if (outcome === 'read' && store.patientConversations.markRead(t.phone) > 0) ctx.emitConversation(conversationId);
      if (outcome === 'notify') ctx.opts.onPatientReply?.({ conversationId, patientName: t.patientName, body });
    },
  };
}
