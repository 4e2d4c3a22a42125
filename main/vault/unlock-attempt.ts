/**
 * One passphrase attempt against a profile (ARCHITECTURE.md §4): the growing delay, the failure
 * count persisted before the KDF runs (unlock-state.ts), and the wipe at the policy's maximum.
 * Split out of vault.ts (issue 11) because unlock, change passphrase, confirm passphrase and
 * remove profile all go through this one gate, and its rules change with the security policy,
 * not with what each operation does after it.
 */
import { AppError } from '../../common/result';
import { backoffMs } from '../backoff';
import { appendDeviceLog } from './device-log';
import { deviceSecret, eraseProfile, type VaultEnv } from './device-secret';
import { openMasterKey } from './passphrase-wrap';
import { readProfile, type ProfileRecord } from './profiles';
import { readUnlockState, writeUnlockState } from './unlock-state';

const MAX_DELAY_MS = 5 * 60_000;

/** Wait after `failures` consecutive wrong passphrases: none after the first, then 1 s, 2 s, 4 s … capped at 5 min. */
export function unlockDelayMs(failures: number): number {
  if (failures <= 1) return 0;
  return backoffMs(failures - 2, { baseMs: 1_000, maxMs: MAX_DELAY_MS });
}

export interface VerifiedPassphrase {
  record: ProfileRecord;
  /** The caller owns it and zero-fills it. */
  master: Buffer;
  /** Wrong passphrases before this one. */
  failedBefore: number;
}

async function wipe(env: VaultEnv, id: string, failures: number): Promise<void> {
  const keychainDeleted = await eraseProfile(env, id, 'keychain entry could not be deleted during wipe');
  await appendDeviceLog(env.userDataDir, env.keychain, {
    at: env.clock.now(),
    event: 'profile-wiped',
    profileId: id,
    detail: { reason: 'max-failed-unlocks', failures, keychainDeleted },
  });
  env.logger.warn('profile wiped after too many failed unlocks', { profileId: id, failures });
}

/**
 * Throttle check, failure counting and wipe around one passphrase check. `max`: the policy's
 * maxFailedUnlocks. `allowWipe` false: the profile is open (changePassphrase, confirmPassphrase)
 * and is never wiped under the store — at the maximum it throws with `lockRequired` instead.
 */
export async function verifyPassphrase(
  env: VaultEnv,
  max: number,
  id: string,
  passphrase: string,
  allowWipe: boolean,
): Promise<VerifiedPassphrase> {
  const { userDataDir, keychain, clock, logger } = env;
  const record = readProfile(userDataDir, id);
  // The secret first: it keys the counter's MAC (unlock-state.ts). A copied folder stops here
  // (DEVICE_MISMATCH) without touching the counter.
  const secret = await deviceSecret(env, id);
  try {
    const state = await readUnlockState(userDataDir, keychain, id, secret);
    if (state.problem) {
      await appendDeviceLog(userDataDir, keychain, {
        at: clock.now(),
        event: 'unlock-state-rejected',
        profileId: id,
        detail: { reason: state.problem },
      });
      logger.warn('unlock state not trusted: counting it as one attempt short of the wipe', {
        profileId: id,
        reason: state.problem,
      });
    }
    const failures = Math.min(state.failures, max - 1);
    const waitMs = state.lastAttemptAt + unlockDelayMs(failures) - clock.now();
    if (waitMs > 0) {
      throw new AppError('THROTTLED', `Too many wrong passphrases. Try again in ${Math.ceil(waitMs / 1000)} s.`, {
        retryAfterMs: waitMs,
        failures,
        remaining: max - failures,
      });
    }
    // Count the attempt before the KDF runs: killing the app mid-attempt must not reset the counter.
    const counted = await writeUnlockState(
      userDataDir,
      keychain,
      id,
      secret,
      { failures: failures + 1, lastAttemptAt: clock.now() },
      state.generation,
    );
    const master = await openMasterKey(record, passphrase, secret);
    if (master) {
      try {
        await writeUnlockState(userDataDir, keychain, id, secret, { failures: 0, lastAttemptAt: clock.now() }, counted);
      } catch (err) {
        master.fill(0);
        throw err;
      }
      return { record, master, failedBefore: failures };
    }
    const now = failures + 1;
    // An open profile (changePassphrase, confirmPassphrase) is never wiped under the store: the
    // session locks instead and the next wrong unlock attempt wipes.
    if (now >= max && allowWipe) {
      await wipe(env, id, now);
      throw new AppError(
        'PROFILE_WIPED',
        `The passphrase was wrong ${now} times, so this profile was erased from this PC. Sign in again to create a new one.`,
        {
          profileId: id,
        },
      );
    }
    if (now >= max)
      await writeUnlockState(
        userDataDir,
        keychain,
        id,
        secret,
        { failures: max - 1, lastAttemptAt: clock.now() },
        counted,
      );
    const shown = Math.min(now, max - 1);
    throw new AppError('WRONG_PASSPHRASE', 'That passphrase is not correct.', {
      failures: shown,
      remaining: max - shown,
      retryAfterMs: unlockDelayMs(shown),
      ...(now >= max ? { lockRequired: true } : {}),
    });
  } finally {
    secret.fill(0);
  }
}
