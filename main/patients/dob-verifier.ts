/**
 * The date-of-birth verifier the desktop hands the patient gateway (issue 17 item 2): scrypt of the
 * date written YYYY-MM-DD under a fresh 16-byte salt, as `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>`
 * (base64url). The gateway stores only this and checks what the patient types against it
 * (gateway/dob.ts, docs/protocol.md "Patient gateway"); the date itself never leaves the app.
 * A date of birth has few possible values, so the hash is slow on purpose (N = 2^15: 32 MiB).
 */
import { randomBytes, scrypt } from 'node:crypto';
import { normalizeDob } from '../../common/dob';
import { AppError } from '../../common/result';

const LOG_N = 15;
const R = 8;
const P = 1;
const SALT_BYTES = 16;
const HASH_BYTES = 32;

export { normalizeDob };

export async function makeDobVerifier(dob: string): Promise<string> {
  const normal = normalizeDob(dob);
  if (!normal) throw new AppError('BAD_INPUT', 'The date of birth must be a real date, written YYYY-MM-DD.');
  const salt = randomBytes(SALT_BYTES);
  const N = 2 ** LOG_N;
  const hash = await new Promise<Buffer>((resolve, reject) =>
    scrypt(normal, salt, HASH_BYTES, { N, r: R, p: P, maxmem: 256 * N * R }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
  return ['scrypt', LOG_N, R, P, salt.toString('base64url'), hash.toString('base64url')].join('$');
}
