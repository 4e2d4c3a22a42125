/**
 * "Send to a segment" (issue 17 item 5): one template to many patients, each with their own text,
 * link secret and link. Three steps, each crash-safe:
 * 1. Record: every recipient is checked (number, SMS text with their name, a real DOB) and their
 *    message filled in; then the segment and one recipient row each are written in one transaction
 *    (migration 0017), before anything slow. A refusal names the patient and records nothing.
 * 2. Prepare: in batches, each recipient's DOB verifier (scrypt, slow on purpose) is made, one per
 *    core at once on libuv's pool; each batch's recipients become 'sending' texts in one transaction
 *    (the text's id is the recipient's id). Killed in the middle, the next connection prepares the
 *    recipients still recorded — each exactly once, since a recipient row and its text never both
 *    exist.
 * 3. Deliver: patient-texts.ts's, a few texts in flight at once, each under its row id as the
 *    gateway request id. After a crash the next connection sends the rows still 'sending' again
 *    under the same ids; the gateway answers a known id with its first answer, so nobody is texted
 *    twice and nobody is skipped.
 * Progress goes out as 'patient:segment' at most ten times a second per segment.
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { ChannelParsedInput } from '../../common/ipc-contract';
import type { PatientSegment } from '../../common/contract/patient-lists';
import { dateInWords, fillTemplate } from '../../common/patient-template';
import { AppError } from '../../common/result';
import { errorName } from '../log';
import { makeDobVerifier } from '../patients/dob-verifier';
import { inWindow, throttleByKey } from '../patients/segment-schedule';
import { checkPatientText } from '../patients/send-text';
import type { NewRecipient, SegmentRecipient } from '../store/repos/patient-lists';
import type { MessagingContext } from './context';

export type SegmentDraft = ChannelParsedInput<'patients:sendSegment'>;

export interface PatientSegments {
  send(draft: SegmentDraft): Promise<PatientSegment>;
  list(): PatientSegment[];
  /** A text changed: its segment's progress goes out when it belongs to one. */
  textChanged(textId: string): void;
  /** Prepares every recipient still recorded (after a crash: the rest), then hands them to delivery. */
  resume(): Promise<void>;
}

const LIST_LIMIT = 50;
/**
 * scrypt runs on libuv's pool (UV_THREADPOOL_SIZE, 4 by default), one core per verifier: one per
 * core at once, at most the pool's 4 (leaving none for file reads and writes is no faster). Measured
 * on 2 cores (24 verifiers, twice, load 5-6): one at a time 2.6 and 3.7/s, two 3.2 and 4.8/s, four
 * 2.3 and 3.3/s — each verifier's 32 MiB make more than the cores thrash.
 */
const PREPARE_AT_ONCE = Math.max(1, Math.min(availableParallelism(), 4));
/** Recipients prepared per stored batch. */
const PREPARE_BATCH = 64;
/** At most ten progress reports a second per segment. */
const PROGRESS_MS = 100;

type SegmentTemplate = { id: string; name: string; body: string; smsText: string };

/** Step 1's checks and fill for every recipient; throws (naming the patient) before anything is written. */
function recipientsOf(
  patients: readonly { id: string; firstName: string; lastName: string; phone: string; dob: string }[],
  template: SegmentTemplate,
  clinicName: string,
  date: string,
): NewRecipient[] {
  return patients.map((p) => {
    const fullName = `${p.firstName} ${p.lastName}`;
    let checked: ReturnType<typeof checkPatientText>;
    try {
      checked = checkPatientText({
        phone: p.phone,
        patientName: fullName,
        dob: p.dob,
        check: 'dob',
        smsTemplate: template.smsText,
      });
    } catch (err) {
      // Say whose text was refused (the SMS text names a patient, or a stored number is bad).
      if (err instanceof AppError) throw new AppError(err.code, `${fullName}: ${err.message}`, err.details);
      throw err;
    }
    const body = fillTemplate(template.body, {
      firstName: p.firstName,
      lastName: p.lastName,
      fullName,
      clinicName,
      date,
    });
    return {
      id: randomUUID(),
      patientId: p.id,
      patientName: fullName,
      phone: checked.phone,
      dob: p.dob,
      body,
      smsText: checked.smsText,
    };
  });
}

export function createPatientSegments(
  ctx: MessagingContext,
  texts: { requireArchive(): void; flush(): Promise<void> },
): PatientSegments {
  const { store, audit, events, clock, logger } = ctx.opts;
  const lists = store.patientLists;
  const progress = throttleByKey(clock, PROGRESS_MS, (id) => {
    try {
      const s = lists.segment(id);
      if (s) events.emit('patient:segment', s);
    } catch {
      // The store closed under a late report (the session ended): nothing to say any more.
    }
  });
  /** One preparation run at a time: a recipient's verifier is never made twice at once. */
  let running: Promise<void> = Promise.resolve();

  async function prepareBatch(batch: readonly SegmentRecipient[]): Promise<void> {
    const made: { id: string; dobVerifier: string }[] = [];
    await inWindow(batch, PREPARE_AT_ONCE, async (r) => {
      made.push({ id: r.id, dobVerifier: await makeDobVerifier(r.dob) });
      return 'next';
    });
    lists.prepared(made);
    for (const id of new Set(batch.map((r) => r.segmentId))) {
      const count = batch.filter((r) => r.segmentId === id).length;
      audit.append('patient-text', { segment: id, state: 'prepared', count });
      progress(id);
    }
  }

  function prepareAll(): Promise<void> {
    running = running.then(async () => {
      try {
        for (let batch = lists.unprepared(PREPARE_BATCH); batch.length > 0; batch = lists.unprepared(PREPARE_BATCH))
          await prepareBatch(batch);
      } catch (err) {
        // The store closed (the session ended) or a verifier failed: the rest waits for the next connection.
        logger.warn('segment texts not all prepared yet', { error: errorName(err) });
        return;
      }
      // flush never rejects: a text not handed over stays 'sending' for the next connection.
      await texts.flush();
    });
    return running;
  }

  function record(draft: SegmentDraft): PatientSegment {
    texts.requireArchive();
    const template = lists.getTemplate(draft.templateId);
    if (!template) throw new AppError('NOT_FOUND', 'The template no longer exists.');
    const ids = [...new Set(draft.patientIds)];
    const patients = lists.patientsById(ids);
    if (patients.length !== ids.length)
      throw new AppError(
        'NOT_FOUND',
        `${ids.length - patients.length} of the chosen patients are no longer in the list.`,
      );
    const recipients = recipientsOf(patients, template, draft.clinicName, dateInWords(clock.now()));
    const segment = { id: randomUUID(), name: template.name, templateId: template.id };
    lists.createSegment(segment, recipients);
    audit.append('patient-text', { segment: segment.id, state: 'recorded', total: recipients.length });
    const recorded = lists.segment(segment.id)!;
    events.emit('patient:segment', recorded);
    // prepareAll never rejects: what is not prepared waits for the next connection.
    void prepareAll();
    return recorded;
  }

  return {
    // A refusal is a rejection, as on every channel; nothing slow happens before the answer.
    send: (draft) => Promise.resolve().then(() => record(draft)),
    list: () => lists.segments(LIST_LIMIT),
    textChanged(textId) {
      const id = lists.segmentOf(textId);
      if (id) progress(id);
    },
    resume: prepareAll,
  };
}
