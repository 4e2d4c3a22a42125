/**
 * Profiles and their keys (ARCHITECTURE.md §4): create, unlock (with a growing, persisted delay
 * and a wipe after the policy's maximum failures), change passphrase (re-wraps MK only), remove.
 * Returns VaultKeys to the session, which owns them and zero-fills them on lock.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../common/result';
import { backoffMs } from '../backoff';
import type { Clock } from '../clock';
import type { Logger } from '../log';
import type { Policy } from '../policy/schema';
import { appendDeviceLog } from './device-log';
import { SECRET_BYTES, type Keychain } from './keychain';
import { deriveKek, deriveSubkeys, deriveWrappingKey, SALT_BYTES, unwrapMasterKey, wrapMasterKey, type KdfParams, type VaultKeys } from './keys';
import { assertPassphrase } from './passphrase';
import { DB_FILE, eraseProfileDir, listProfileIds, profileDir, readProfile, writeProfile, type ProfileRecord } from './profiles';
import { readUnlockState, writeUnlockState } from './unlock-state';

export interface VaultOptions {
  userDataDir: string;
  policy: Policy;
  keychain: Keychain;
  clock: Clock;
  logger: Logger;
}

export interface OpenedProfile {
  profile: ProfileRecord;
  keys: VaultKeys;
  dir: string;
  dbFile: string;
  /** Wrong passphrases since the last successful unlock (for the audit log, which only opens now). */
  failedBefore: number;
}

export interface ProfileSummary {
  id: string;
  displayName: string;
  jid: string | null;
  /** False when this PC's keychain has no entry for it (copied folder) or profile.json is damaged. */
  openable: boolean;
}

export interface Vault {
  listProfiles(): Promise<ProfileSummary[]>;
  createProfile(input: { jid: string; displayName: string; passphrase: string }): Promise<OpenedProfile>;
  unlock(profileId: string, passphrase: string): Promise<OpenedProfile>;
  changePassphrase(profileId: string, current: string, next: string): Promise<void>;
  /**
   * Checks the passphrase of a profile that is open (showing the key-backup code): counted and
   * throttled exactly like an unlock attempt, but never wipes the open profile — when the count
   * reaches the maximum it throws WRONG_PASSPHRASE with `lockRequired`, the session locks, and
   * the next wrong unlock wipes. So the open session gives no extra guesses.
   */
  confirmPassphrase(profileId: string, passphrase: string): Promise<void>;
  /**
   * 'user': a profile that this PC can still open needs its passphrase (a wrong one counts like a
   * failed unlock); one that cannot be opened (keychain entry gone, profile.json damaged) does
   * not. 'first-sign-in-failed': the session removing the half-made profile it just created.
   */
  removeProfile(profileId: string, reason: 'user' | 'first-sign-in-failed', passphrase?: string): Promise<void>;
}

const MAX_DELAY_MS = 5 * 60_000;

/** Wait after `failures` consecutive wrong passphrases: none after the first, then 1 s, 2 s, 4 s … capped at 5 min. */
export function unlockDelayMs(failures: number): number {
  if (failures <= 1) return 0;
  return backoffMs(failures - 2, { baseMs: 1_000, maxMs: MAX_DELAY_MS });
}

export function createVault({ userDataDir, policy, keychain, clock, logger }: VaultOptions): Vault {
  const kdfParams = (): KdfParams => ({ ...policy.argon2 });
  const max = policy.maxFailedUnlocks;
  // One vault operation at a time, so two concurrent unlock attempts cannot both read the same failure count.
  let tail: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };

  async function deviceSecret(id: string): Promise<Buffer> {
    const secret = await keychain.get(id);
    if (secret) return secret;
    const probe = await keychain.probe();
    if (!probe.available) throw new AppError('KEYCHAIN_UNAVAILABLE', probe.reason ?? 'The system keychain is not available.');
    await appendDeviceLog(userDataDir, keychain, { at: clock.now(), event: 'device-mismatch', profileId: id });
    throw new AppError(
      'DEVICE_MISMATCH',
      "This profile can't be opened on this device: its key is not in this computer's keychain (the folder was copied from another PC, or the keychain entry was removed). You can remove it from this PC and sign in again.",
      { profileId: id },
    );
  }

  /** Wraps MK under a passphrase with a new salt and today's policy parameters; no data is re-encrypted. */
  async function rewrap(record: ProfileRecord, master: Buffer, passphrase: string): Promise<void> {
    const secret = await deviceSecret(record.id);
    try {
      const salt = randomBytes(SALT_BYTES);
      const params = kdfParams();
      const kek = await deriveKek(passphrase, salt, params);
      const wk = deriveWrappingKey(kek, secret, salt);
      kek.fill(0);
      const wrapped = wrapMasterKey(master, wk, record.id);
      wk.fill(0);
      writeProfile(userDataDir, { ...record, kdf: { alg: 'argon2id', salt: salt.toString('base64'), ...params }, wrappedMasterKey: wrapped });
    } finally {
      secret.fill(0);
    }
  }

  /** KDF + keychain secret → MK, or null when the tag does not verify. Zero-fills every intermediate. */
  async function openMasterKey(record: ProfileRecord, passphrase: string, secret: Buffer): Promise<Buffer | null> {
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

  async function wipe(id: string, failures: number): Promise<void> {
    eraseProfileDir(userDataDir, id);
    let keychainDeleted = false;
    try {
      keychainDeleted = await keychain.delete(id);
    } catch {
      // The folder (wrapped MK, database) is gone; an orphaned device secret opens nothing.
      logger.warn('keychain entry could not be deleted during wipe', { profileId: id });
    }
    await appendDeviceLog(userDataDir, keychain, { at: clock.now(), event: 'profile-wiped', profileId: id, detail: { reason: 'max-failed-unlocks', failures, keychainDeleted } });
    logger.warn('profile wiped after too many failed unlocks', { profileId: id, failures });
  }

  /** Throttle check, failure counting and wipe around one passphrase check. */
  async function verified(id: string, passphrase: string, allowWipe: boolean): Promise<{ record: ProfileRecord; master: Buffer; failedBefore: number }> {
    const record = readProfile(userDataDir, id);
    // The secret first: it keys the counter's MAC (unlock-state.ts). A copied folder stops here
    // (DEVICE_MISMATCH) without touching the counter.
    const secret = await deviceSecret(id);
    try {
      const state = await readUnlockState(userDataDir, keychain, id, secret);
      if (state.problem) {
        await appendDeviceLog(userDataDir, keychain, { at: clock.now(), event: 'unlock-state-rejected', profileId: id, detail: { reason: state.problem } });
        logger.warn('unlock state not trusted: counting it as one attempt short of the wipe', { profileId: id, reason: state.problem });
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
      const counted = await writeUnlockState(userDataDir, keychain, id, secret, { failures: failures + 1, lastAttemptAt: clock.now() }, state.generation);
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
        await wipe(id, now);
        throw new AppError('PROFILE_WIPED', `The passphrase was wrong ${now} times, so this profile was erased from this PC. Sign in again to create a new one.`, {
          profileId: id,
        });
      }
      if (now >= max) await writeUnlockState(userDataDir, keychain, id, secret, { failures: max - 1, lastAttemptAt: clock.now() }, counted);
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

  /** Whether this PC could open the profile: a readable profile.json and a keychain secret. Throws KEYCHAIN_UNAVAILABLE. */
  async function canOpen(id: string): Promise<boolean> {
    try {
      readProfile(userDataDir, id);
    } catch {
      return false;
    }
    try {
      const secret = await keychain.get(id);
      secret?.fill(0);
      return secret !== null;
    } catch (err) {
      // An entry of the wrong shape opens nothing either.
      if (err instanceof AppError && err.code === 'DEVICE_MISMATCH') return false;
      throw err;
    }
  }

  const opened = (record: ProfileRecord, master: Buffer, failedBefore = 0): OpenedProfile => {
    const dir = profileDir(userDataDir, record.id);
    return { profile: record, keys: deriveSubkeys(master), dir, dbFile: join(dir, DB_FILE), failedBefore };
  };

  return {
    async listProfiles() {
      const out: ProfileSummary[] = [];
      for (const id of listProfileIds(userDataDir)) {
        let record: ProfileRecord;
        try {
          record = readProfile(userDataDir, id);
        } catch {
          out.push({ id, displayName: 'Damaged profile', jid: null, openable: false });
          continue;
        }
        let openable = true;
        try {
          const secret = await keychain.get(id);
          openable = secret !== null;
          secret?.fill(0);
        } catch {
          // Keychain unavailable: vault:status says so; the profile itself may be fine.
        }
        out.push({ id, displayName: record.displayName, jid: record.jid, openable });
      }
      return out;
    },

    createProfile: ({ jid, displayName, passphrase }) =>
      exclusive(async () => {
        assertPassphrase(passphrase, { minLength: policy.passphraseMinLength, personal: [jid.split('@')[0] ?? '', jid, displayName] });
        for (const id of listProfileIds(userDataDir)) {
          try {
            if (readProfile(userDataDir, id).jid.toLowerCase() === jid.toLowerCase()) {
              throw new AppError('CONFLICT', 'A profile for this account already exists on this PC. Unlock it, or remove it first.');
            }
          } catch (err) {
            if (err instanceof AppError && err.code === 'CONFLICT') throw err;
          }
        }
        const id = randomUUID();
        const secret = randomBytes(SECRET_BYTES);
        try {
          // The keychain first: without it nothing is written to disk.
          await keychain.set(id, secret);
          const salt = randomBytes(SALT_BYTES);
          const params = kdfParams();
          const master = randomBytes(32);
          const kek = await deriveKek(passphrase, salt, params);
          const wk = deriveWrappingKey(kek, secret, salt);
          kek.fill(0);
          const record: ProfileRecord = {
            format: 1,
            id,
            displayName,
            jid: jid.toLowerCase(),
            createdAt: clock.now(),
            kdf: { alg: 'argon2id', salt: salt.toString('base64'), ...params },
            wrappedMasterKey: wrapMasterKey(master, wk, id),
          };
          wk.fill(0);
          mkdirSync(profileDir(userDataDir, id), { recursive: true, mode: 0o700 });
          writeProfile(userDataDir, record);
          await writeUnlockState(userDataDir, keychain, id, secret, { failures: 0, lastAttemptAt: clock.now() }, 0);
          await appendDeviceLog(userDataDir, keychain, { at: clock.now(), event: 'profile-created', profileId: id });
          return opened(record, master);
        } catch (err) {
          eraseProfileDir(userDataDir, id);
          await keychain.delete(id).catch(() => false);
          throw err;
        } finally {
          secret.fill(0);
        }
      }),

    unlock: (id, passphrase) =>
      exclusive(async () => {
        const { record, master, failedBefore } = await verified(id, passphrase, true);
        const want = kdfParams();
        const k = record.kdf;
        if (k.memoryKiB !== want.memoryKiB || k.iterations !== want.iterations || k.parallelism !== want.parallelism) {
          // IT changed the policy's KDF cost: re-wrap once now, while we hold the passphrase.
          try {
            await rewrap(record, master, passphrase);
          } catch (err) {
            logger.warn('could not re-wrap the master key with new KDF parameters', { profileId: id, code: err instanceof AppError ? err.code : 'unknown' });
          }
        }
        return opened(readProfile(userDataDir, id), master, failedBefore);
      }),

    changePassphrase: (id, current, next) =>
      exclusive(async () => {
        const before = readProfile(userDataDir, id);
        assertPassphrase(next, { minLength: policy.passphraseMinLength, personal: [before.jid.split('@')[0] ?? '', before.jid, before.displayName] });
        const { record, master } = await verified(id, current, false);
        try {
          await rewrap(record, master, next);
        } finally {
          master.fill(0);
        }
      }),

    confirmPassphrase: (id, passphrase) =>
      exclusive(async () => {
        const { master } = await verified(id, passphrase, false);
        master.fill(0);
      }),

    removeProfile: (id, reason, passphrase) =>
      exclusive(async () => {
        if (reason === 'user' && (await canOpen(id))) {
          // Someone else at a shared PC must not erase a colleague's profile (and its unsent
          // messages) from the chooser: prove it is yours. KEYCHAIN_UNAVAILABLE propagates.
          if (!passphrase) throw new AppError('WRONG_PASSPHRASE', "Enter this profile's passphrase to remove it from this PC.", { passphraseRequired: true });
          const { master } = await verified(id, passphrase, true);
          master.fill(0);
        }
        eraseProfileDir(userDataDir, id);
        let keychainDeleted = false;
        try {
          keychainDeleted = await keychain.delete(id);
        } catch (err) {
          logger.warn('keychain entry could not be deleted', { profileId: id, code: err instanceof AppError ? err.code : 'unknown' });
        }
        await appendDeviceLog(userDataDir, keychain, { at: clock.now(), event: 'profile-removed', profileId: id, detail: { reason, keychainDeleted } });
      }),
  };
}
