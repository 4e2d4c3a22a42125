/**
 * The passphrase half of the key hierarchy (ARCHITECTURE.md §4): passphrase + keychain secret →
 * wrapping key → MK wrapped in profile.json, and back. Split out of vault.ts (issue 11) because
 * creating a profile, unlocking, re-wrapping after a policy KDF change and changing the
 * passphrase all run this one sequence; it changes with the key scheme, not with the unlock
 * rules. Every intermediate key is zero-filled here.
 */
import { randomBytes } from 'node:crypto';
import { deviceSecret, type VaultEnv } from './device-secret';
import { deriveKek, deriveWrappingKey, SALT_BYTES, unwrapMasterKey, wrapMasterKey, type KdfParams } from './keys';
import { writeProfile, type ProfileRecord } from './profiles';

/** MK wrapped under the passphrase with a new salt and the given KDF parameters: the two fields profile.json keeps. */
export async function wrapUnderPassphrase(
  id: string,
  master: Buffer,
  passphrase: string,
  secret: Buffer,
  params: KdfParams,
): Promise<Pick<ProfileRecord, 'kdf' | 'wrappedMasterKey'>> {
  const salt = randomBytes(SALT_BYTES);
  const kek = await deriveKek(passphrase, salt, params);
  const wk = deriveWrappingKey(kek, secret, salt);
  kek.fill(0);
  try {
    return {
      kdf: { alg: 'argon2id', salt: salt.toString('base64'), ...params },
      wrappedMasterKey: wrapMasterKey(master, wk, id),
    };
  } finally {
    wk.fill(0);
  }
}

/** KDF + keychain secret → MK, or null when the tag does not verify. */
export async function openMasterKey(record: ProfileRecord, passphrase: string, secret: Buffer): Promise<Buffer | null> {
  const salt = Buffer.from(record.kdf.salt, 'base64');
  const kek = await deriveKek(passphrase, salt, record.kdf);
  const wk = deriveWrappingKey(kek, secret, salt);
  kek.fill(0);
  try {
    return unwrapMasterKey(record.wrappedMasterKey, wk, record.id);
  } finally {
    wk.fill(0);
  }
}

/** Wraps MK under a passphrase with a new salt and today's policy parameters; no data is re-encrypted. */
export async function rewrapMasterKey(
  env: VaultEnv,
  record: ProfileRecord,
  master: Buffer,
  passphrase: string,
  params: KdfParams,
): Promise<void> {
  const secret = await deviceSecret(env, record.id);
  try {
    writeProfile(env.userDataDir, {
      ...record,
      ...(await wrapUnderPassphrase(record.id, master, passphrase, secret, params)),
    });
  } finally {
    secret.fill(0);
  }
}
