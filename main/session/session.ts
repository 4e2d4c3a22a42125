/**
 * The session (ARCHITECTURE.md §4): unlock → open the encrypted store → audit log → messaging
 * (started in the background); lock → tell the renderer, stop messaging, close the store,
 * zero-fill every key (lock() resolves after the last step). Locks on inactivity, on demand,
 * on OS lock/suspend and on switch user.
 * This file turns the vault's profile operations into session ones; beside it (issue 11):
 * lifecycle.ts (the lock state, serial queue, idle timer, lock and unlock steps),
 * open-services.ts (opening and closing store, audit log and messaging for a profile),
 * first-sign-in.ts (a new profile's first connection, undone when it fails), remote-wipe.ts and
 * wipe-actions.ts (IT's wipe: the decision, and carrying it out live and at unlock) and
 * policy-snapshot.ts (a policy changed while locked).
 */
import type { ChannelOutput, ConnectionState } from '../../common/ipc-contract';
import { AppError } from '../../common/result';
import { createAuditLog } from '../audit';
import type { Clock } from '../clock';
import type { EventBus } from '../events';
import type { LoadedPolicy } from '../policy/load';
import type { Policy } from '../policy/schema';
import { openStore } from '../store';
import type { Logger } from '../log';
import { checkAdminCommands, createMessaging, fetchLeaseOnce } from '../xmpp';
import type { Keychain } from '../vault/keychain';
import type { VaultKeys } from '../vault/keys';
import { createVault, type OpenedProfile, type Vault } from '../vault/vault';
import { firstSignIn } from './first-sign-in';
import { leaseFetcher } from './offline-lease';
import { createLifecycle, type SessionLifecycle } from './lifecycle';
import { createServiceWiring, type ServiceWiring, type SessionServices } from './open-services';
import { auditPolicySinceLastUnlock } from './policy-snapshot';
import { eraseWhileRunning, remoteWipeAtUnlock, wipeOnLeaseRefusal } from './wipe-actions';
import { readSettings, writeSettings } from './settings';
import type { CreateProfileInput, Session } from './types';

export type { AccountSetting, SessionServices } from './open-services';

export interface SessionOptions {
  userDataDir: string;
  policy: LoadedPolicy;
  keychain: Keychain;
  clock: Clock;
  logger: Logger;
  events: EventBus;
  tls?: { ca?: string };
  /** Electron: the Electron-ABI SQLCipher addon (AppCoreOptions.sqliteNativeBinding). */
  sqliteNativeBinding?: string;
  services?: Partial<SessionServices>;
  /** Test hook: sees every key set the session holds, so a test can assert they are all zero after lock. */
  inspectKeys?: (keys: VaultKeys) => void;
}

const KEYCHAIN_PROBE_TTL_MS = 5_000;
const sessionServices = (given?: Partial<SessionServices>): SessionServices => ({
  openStore,
  createAuditLog,
  createMessaging,
  checkAdminCommands,
  fetchLease: fetchLeaseOnce,
  ...given,
});

/**
 * The vault's unlock with the offline lease (issue 15 item 3): an expired lease is fetched over a
 * short connection, and a server that refused the account then is its wipe under wipeOnAccountDisabled.
 */
function leaseUnlock(
  vault: Vault,
  o: { policy: Policy; services: SessionServices; tls?: { ca?: string }; logger: Logger },
): (profileId: string, passphrase: string) => Promise<OpenedProfile> {
  const { policy, logger } = o;
  const fetchLease = leaseFetcher({ fetch: o.services.fetchLease, caPems: [policy.trustedCaPem, o.tls?.ca], logger });
  const { wipeOnAccountDisabled } = policy;
  return (profileId, passphrase) =>
    vault
      .unlock(profileId, passphrase, fetchLease)
      .catch((err: unknown) => wipeOnLeaseRefusal({ vault, wipeOnAccountDisabled }, profileId, err));
}

/**
 * The steps after the vault opened a profile: the store, audit and messaging, the audit rows of
 * this unlock, IT's wipe if one waits, then the session is unlocked and messaging starts.
 */
async function unlockSteps(
  o: {
    wiring: ServiceWiring;
    vault: Vault;
    life: SessionLifecycle;
    logger: Logger;
    policy: Policy;
    policySource: LoadedPolicy['source'];
  },
  { profileId, passphrase }: { profileId: string; passphrase: string },
  opened: OpenedProfile,
): Promise<ChannelOutput<'vault:unlock'>> {
  const { wiring, vault, logger, policy } = o;
  const open = wiring.open(opened, null, passphrase);
  const rollback = await wiring.checkAuditRollback(open);
  if (opened.failedBefore > 0) open.active.audit.append('unlock-failed', { profileId, attempts: opened.failedBefore });
  open.active.audit.append('unlock', { profileId });
  auditPolicySinceLastUnlock(open.active.store, open.active.audit, policy, o.policySource);
  // Re-baseline at once, so the same rollback is reported once, not at every unlock.
  if (rollback) await open.mirror.flush();
  await remoteWipeAtUnlock({ wiring, vault, logger }, open);
  o.life.becomeUnlocked(open);
  // Unlock does not wait for the network: the UI shows the cache at once and the connection state as it changes.
  void open.active.messaging.start().catch((err: unknown) => {
    logger.warn('messaging start failed after unlock', { code: err instanceof AppError ? err.code : 'unknown' });
  });
  return rollback ? { profileId, auditRollback: rollback } : { profileId };
}

export function createSession(opts: SessionOptions): Session {
  const { userDataDir, keychain, clock, logger, events } = opts;
  const policy = opts.policy.policy;
  const vault: Vault = createVault({ userDataDir, policy, keychain, clock, logger });
  const life = createLifecycle({ policy, clock, logger, events });
  const { serial, requireOpen, lockNow, inSession } = life;
  const services = sessionServices(opts.services);
  const unlockVault = leaseUnlock(vault, { ...opts, policy, services });
  const wiring = createServiceWiring({
    ...opts,
    policy,
    services,
    addLease: (id, input) => vault.addLease(id, input),
    isCurrent: (keys) => life.current()?.keys === keys,
    onRemoteWipe: (profileId, order) => eraseWhileRunning({ life, vault, events, logger }, profileId, order),
  });
  let probe: { at: number; value: { available: boolean; reason: string | null } } | null = null;

  const session: Session = {
    isUnlocked: () => life.current() !== null,
    reportActivity: () => life.activity(),
    connection(): { state: ConnectionState; detail: string | null } {
      return life.current()?.active.messaging.connection() ?? { state: 'offline', detail: null };
    },
    active: () => requireOpen().active,

    async status() {
      if (!probe || clock.now() - probe.at > KEYCHAIN_PROBE_TTL_MS)
        probe = { at: clock.now(), value: await keychain.probe() };
      const profiles = await vault.listProfiles();
      const current = life.current();
      return {
        state: current ? 'unlocked' : profiles.length === 0 ? 'no-profiles' : 'locked',
        activeProfileId: current?.active.profileId ?? null,
        // No "N new messages while locked": messaging stops on lock and the server keeps what
        // arrives (MAM) until the next unlock, so there is nothing to count here.
        keychain: probe.value,
      };
    },

    async listProfiles() {
      return (await vault.listProfiles()).map((p) => ({ id: p.id, displayName: p.displayName, openable: p.openable }));
    },

    createProfile: (input: CreateProfileInput) =>
      serial(async () => {
        await lockNow('switch-user');
        probe = null;
        const open = await firstSignIn({ vault, wiring, logger, policySource: opts.policy.source, policy }, input);
        life.becomeUnlocked(open);
        return { profileId: open.active.profileId };
      }),

    unlock: (profileId, passphrase) =>
      serial(async () => {
        if (life.current()?.active.profileId === profileId) return { profileId };
        await lockNow('switch-user');
        const opened = await unlockVault(profileId, passphrase);
        const steps = { wiring, vault, life, logger, policy, policySource: opts.policy.source };
        return unlockSteps(steps, { profileId, passphrase }, opened);
      }),

    lock: (reason) => serial(() => lockNow(reason)),

    removeProfile: (profileId, passphrase) =>
      serial(async () => {
        if (life.current()?.active.profileId === profileId) {
          // Prove it first: a wrong passphrase must not lock the session as a side effect.
          if (!passphrase)
            throw new AppError('WRONG_PASSPHRASE', "Enter this profile's passphrase to remove it from this PC.", {
              passphraseRequired: true,
            });
          await inSession(() => vault.confirmPassphrase(profileId, passphrase));
          await lockNow('manual');
        }
        await vault.removeProfile(profileId, 'user', passphrase);
      }),

    changePassphrase: (currentPassphrase, next) =>
      serial(async () => {
        const open = requireOpen();
        await inSession(() => vault.changePassphrase(open.active.profileId, currentPassphrase, next));
        open.active.audit.append('passphrase-changed', { profileId: open.active.profileId });
      }),

    confirmPassphrase: (passphrase) =>
      serial(async () => {
        const open = requireOpen();
        await inSession(() => vault.confirmPassphrase(open.active.profileId, passphrase));
      }),

    settings: () => readSettings(requireOpen().active.store, policy),

    updateSettings(change) {
      const open = requireOpen();
      const next = writeSettings(open.active.store, policy, change);
      life.restartIdle(next.lockTimeoutMinutes);
      // Colleagues see the change at once when online; every connect sends it anyway (session-setup.ts).
      if (change.presence) open.active.messaging.setPresence(next.presence);
    },

    policyChanged: (change) => life.policyChanged(change, opts.policy.source),

    dispose: () => serial(() => lockNow('quit')),
  };
  return session;
}
