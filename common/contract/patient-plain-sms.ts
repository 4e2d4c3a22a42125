/**
 * Contract types for plain SMS on a patient's documented request (issue 17 item 4, their right of
 * access): the request recorded per patient of the imported list, and a plain send. Only offered
 * when the policy allows it (patientPlainSmsAllowed); main refuses otherwise.
 */
import { z } from 'zod';

/** A patient's recorded request to get their messages as plain SMS. */
export const plainSmsRequest = z.object({
  patientId: z.string(),
  /** Where the request is documented (e.g. "Signed form, scanned to the chart 2026-11-30"). */
  reference: z.string(),
  /** The staff account that recorded it. */
  recordedBy: z.string(),
  recordedAt: z.number().int(),
});
export type PlainSmsRequest = z.infer<typeof plainSmsRequest>;

export const plainSmsRequestDraft = z.object({
  patientId: z.string().min(1).max(64),
  reference: z.string().trim().min(3).max(300),
});

/** The longest plain SMS the app sends (the gateway has its own limit, plainSms.maxChars). */
export const MAX_PLAIN_SMS_CHARS = 918;

export const plainSmsDraft = z.object({
  patientId: z.string().min(1).max(64),
  text: z.string().trim().min(1).max(MAX_PLAIN_SMS_CHARS),
  /** The sender confirmed the warning that the text goes unencrypted. Anything else is refused. */
  warningConfirmed: z.literal(true),
});

export const plainSmsSent = z.object({
  /** The gateway's id for the text. */
  id: z.string(),
  state: z.string(),
});
export type PlainSmsSent = z.infer<typeof plainSmsSent>;
