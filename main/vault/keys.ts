/**
 * The key hierarchy (ARCHITECTURE.md §4):
 *   passphrase ─Argon2id(salt, policy params)→ KEK ─┐
 *   keychain secret (32 B) ─────────────────────────┴─HKDF-SHA256→ wrapping key ─AES-256-GCM→ MK
 *   MK ─HKDF("db")→ SQLCipher key · MK ─HKDF("files")→ attachment key · MK ─HKDF("audit")→ audit MAC key
 * Every intermediate Buffer is zero-filled as soon as it is no longer needed.
 */
import { hashRaw, type Algorithm } from '@node-rs/argon2';
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const KEY_BYTES = 32;
export const SALT_BYTES = 16;
const IV_BYTES = 12; // NIST SP 800-38D §8.2: 96-bit IVs for GCM
/** Bumped when the wrapping scheme changes; bound into the AAD so old blobs cannot be replayed as new. */
const WRAP_VERSION = 1;
// @node-rs/argon2 declares Algorithm as a const enum, which isolatedModules cannot read: Argon2id = 2.
const ARGON2ID = 2 as Algorithm;

export interface KdfParams {
  memoryKiB: number;
  iterations: number;
  parallelism: number;
}

export interface WrappedKey {
  alg: 'A256GCM';
  version: number;
  iv: string; // base64
  ct: string; // base64
  tag: string; // base64
}

export interface VaultKeys {
  master: Buffer;
  db: Buffer;
  files: Buffer;
  audit: Buffer;
  /** The offline lease secret that opened MK (issue 15 item 3), held to recognise it at renewal. */
  lease?: Buffer;
}

/** Argon2id(passphrase) → 32-byte KEK. The passphrase is NFC-normalised so the same text typed on any OS unlocks. */
export async function deriveKek(passphrase: string, salt: Buffer, params: KdfParams): Promise<Buffer> {
  const pw = Buffer.from(passphrase.normalize('NFC'), 'utf8');
  try {
    return await hashRaw(pw, {
      algorithm: ARGON2ID,
      memoryCost: params.memoryKiB,
      timeCost: params.iterations,
      parallelism: params.parallelism,
      outputLen: KEY_BYTES,
      salt,
    });
  } finally {
    pw.fill(0);
  }
}

/** HKDF-SHA256(KEK ‖ device secret) → wrapping key (RFC 5869). Neither input alone is enough. */
export function deriveWrappingKey(kek: Buffer, deviceSecret: Buffer, salt: Buffer): Buffer {
  const ikm = Buffer.concat([kek, deviceSecret]);
  try {
    return Buffer.from(hkdfSync('sha256', ikm, salt, 'clinic-messenger/v1/wrap', KEY_BYTES));
  } finally {
    ikm.fill(0);
  }
}

const aad = (profileId: string, version: number) => Buffer.from(`clinic-messenger/mk|${profileId}|v${version}`, 'utf8');

export function wrapMasterKey(master: Buffer, wrappingKey: Buffer, profileId: string): WrappedKey {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', wrappingKey, iv);
  cipher.setAAD(aad(profileId, WRAP_VERSION));
  const ct = Buffer.concat([cipher.update(master), cipher.final()]);
  return {
    alg: 'A256GCM',
    version: WRAP_VERSION,
    iv: iv.toString('base64'),
    ct: ct.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
  };
}

/** The master key, or null when the tag does not verify (wrong passphrase, wrong device secret, or tampering). */
export function unwrapMasterKey(wrapped: WrappedKey, wrappingKey: Buffer, profileId: string): Buffer | null {
  if (wrapped.alg !== 'A256GCM' || wrapped.version !== WRAP_VERSION) return null;
  const decipher = createDecipheriv('aes-256-gcm', wrappingKey, Buffer.from(wrapped.iv, 'base64'));
  decipher.setAAD(aad(profileId, wrapped.version));
  decipher.setAuthTag(Buffer.from(wrapped.tag, 'base64'));
  const out = decipher.update(Buffer.from(wrapped.ct, 'base64'));
  try {
    const tail = decipher.final();
    const master = Buffer.concat([out, tail]);
    out.fill(0);
    if (master.length !== KEY_BYTES) {
      master.fill(0);
      return null;
    }
    return master;
  } catch {
    out.fill(0);
    return null;
  }
}

/** Domain-separated subkeys from MK (RFC 5869 info strings); the caller owns and zero-fills them. */
export function deriveSubkeys(master: Buffer): VaultKeys {
  const sub = (label: string) =>
    Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `clinic-messenger/v1/${label}`, KEY_BYTES));
  return { master, db: sub('db'), files: sub('files'), audit: sub('audit') };
}

/**
 * MAC keys for device-side records that must be checked BEFORE the passphrase is known (the
 * unlock counter gates the attempt itself), so they come from the keychain secret, not from MK.
 * Derived on use, never stored; one label per record so a MAC of one can never pass as another.
 */
export function deviceMacKey(secret: Buffer, label: 'unlock-state' | 'device-log'): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `clinic-messenger/v1/device/${label}`, KEY_BYTES));
}

export function zeroKeys(keys: VaultKeys): void {
  keys.master.fill(0);
  keys.db.fill(0);
  keys.files.fill(0);
  keys.audit.fill(0);
  keys.lease?.fill(0);
}

export const isAllZero = (b: Buffer): boolean => b.every((x) => x === 0);
