/**
 * A profile's device secret: the OS keychain entry that is the second half of its wrapping key
 * (ARCHITECTURE.md §4), so a profile folder copied to another PC opens nothing. Split out of
 * vault.ts (issue 11) because every vault operation asks the same questions of it — is it there,
 * may this PC open the profile, remove it with the folder — and they change with the keychain,
 * not with the unlock rules.
 */
import { AppError } from '../../common/result';
import type { Clock } from '../clock';
import type { Logger } from '../log';
import { appendDeviceLog } from './device-log';
import type { Keychain } from './keychain';
import { eraseProfileDir, readProfile } from './profiles';

/** What the vault's parts share: where profiles live, and the keychain, clock and log they use. */
export interface VaultEnv {
  userDataDir: string;
  keychain: Keychain;
  clock: Clock;
  logger: Logger;
}

/** The profile's keychain secret (the caller zero-fills it); KEYCHAIN_UNAVAILABLE or DEVICE_MISMATCH when there is none. */
export async function deviceSecret({ userDataDir, keychain, clock }: VaultEnv, id: string): Promise<Buffer> {
  const secret = await keychain.get(id);
  if (secret) return secret;
  const probe = await keychain.probe();
  if (!probe.available)
    throw new AppError('KEYCHAIN_UNAVAILABLE', probe.reason ?? 'The system keychain is not available.');
  await appendDeviceLog(userDataDir, keychain, { at: clock.now(), event: 'device-mismatch', profileId: id });
  throw new AppError(
    'DEVICE_MISMATCH',
    "This profile can't be opened on this device: its key is not in this computer's keychain (the folder was copied from another PC, or the keychain entry was removed). You can remove it from this PC and sign in again.",
    { profileId: id },
  );
}

/** Whether this PC could open the profile: a readable profile.json and a keychain secret. Throws KEYCHAIN_UNAVAILABLE. */
export async function canOpen({ userDataDir, keychain }: VaultEnv, id: string): Promise<boolean> {
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

/**
 * Erases the profile folder, then its keychain entry. Returns whether the entry was deleted: a
 * failed delete is logged with `warning`, not thrown — with the folder (wrapped MK, database)
 * gone, an orphaned device secret opens nothing.
 */
export async function eraseProfile(
  { userDataDir, keychain, logger }: VaultEnv,
  id: string,
  warning: string,
): Promise<boolean> {
  eraseProfileDir(userDataDir, id);
  try {
    return await keychain.delete(id);
  } catch (err) {
    logger.warn(warning, { profileId: id, code: err instanceof AppError ? err.code : 'unknown' });
    return false;
  }
}

/**
 * Why a profile is erased on IT's behalf (issue 15), as the device log records it: a signed
 * command (its nonce: a replay is recognised by it), or — policy.wipeOnAccountDisabled — the server
 * refusing an account that signed in on this PC before.
 */
export type WipeOrder =
  | { reason: 'admin-command'; nonce: string; signer: string; via: 'live' | 'archive' | 'unlock' }
  | { reason: 'account-disabled'; via: 'unlock' | 'live' };

/** Remote wipe (session/remote-wipe.ts decided it): the folder and keychain entries, then the device log. */
export async function eraseForIt(env: VaultEnv, id: string, order: WipeOrder): Promise<void> {
  const keychainDeleted = await eraseProfile(env, id, 'keychain entry could not be deleted during remote wipe');
  await appendDeviceLog(env.userDataDir, env.keychain, {
    at: env.clock.now(),
    event: 'profile-wiped',
    profileId: id,
    detail: { ...order, keychainDeleted },
  });
  env.logger.warn("profile erased on IT's behalf", { profileId: id, reason: order.reason });
}
