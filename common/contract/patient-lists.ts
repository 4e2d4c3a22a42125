/**
 * Contract types for the clinic's patient list, text templates and segment sends (issue 17 item 5).
 * Kept apart from domain.ts: the channels and events import them from here.
 */
import { z } from 'zod';

const timestamp = z.number().int();

/** A patient from the imported list; PHI, shown only while unlocked. */
export const listedPatient = z.object({
  id: z.string(),
  firstName: z.string(),
  lastName: z.string(),
  phone: z.string(),
  dob: z.string(),
});
export type ListedPatient = z.infer<typeof listedPatient>;

/** What became of an import: `imported` false when refused rows stopped it (nothing was written). */
export const patientImport = z.object({
  imported: z.boolean(),
  /** Rows that passed every check. */
  ready: z.number().int().nonnegative(),
  added: z.number().int().nonnegative(),
  updated: z.number().int().nonnegative(),
  refused: z.array(z.object({ row: z.number().int().positive(), reason: z.string() })),
});
export type PatientImport = z.infer<typeof patientImport>;

export const patientTemplate = z.object({
  id: z.string(),
  name: z.string(),
  /** The message, with placeholders ({firstName} …) filled per patient at send time. */
  body: z.string(),
  /** The PHI-free SMS text with {link}. */
  smsText: z.string(),
  /** Offered as a one-tap text in the form. */
  quick: z.boolean(),
  updatedAt: timestamp,
});
export type PatientTemplate = z.infer<typeof patientTemplate>;

export const patientTemplateDraft = z.object({
  /** null: a new template. */
  id: z.string().max(64).nullable(),
  name: z.string().trim().min(1).max(100),
  body: z.string().max(8000),
  smsText: z.string().max(400),
  quick: z.boolean().default(false),
});

/**
 * A segment send's progress: preparing (recorded, its text not yet prepared), waiting (prepared and
 * stored, not yet taken by the gateway), handed over, failed.
 */
export const patientSegment = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: timestamp,
  total: z.number().int().nonnegative(),
  preparing: z.number().int().nonnegative(),
  waiting: z.number().int().nonnegative(),
  handed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
});
export type PatientSegment = z.infer<typeof patientSegment>;

export const MAX_SEGMENT_PATIENTS = 5000;

export const patientSegmentDraft = z.object({
  templateId: z.string().max(64),
  patientIds: z.array(z.string().max(64)).min(1).max(MAX_SEGMENT_PATIENTS),
  /** {clinicName} in the message. */
  clinicName: z.string().trim().min(1).max(100),
});
