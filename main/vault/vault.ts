/**
 * Profiles and their keys (ARCHITECTURE.md §4): create, unlock (with a growing, persisted delay
 * and a wipe after the policy's maximum failures), change passphrase (re-wraps MK only), remove.
 * Returns VaultKeys to the session, which owns them and zero-fills them on lock.
 * This file is the vault's API and its one-at-a-time queue; the parts live beside it (issue 11):
 * device-secret.ts (the keychain entry), passphrase-wrap.ts (passphrase ⇄ wrapped MK),
 * unlock-attempt.ts (delay, failure count, wipe), new-profile.ts (first sign-in's files).
 */
import { join } from 'node:path';
import { AppError } from '../../common/result';
import type { Policy } from '../policy/schema';
import { appendDeviceLog } from './device-log';
import { canOpen, eraseForIt, eraseProfile, type VaultEnv, type WipeOrder } from './device-secret';
import { deriveSubkeys, type KdfParams, type VaultKeys } from './keys';
import { addLeaseLayer, unlockThroughLease, type LeaseFetcher, type LeaseLogin } from './lease';
import { writeNewProfile } from './new-profile';
import { rewrapMasterKey } from './passphrase-wrap';
import { assertPassphrase } from './passphrase';
import { DB_FILE, listProfileIds, profileDir, readProfile, writeProfile, type ProfileRecord } from './profiles';
import { verifyPassphrase, type VerifiedPassphrase } from './unlock-attempt';

export { unlockDelayMs } from './unlock-attempt';

export interface VaultOptions extends VaultEnv {
  policy: Policy;
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

export type { WipeOrder } from './device-secret';
export type { LeaseFetcher, LeaseLogin } from './lease';

export interface Vault {
  listProfiles(): Promise<ProfileSummary[]>;
  createProfile(input: { jid: string; displayName: string; passphrase: string }): Promise<OpenedProfile>;
  /**
   * With an offline lease layer (issue 15 item 3), MK opens only with a valid cached lease or,
   * after the passphrase was checked, the server's (`fetchLease`); else LEASE_EXPIRED. When the
   * policy no longer asks for a lease, the layer is taken off here.
   */
  unlock(profileId: string, passphrase: string, fetchLease?: LeaseFetcher): Promise<OpenedProfile>;
  /**
   * Puts the offline lease layer on an open profile that has none (the policy asks for a lease):
   * the expiry of the cached lease, or null when the profile already has a layer.
   */
  addLease(
    profileId: string,
    input: { passphrase: string; master: Buffer; lease: Buffer; login: LeaseLogin },
  ): Promise<number | null>;
  changePassphrase(profileId: string, current: string, next: string): Promise<void>;
  /**
   * Checks the passphrase of a profile that is open (showing the key-backup code): counted and
   * throttled exactly like an unlock attempt, but never wipes the open profile — when the count
   * reaches the maximum it throws WRONG_PASSPHRASE with `lockRequired`, the session locks, and
   * the next wrong unlock wipes. So the open session gives no extra guesses.
   */
  confirmPassphrase(profileId: string, passphrase: string): Promise<void>;
  /** The name on the chooser: first sign-in sets it to the clinic directory's (issue 12 §5). */
  renameProfile(profileId: string, displayName: string): Promise<void>;
  /**
   * 'user': a profile that this PC can still open needs its passphrase (a wrong one counts like a
   * failed unlock); one that cannot be opened (keychain entry gone, profile.json damaged) does
   * not. 'first-sign-in-failed': the session removing the half-made profile it just created.
   */
  removeProfile(profileId: string, reason: 'user' | 'first-sign-in-failed', passphrase?: string): Promise<void>;
  /**
   * Remote wipe (issue 15, session/remote-wipe.ts decided it): erases the profile folder and its
   * keychain entries without a passphrase, and records why in the device log, which outlives the
   * profile (a signed command's nonce: a replay is recognised there).
   */
  wipeProfile(profileId: string, order: WipeOrder): Promise<void>;
}

/** WEAK_PASSPHRASE unless the passphrase meets the policy and contains nothing from the account's own names. */
function assertNewPassphrase(policy: Policy, passphrase: string, owner: { jid: string; displayName: string }): void {
  assertPassphrase(passphrase, {
    minLength: policy.passphraseMinLength,
    personal: [owner.jid.split('@')[0] ?? '', owner.jid, owner.displayName],
  });
}

/**
 * Unlock after the passphrase was checked: re-wraps once when IT changed the policy's KDF cost
 * (while we hold the passphrase), then opens MK through the offline lease layer when there is one.
 */
async function afterPassphrase(
  env: VaultEnv,
  policy: Policy,
  { record, master }: VerifiedPassphrase,
  passphrase: string,
  fetchLease: LeaseFetcher | undefined,
): Promise<{ master: Buffer; lease?: Buffer }> {
  const want: KdfParams = { ...policy.argon2 };
  const k = record.kdf;
  if (k.memoryKiB !== want.memoryKiB || k.iterations !== want.iterations || k.parallelism !== want.parallelism) {
    try {
      await rewrapMasterKey(env, record, master, passphrase, want);
    } catch (err) {
      env.logger.warn('could not re-wrap the master key with new KDF parameters', {
        profileId: record.id,
        code: err instanceof AppError ? err.code : 'unknown',
      });
    }
  }
  const current = readProfile(env.userDataDir, record.id);
  if (!current.lease) return { master };
  return unlockThroughLease(env, policy.offlineLeaseHours, current, {
    pre: master,
    passphrase,
    fetch: fetchLease,
    params: want,
  });
}

export function createVault(opts: VaultOptions): Vault {
  const { userDataDir, policy, keychain, clock } = opts;
  const env: VaultEnv = opts;
  const kdfParams = (): KdfParams => ({ ...policy.argon2 });
  const verified = (id: string, passphrase: string, allowWipe: boolean) =>
    verifyPassphrase(env, policy.maxFailedUnlocks, id, passphrase, allowWipe);
  // One vault operation at a time, so two concurrent unlock attempts cannot both read the same failure count.
  let tail: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    // The queue only orders; each caller gets its own failure through `run`.
    tail = run.catch(() => undefined);
    return run;
  };

  const opened = (record: ProfileRecord, master: Buffer, failedBefore = 0, lease?: Buffer): OpenedProfile => {
    const dir = profileDir(userDataDir, record.id);
    const keys = deriveSubkeys(master);
    if (lease) keys.lease = lease;
    return { profile: record, keys, dir, dbFile: join(dir, DB_FILE), failedBefore };
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

    createProfile: (input) =>
      exclusive(async () => {
        assertNewPassphrase(policy, input.passphrase, input);
        const { record, master } = await writeNewProfile(env, input, kdfParams());
        return opened(record, master);
      }),

    unlock: (id, passphrase, fetchLease) =>
      exclusive(async () => {
        const checked = await verified(id, passphrase, true);
        const { master, lease } = await afterPassphrase(env, policy, checked, passphrase, fetchLease);
        return opened(readProfile(userDataDir, id), master, checked.failedBefore, lease);
      }),

    addLease: (id, input) =>
      exclusive(async () => {
        const record = readProfile(userDataDir, id);
        if (record.lease) return null;
        const hours = policy.offlineLeaseHours;
        return (await addLeaseLayer(env, record, { ...input, hours, params: kdfParams() })).expiresAt;
      }),

    changePassphrase: (id, current, next) =>
      exclusive(async () => {
        assertNewPassphrase(policy, next, readProfile(userDataDir, id));
        const { record, master } = await verified(id, current, false);
        try {
          await rewrapMasterKey(env, record, master, next, kdfParams());
        } finally {
          master.fill(0);
        }
      }),

    confirmPassphrase: (id, passphrase) =>
      exclusive(async () => {
        const { master } = await verified(id, passphrase, false);
        master.fill(0);
      }),

    renameProfile: (id, displayName) =>
      exclusive(() => {
        writeProfile(userDataDir, { ...readProfile(userDataDir, id), displayName });
        return Promise.resolve();
      }),

    removeProfile: (id, reason, passphrase) =>
      exclusive(async () => {
        if (reason === 'user' && (await canOpen(env, id))) {
          // Someone else at a shared PC must not erase a colleague's profile (and its unsent
          // messages) from the chooser: prove it is yours. KEYCHAIN_UNAVAILABLE propagates.
          if (!passphrase)
            throw new AppError('WRONG_PASSPHRASE', "Enter this profile's passphrase to remove it from this PC.", {
              passphraseRequired: true,
            });
          const { master } = await verified(id, passphrase, true);
          master.fill(0);
        }
        const keychainDeleted = await eraseProfile(env, id, 'keychain entry could not be deleted');
        await appendDeviceLog(userDataDir, keychain, {
          at: clock.now(),
          event: 'profile-removed',
          profileId: id,
          detail: { reason, keychainDeleted },
        });
      }),

    wipeProfile: (id, order) => exclusive(() => eraseForIt(env, id, order)),
  };
}
