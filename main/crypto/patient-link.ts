/**
 * A text for a patient (issue 17 item 2): one OpenPGP message encrypted to a fresh 128-bit link
 * secret (a password recipient: the patient's browser decrypts with the secret from the link's
 * fragment, gateway/page/page.js) and to the clinic's archive key (a public-key recipient: the
 * clinic keeps a copy it can read, the gateway cannot). The secret never goes into the store or a
 * log; the gateway gets it only to put it in the SMS (docs/protocol.md "Patient gateway").
 */
import { randomBytes } from 'node:crypto';
import * as openpgp from 'openpgp';
import type { PublicKey } from 'openpgp';

/** 16 random bytes, base64url: the 22 characters after '#' in the patient's link. */
export const LINK_SECRET_BYTES = 16;
/** The gateway refuses more than 256 KiB of ciphertext (base64). */
export const MAX_PATIENT_TEXT_CHARS = 20_000;

export interface PatientLinkMessage {
  secret: string;
  /** The binary OpenPGP message, base64. */
  ciphertext: string;
}

export async function encryptForPatient(text: string, archiveKey: PublicKey, date: Date): Promise<PatientLinkMessage> {
  if (text.length === 0 || text.length > MAX_PATIENT_TEXT_CHARS)
    throw new RangeError(`a patient text is 1..${MAX_PATIENT_TEXT_CHARS} characters`);
  const secret = randomBytes(LINK_SECRET_BYTES).toString('base64url');
  const message = await openpgp.createMessage({ text, date });
  const bytes = await openpgp.encrypt({
    message,
    passwords: [secret],
    encryptionKeys: archiveKey,
    date,
    format: 'binary',
  });
  return { secret, ciphertext: Buffer.from(bytes).toString('base64') };
}
