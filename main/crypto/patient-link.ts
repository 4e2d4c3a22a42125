/**
 * A text for a patient (issue 17 item 2): one OpenPGP message encrypted to a fresh 128-bit link
 * secret (a password recipient: the patient's browser decrypts with the secret from the link's
 * fragment, gateway/page/page.js) and to the clinic's archive key (a public-key recipient: the
 * clinic keeps a copy it can read, the gateway cannot). The secret never goes into the store or a
 * log; the gateway gets it only to put it in the SMS (docs/protocol.md "Patient gateway").
 *
 * The password recipient's key derivation (S2K) is iterated and salted with the smallest count
 * (1,024 bytes hashed), not openpgp's default for people's passwords (65 MB, ~30 ms here and
 * ~0.2 s in a phone's browser). Stretching slows down guessing a password chosen by a person; the
 * link secret is 128 random bits, which no number of guesses reaches, so the default would only
 * make every segment send and every patient's tap through slower. The key backup, which a person's
 * passphrase protects, keeps the default (key-backup.ts).
 */
import { randomBytes } from 'node:crypto';
import * as openpgp from 'openpgp';
import type { PublicKey } from 'openpgp';

/** 16 random bytes, base64url: the 22 characters after '#' in the patient's link. */
export const LINK_SECRET_BYTES = 16;
/** OpenPGP's coded S2K count: 0 is (16 + 0) << 6 = 1,024 bytes hashed (RFC 9580 §3.7.1.3). */
export const LINK_S2K_COUNT_BYTE = 0;
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
    config: { s2kType: openpgp.enums.s2k.iterated, s2kIterationCountByte: LINK_S2K_COUNT_BYTE },
  });
  return { secret, ciphertext: Buffer.from(bytes).toString('base64') };
}
