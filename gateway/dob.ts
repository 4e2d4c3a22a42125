/**
 * The date-of-birth verifier (issue 17 items 1 and 3): the desktop sends
 * `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` (salt 16 bytes, hash 32 bytes, both base64url) made from
 * the patient's DOB written as YYYY-MM-DD; the gateway stores only that. When the patient types
 * their DOB on the page, the gateway runs the same scrypt and compares in constant time, then
 * forgets the DOB. A DOB has few possible values, so the hash is slow on purpose: the default
 * N = 2^15, r = 8, p = 1 costs 32 MiB and ~50-100 ms per guess; verifiers below MIN are refused.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { normalizeDob } from '../common/dob';

export interface ScryptParams {
  logN: number;
  r: number;
  p: number;
}

export const DOB_SCRYPT: ScryptParams = { logN: 15, r: 8, p: 1 };
const MIN: ScryptParams = { logN: 15, r: 8, p: 1 };
/** Above this a verifier would let a sender make the gateway burn memory on every check. */
const MAX_LOG_N = 18;
const SALT_BYTES = 16;
const HASH_BYTES = 32;

export interface DobVerifier extends ScryptParams {
  salt: Buffer;
  hash: Buffer;
}

export { normalizeDob };

const b64u = /^[A-Za-z0-9_-]+$/;

/** Parses a verifier string; null when it is malformed or weaker than the minimum. */
export function parseDobVerifier(text: string): DobVerifier | null {
  const parts = text.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [logN = NaN, r = NaN, p = NaN] = parts.slice(1, 4).map((x) => (/^[0-9]{1,2}$/.test(x) ? Number(x) : NaN));
  if (!(logN >= MIN.logN && logN <= MAX_LOG_N && r >= MIN.r && r <= 16 && p >= MIN.p && p <= 4)) return null;
  if (!b64u.test(parts[4]!) || !b64u.test(parts[5]!)) return null;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const hash = Buffer.from(parts[5]!, 'base64url');
  if (salt.length !== SALT_BYTES || hash.length !== HASH_BYTES) return null;
  return { logN, r, p, salt, hash };
}

function scrypt(secret: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.logN;
  return new Promise((resolve, reject) =>
    scryptCb(secret, salt, HASH_BYTES, { N, r: params.r, p: params.p, maxmem: 256 * N * params.r }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** What the desktop does (and tests): a fresh salt per message. Throws on a DOB that is not a date. */
export async function makeDobVerifier(dob: string, params: ScryptParams = DOB_SCRYPT): Promise<string> {
  const normal = normalizeDob(dob);
  if (!normal) throw new Error('not a date of birth (YYYY-MM-DD)');
  const salt = randomBytes(SALT_BYTES);
  const hash = await scrypt(normal, salt, params);
  return ['scrypt', params.logN, params.r, params.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/** True when `dob` is the date the verifier was made from. A malformed DOB is simply not it. */
export async function checkDob(dob: string, verifier: DobVerifier): Promise<boolean> {
  const normal = normalizeDob(dob);
  if (!normal) return false;
  const hash = await scrypt(normal, verifier.salt, verifier);
  return timingSafeEqual(hash, verifier.hash);
}
