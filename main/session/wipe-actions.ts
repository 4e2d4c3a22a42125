/**
 * Carrying out a wipe for IT (issue 15): the session-level steps once remote-wipe.ts (a signed
 * command) or the server (policy.wipeOnAccountDisabled) decided a profile must go — at unlock,
 * before anything is shown, or while the profile is running. The vault erases
 * (vault.wipeProfile: folder, keychain entries, device log); this file orders it with the lock.
 */
import { AppError } from '../../common/result';
import type { EventBus } from '../events';
import { errorName, type Logger } from '../log';
import type { Vault, WipeOrder } from '../vault/vault';
import type { SessionLifecycle } from './lifecycle';
import { closeServices, type OpenServices, type ServiceWiring } from './open-services';

const REMOTE_WIPE_TEXT: Record<WipeOrder['reason'], string> = {
  'admin-command':
    "Your clinic's IT erased this profile and its messages from this PC (remote wipe). If this is your computer and you did not expect it, contact IT before signing in again.",
  'account-disabled':
    "The clinic server no longer accepts this account, so this profile and its messages were erased from this PC, as your clinic's policy requires. Contact IT if you did not expect this.",
};

/**
 * Before anything is shown (issue 15): IT's remote wipe, sent while this PC was locked or offline,
 * or (policy.wipeOnAccountDisabled) a server that now refuses the account. Either: closes what
 * unlock opened, erases the profile and throws PROFILE_WIPED { by: 'admin', reason }.
 */
export async function remoteWipeAtUnlock(
  { wiring, vault, logger }: { wiring: ServiceWiring; vault: Vault; logger: Logger },
  open: OpenServices,
): Promise<void> {
  let wipe: WipeOrder | null;
  try {
    wipe = await wiring.checkAtUnlock(open);
  } catch (err) {
    // Not unlocked, so no lock will close what was opened: close it here (keys zero-filled).
    await closeServices(open, logger);
    throw err;
  }
  if (!wipe) return;
  await closeServices(open, logger);
  await vault.wipeProfile(open.active.profileId, wipe);
  throw new AppError('PROFILE_WIPED', REMOTE_WIPE_TEXT[wipe.reason], { by: 'admin', reason: wipe.reason });
}

/**
 * An unlock the vault refused because the server refused the account while the offline lease had
 * expired (issue 15 item 3): with policy.wipeOnAccountDisabled that is the disabled account's wipe
 * too (the profile could not be opened to check at unlock). Rethrows anything else unchanged.
 */
export async function wipeOnLeaseRefusal(
  { vault, wipeOnAccountDisabled }: { vault: Vault; wipeOnAccountDisabled: boolean },
  profileId: string,
  err: unknown,
): Promise<never> {
  if (!(err instanceof AppError) || err.code !== 'LEASE_EXPIRED' || err.details?.reason !== 'refused') throw err;
  if (!wipeOnAccountDisabled) throw err;
  await vault.wipeProfile(profileId, { reason: 'account-disabled', via: 'unlock' });
  throw new AppError('PROFILE_WIPED', REMOTE_WIPE_TEXT['account-disabled'], {
    by: 'admin',
    reason: 'account-disabled',
  });
}

/** A running profile erased for IT (open-services.ts onRemoteWipe): lock it if still open, erase it, tell the renderer. */
export function eraseWhileRunning(
  { life, vault, events, logger }: { life: SessionLifecycle; vault: Vault; events: EventBus; logger: Logger },
  profileId: string,
  order: WipeOrder,
): void {
  // A callback from messaging has no caller to report to: a failure is logged.
  void life
    .serial(async () => {
      const open = life.current()?.active.profileId === profileId;
      // A refusal counts only for the unlocked profile: not for a first sign-in with a mistyped
      // password (not unlocked yet), nor for a session that has locked since.
      if (order.reason === 'account-disabled' && !open) return;
      // Lock only if it is still this profile that is open (a switch of user may have come first).
      if (open) await life.lockNow('remote-wipe');
      await vault.wipeProfile(profileId, order);
      events.emit('session:wiped', { profileId });
    })
    .catch((err: unknown) => logger.error('remote wipe failed', { error: errorName(err) }));
}
