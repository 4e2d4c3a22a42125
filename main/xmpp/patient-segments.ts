/**
 * "Send to a segment" (issue 17 item 5): one template to many patients, each with their own text,
 * link secret and link. Every recipient's text (message filled in for them, checked SMS text, DOB
 * verifier) is prepared first, then all are written in one transaction with the segment, before
 * the first goes to the gateway. Delivery is patient-texts.ts's: stored rows still 'sending' go in
 * order, each under its row id as the gateway request id. After a crash — whether a text was
 * handed over and its answer lost, or never handed over — the next connection sends the rows still
 * 'sending' again under the same ids; the gateway answers a known id with its first answer, so
 * nobody is texted twice and nobody is skipped. Progress goes out as 'patient:segment'.
 */
import { randomUUID } from 'node:crypto';
import type { ChannelParsedInput } from '../../common/ipc-contract';
import type { PatientSegment } from '../../common/contract/patient-lists';
import { dateInWords, fillTemplate } from '../../common/patient-template';
import { AppError } from '../../common/result';
import { preparePatientText } from '../patients/send-text';
import type { MessagingContext } from './context';

export type SegmentDraft = ChannelParsedInput<'patients:sendSegment'>;

export interface PatientSegments {
  send(draft: SegmentDraft): Promise<PatientSegment>;
  list(): PatientSegment[];
  /** A text changed: its segment's progress goes out when it belongs to one. */
  textChanged(textId: string): void;
}

const LIST_LIMIT = 50;
/** scrypt runs on libuv's pool (4 threads by default): more at once only queues. */
const PREPARE_AT_ONCE = 4;

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export function createPatientSegments(
  ctx: MessagingContext,
  texts: { requireArchive(): void; flush(): Promise<void> },
): PatientSegments {
  const { store, audit, events, clock } = ctx.opts;
  const lists = store.patientLists;

  return {
    async send(draft) {
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
      const date = dateInWords(clock.now());
      const prepared = await mapLimited(patients, PREPARE_AT_ONCE, async (p) => {
        const fullName = `${p.firstName} ${p.lastName}`;
        const t = await preparePatientText({
          phone: p.phone,
          patientName: fullName,
          dob: p.dob,
          check: 'dob',
          smsTemplate: template.smsText,
        }).catch((err: unknown) => {
          // Say whose text was refused (the SMS text names a patient, or a stored number is bad).
          if (err instanceof AppError) throw new AppError(err.code, `${fullName}: ${err.message}`, err.details);
          throw err;
        });
        const body = fillTemplate(template.body, {
          firstName: p.firstName,
          lastName: p.lastName,
          fullName,
          clinicName: draft.clinicName,
          date,
        });
        return { id: randomUUID(), patientId: p.id, patientName: fullName, body, ...t };
      });
      const segment = { id: randomUUID(), name: template.name, templateId: template.id };
      lists.createSegment(
        segment,
        prepared.map((t) => ({ ...t, smsText: t.smsText })),
      );
      audit.append('patient-text', { segment: segment.id, state: 'sending', total: prepared.length });
      const progress = lists.segment(segment.id)!;
      events.emit('patient:segment', progress);
      // flush never rejects: a text not handed over stays 'sending' for the next connection.
      void texts.flush();
      return progress;
    },
    list: () => lists.segments(LIST_LIMIT),
    textChanged(textId) {
      const id = lists.segmentOf(textId);
      const progress = id ? lists.segment(id) : undefined;
      if (progress) events.emit('patient:segment', progress);
    },
  };
}
