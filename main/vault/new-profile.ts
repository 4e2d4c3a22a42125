/**
 * A new profile on this PC (first sign-in): a fresh keychain secret and MK, profile.json, a zero
 * failure count and a device-log line — all of it, or nothing left behind. Split out of vault.ts
 * (issue 11): it is the one place that creates what every other vault operation reads, and the
 * order of its steps (keychain first, undo on any failure) is its own concern.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { AppError } from '../../common/result';
import { appendDeviceLog } from './device-log';
import type { VaultEnv } from './device-secret';
import { SECRET_BYTES } from './keychain';
import type { KdfParams } from './keys';
import { wrapUnderPassphrase } from './passphrase-wrap';
import { eraseProfileDir, listProfileIds, profileDir, readProfile, writeProfile, type ProfileRecord } from './profiles';
import { writeUnlockState } from './unlock-state';

/** CONFLICT when a readable profile for this JID (case-insensitive) is already on this PC. */
function assertNoProfileFor(userDataDir: string, jid: string): void {
  for (const id of listProfileIds(userDataDir)) {
    try {
      if (readProfile(userDataDir, id).jid.toLowerCase() === jid.toLowerCase()) {
        throw new AppError(
          'CONFLICT',
          'A profile for this account already exists on this PC. Unlock it, or remove it first.',
        );
      }
    } catch (err) {
      if (err instanceof AppError && err.code === 'CONFLICT') throw err;
    }
  }
}

/** Writes the new profile and returns its record and MK (the caller owns MK). The passphrase was checked by the caller. */
export async function writeNewProfile(
  env: VaultEnv,
  input: { jid: string; displayName: string; passphrase: string },
  params: KdfParams,
): Promise<{ record: ProfileRecord; master: Buffer }> {
  const { userDataDir, keychain, clock } = env;
  const { jid, displayName, passphrase } = input;
  assertNoProfileFor(userDataDir, jid);
  const id = randomUUID();
  const secret = randomBytes(SECRET_BYTES);
  try {
    // The keychain first: without it nothing is written to disk.
    await keychain.set(id, secret);
    const master = randomBytes(32);
    const record: ProfileRecord = {
      format: 1,
      id,
      displayName,
      jid: jid.toLowerCase(),
      createdAt: clock.now(),
      ...(await wrapUnderPassphrase(id, master, passphrase, secret, params)),
    };
    mkdirSync(profileDir(userDataDir, id), { recursive: true, mode: 0o700 });
    writeProfile(userDataDir, record);
    await writeUnlockState(userDataDir, keychain, id, secret, { failures: 0, lastAttemptAt: clock.now() }, 0);
    await appendDeviceLog(userDataDir, keychain, { at: clock.now(), event: 'profile-created', profileId: id });
    return { record, master };
  } catch (err) {
    eraseProfileDir(userDataDir, id);
    await keychain.delete(id).catch(() => false);
    throw err;
  } finally {
    secret.fill(0);
  }
}
