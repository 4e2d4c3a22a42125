/**
 * Texting a patient from the desktop (issue 17 item 2), one text end to end:
 *   the SMS template is checked for PHI (sms-text.ts) → the DOB becomes the gateway's verifier
 *   (dob-verifier.ts) → the text is encrypted to a fresh link secret and the clinic's archive key
 *   (crypto/patient-link.ts) → the gateway component gets the IQ (xmpp/patient-gateway.ts).
 * The archive key is the compliance key the policy pins (`complianceAccount` and
 * `complianceKeyFingerprint`, issue 15): without it nothing is sent, since the clinic must be able
 * to read what it sent a patient. The request id makes a retry after a lost answer safe: the
 * gateway answers it with the first answer and texts nobody twice.
 */
import type { PublicKey } from 'openpgp';
import { AppError } from '../../common/result';
import { encryptForPatient } from '../crypto/patient-link';
import {
  findPatientGateway,
  PatientGatewayRefused,
  sendPatientText,
  type IqCall,
  type PatientRefusal,
  type PatientTextSent,
} from '../xmpp/patient-gateway';
import { makeDobVerifier, normalizeDob } from './dob-verifier';
import { checkSmsText, describeSmsProblem } from '../../common/sms-text';

export interface PatientTextInput {
  /** The app's id for this text (stored with it before sending: a retry uses the same). */
  request: string;
  /** E.164, e.g. +15551230000. */
  phone: string;
  /** As the sender typed it: only used to keep it out of the SMS. */
  patientName: string;
  /** YYYY-MM-DD; not needed with check 'code'. */
  dob: string;
  /** The identity check on the patient page: the date of birth (default) or a one-time SMS code. */
  check?: 'dob' | 'code';
  text: string;
  smsTemplate: string;
  /** The clinic's own words an SMS never carries. */
  blockedWords?: readonly string[];
  expiresDays?: number;
}

export interface PatientTextDeps {
  iq: IqCall;
  /** The staff account's domain: the gateway is one of its components. */
  domain: string;
  archiveKey: PublicKey;
  /** The patient's reply is encrypted to these (binary public keys): the sender's own and the archive key. */
  replyKeys?: Uint8Array[];
  /** The injected clock's now, for openpgp. */
  now: () => Date;
  /** The gateway's address when the caller found it already (null: the server has none); else found here. */
  gateway?: string | null;
}

/** What the sender reads when the gateway says no. */
export const REFUSALS: Record<PatientRefusal, string> = {
  'opted-out': 'This number has opted out of texts from the clinic (the patient replied STOP).',
  'quiet-hours': 'The clinic does not text patients at this hour. Try again later.',
  'rate-limited': 'This number has had as many texts today as the clinic allows.',
  'bad-request': 'The patient gateway refused the text as malformed.',
  'sms-failed': 'The SMS provider did not take the text. Try again later.',
  forbidden: 'This account may not text patients.',
  'plain-sms-off': 'The patient gateway does not send plain SMS: IT has not allowed it there (plainSms.allowed).',
};

const E164 = /^\+[1-9][0-9]{6,14}$/;

export interface PreparedPatientText {
  phone: string;
  /** The checked SMS template. */
  smsText: string;
  /** null: the patient proves who they are with a one-time SMS code. */
  dobVerifier: string | null;
}

type PrepareInput = Pick<PatientTextInput, 'phone' | 'patientName' | 'dob' | 'check' | 'smsTemplate' | 'blockedWords'>;

/**
 * The quick checks (no DOB verifier yet): the number, the SMS text, that the DOB is a real date.
 * A segment runs them for every recipient before it is recorded.
 */
export function checkPatientText(input: PrepareInput): Omit<PreparedPatientText, 'dobVerifier'> {
  if (!E164.test(input.phone))
    throw new AppError('BAD_INPUT', 'The phone number must be in international form, e.g. +15551230000.');
  const sms = checkSmsText(input.smsTemplate, {
    patientName: input.patientName,
    ...(input.blockedWords ? { extraWords: input.blockedWords } : {}),
  });
  if (!sms.ok)
    throw new AppError('FORBIDDEN', sms.problems.map(describeSmsProblem).join(' '), {
      smsProblems: sms.problems.map((p) => p.kind).join(','),
    });
  if (input.check !== 'code' && !normalizeDob(input.dob))
    throw new AppError('BAD_INPUT', 'The date of birth must be a real date, written YYYY-MM-DD.');
  return { phone: input.phone, smsText: sms.text };
}

/** Everything that can be refused before anything is stored or sent: the number, the SMS text, the DOB. */
export async function preparePatientText(input: PrepareInput): Promise<PreparedPatientText> {
  const checked = checkPatientText(input);
  const dobVerifier = input.check === 'code' ? null : await makeDobVerifier(input.dob);
  return { ...checked, dobVerifier };
}

/**
 * Encrypts to a fresh link secret (a resend makes a new one: the gateway answers a repeated
 * request with its first answer, whose SMS carried the first secret) and hands the text over.
 */
export async function deliverPatientText(
  deps: PatientTextDeps,
  t: PreparedPatientText & { request: string; text: string; expiresDays?: number },
): Promise<PatientTextSent> {
  const sealed = await encryptForPatient(t.text, deps.archiveKey, deps.now());
  const gateway = deps.gateway !== undefined ? deps.gateway : await findPatientGateway(deps.iq, deps.domain);
  if (!gateway) throw new AppError('NOT_FOUND', 'The clinic server has no patient gateway.');
  try {
    return await sendPatientText(deps.iq, gateway, {
      request: t.request,
      phone: t.phone,
      dobVerifier: t.dobVerifier,
      sms: t.smsText,
      fragment: sealed.secret,
      ciphertext: sealed.ciphertext,
      ...(t.expiresDays !== undefined ? { expiresDays: t.expiresDays } : {}),
      ...(deps.replyKeys ? { replyKeys: deps.replyKeys } : {}),
    });
  } catch (err) {
    if (!(err instanceof PatientGatewayRefused)) throw err;
    const code = err.reason === 'forbidden' ? 'FORBIDDEN' : err.reason === 'rate-limited' ? 'THROTTLED' : 'CONFLICT';
    throw new AppError(code, err.reason ? REFUSALS[err.reason] : 'The patient gateway did not accept the text.', {
      refused: err.reason ?? err.condition ?? 'unknown',
    });
  }
}

export async function sendTextToPatient(deps: PatientTextDeps, input: PatientTextInput): Promise<PatientTextSent> {
  const prepared = await preparePatientText(input);
  return deliverPatientText(deps, {
    ...prepared,
    request: input.request,
    text: input.text,
    ...(input.expiresDays !== undefined ? { expiresDays: input.expiresDays } : {}),
  });
}
