/**
 * What an unlocked profile has open, and how it is opened and closed: store → audit log (with
 * its keychain mirror) → messaging, torn down in the reverse order with every key zero-filled.
 * Split out of session.ts (issue 11): this is the service wiring, which changes when a service
 * is added or needs another dependency; when the session opens or closes it is lifecycle.ts.
 */
import { dirname } from 'node:path';
import type { ServerConfig } from '../../common/ipc-contract';
import { AppError } from '../../common/result';
import { createFileStore, type FileStore } from '../attachments/file-store';
import { createOpenedCopies } from '../attachments/opened-copies';
import { createAuditLog, type AuditLog } from '../audit';
import type { Clock } from '../clock';
import type { EventBus } from '../events';
import { errorName, type Logger } from '../log';
import { remoteWipeEnabled, type Policy } from '../policy/schema';
import { openStore, type Store } from '../store';
import { checkAdminCommands, createMessaging, fetchLeaseOnce, type Messaging, type MessagingOptions } from '../xmpp';
import { appendDeviceLog } from '../vault/device-log';
import type { Keychain } from '../vault/keychain';
import { zeroKeys, type VaultKeys } from '../vault/keys';
import type { OpenedProfile, Vault, WipeOrder } from '../vault/vault';
import { createAuditMirror, type AuditMirror, type AuditRollback } from './audit-mirror';
import { createLeaseRenewal, type LeaseRenewal } from './offline-lease';
import { createRemoteWipe, type RemoteWipe } from './remote-wipe';
import { messagingHooks, type NotificationGate } from './notifications';
import type { Retention } from './retention';
import { readSettings } from './settings';
import type { ActiveSession } from './types';

/** The XMPP account as kept inside the encrypted database (never in profile.json). */
export interface AccountSetting {
  jid: string;
  password: string;
  server: ServerConfig;
}

/** The services a session opens; tests may substitute createMessaging when no server is involved. */
export interface SessionServices {
  openStore: typeof openStore;
  createAuditLog: typeof createAuditLog;
  createMessaging: typeof createMessaging;
  checkAdminCommands: typeof checkAdminCommands;
  /** The unlock's short connection for an expired offline lease (issue 15 item 3). */
  fetchLease: typeof fetchLeaseOnce;
}

/** An unlocked profile: what handlers see (active), the keys to zero-fill, and the session's own helpers. */
export interface OpenServices {
  active: ActiveSession;
  keys: VaultKeys;
  mirror: AuditMirror;
  /** Decides on admin commands for this profile (live, catch-up, the unlock check). */
  remoteWipe: RemoteWipe;
  retention?: Retention;
  /** The profile's encrypted attachment files (issue 16): <profile>/attachments/, under the files subkey. */
  files?: FileStore;
}

export interface ServiceWiringOptions {
  userDataDir: string;
  policy: Policy;
  keychain: Keychain;
  clock: Clock;
  logger: Logger;
  events: EventBus;
  tls?: { ca?: string };
  sqliteNativeBinding?: string;
  services: SessionServices;
  inspectKeys?: (keys: VaultKeys) => void;
  /** Whether these keys are the unlocked profile's: false once 'session:locked' was emitted. */
  isCurrent: (keys: VaultKeys) => boolean;
  /**
   * A running profile must be erased for IT (remote-wipe.ts accepted a command, or the server
   * refused the account under policy.wipeOnAccountDisabled): the session locks and erases it.
   */
  onRemoteWipe: (profileId: string, order: WipeOrder) => void;
  /** The vault's addLease: an open profile gets the offline lease layer at its first connection. */
  addLease: Vault['addLease'];
}

export interface ServiceWiring {
  /**
   * Store → audit → messaging for an opened profile (messaging not started). Zero-fills the keys if
   * any step fails. `passphrase`: the one just checked, kept only until a policy that asks for an
   * offline lease has put the layer on (offline-lease.ts).
   */
  open(opened: OpenedProfile, account: AccountSetting | null, passphrase?: string): OpenServices;
  /**
   * At unlock: does the database still hold the newest audit row this PC mirrored? A rollback is
   * appended to the chain as its own event and to the device log (outside the profile folder,
   * so rolling the database back again does not erase the record). Never blocks the unlock.
   */
  checkAuditRollback(open: OpenServices): Promise<AuditRollback | null>;
  /**
   * At unlock, before anything is shown (issue 15): when remote wipe is on, asks the server for
   * pending admin commands over a short connection of its own (xmpp/admin-check.ts) and decides
   * on each; with policy.wipeOnAccountDisabled, a server that now refuses the account (SASL
   * failure) is a wipe too. The wipe to carry out, or null. An unreachable server is no refusal:
   * it is audited and the unlock goes on.
   */
  checkAtUnlock(open: OpenServices): Promise<WipeOrder | null>;
}

/**
 * The profile's encrypted attachment files (issue 16), beside its database. The files subkey is
 * zero-filled at lock (zeroKeys), after messaging stopped its transfers.
 */
const profileFiles = (opened: OpenedProfile): FileStore =>
  createFileStore({ profileDir: dirname(opened.dbFile), filesKey: opened.keys.files });

/**
 * Copies of files opened in another app (issue 16 §5), in the profile folder. What a crash left
 * there is removed before the session opens; what this session writes goes at closeServices.
 */
function openedCopiesOf(opened: OpenedProfile, logger: Logger) {
  const copies = createOpenedCopies(dirname(opened.dbFile));
  removeCopies(copies, logger);
  return copies;
}

function removeCopies(copies: { clear(): void } | undefined, logger: Logger): void {
  try {
    copies?.clear();
  } catch (err) {
    // Windows: still open in another app. Tried again at the next lock and unlock.
    logger.warn('copies opened in another app not removed', { error: errorName(err) });
  }
}

/** Tears down without the lock bookkeeping (audit, event): used by lock and by a failed first sign-in. */
export async function closeServices(open: OpenServices, logger: Logger): Promise<void> {
  open.mirror.stop();
  // A purge under way finishes (and is audited) before the store and audit log close.
  await open.retention?.stop();
  try {
    await open.active.messaging.stop();
  } catch (err) {
    logger.warn('messaging stop failed during lock', { error: errorName(err) });
  }
  try {
    await open.active.store.close();
  } catch (err) {
    logger.warn('store close failed during lock', { error: errorName(err) });
  }
  open.active.audit.close();
  removeCopies(open.active.opened, logger);
  zeroKeys(open.keys);
}

/** A profile's remote-wipe decisions (remote-wipe.ts) and the messaging hooks that feed them. */
function remoteWipeFor(
  opts: ServiceWiringOptions,
  audit: AuditLog,
  { id, createdAt }: { id: string; createdAt: number },
  account: AccountSetting,
): Pick<Required<MessagingOptions>, 'onAdminCommand' | 'onAccountRefused'> & { remoteWipe: RemoteWipe } {
  const { policy, clock, logger, userDataDir } = opts;
  const profile = { id, jid: account.jid, createdAt };
  const remoteWipe = createRemoteWipe({ policy, clock, logger, audit, userDataDir, profile });
  const onAdminCommand: NonNullable<MessagingOptions['onAdminCommand']> = (found, via) => {
    // handle() never rejects; the session's wipe runs in its own queue (not awaited here: it
    // stops this very messaging service, which may be delivering the command).
    void remoteWipe.handle(found, via).then((o) => {
      if (o?.accepted) opts.onRemoteWipe(profile.id, { reason: 'admin-command', ...o.wipe });
    });
  };
  let confirming = false;
  const onAccountRefused = () => {
    if (!policy.wipeOnAccountDisabled || confirming) return;
    confirming = true;
    // Nothing is erased on one refusal of the messaging connection: a sign-in of its own (the
    // unlock check's short connection) must be refused too. A loaded client once saw a false
    // not-authorized on a reconnect (the load benchmark); a profile is not worth that risk.
    // confirmRefusal never rejects.
    void confirmRefusal(opts, audit, account).then((refused) => {
      confirming = false;
      if (!refused) {
        logger.warn('the server refused this account once; a second sign-in was not refused: not erasing', {
          profileId: id,
        });
        return;
      }
      logger.warn('the server refused this account: erasing the profile (wipeOnAccountDisabled)', { profileId: id });
      opts.onRemoteWipe(profile.id, { reason: 'account-disabled', via: 'live' });
    });
  };
  return { remoteWipe, onAdminCommand, onAccountRefused };
}

/** The offline lease's renewal for an opened profile (offline-lease.ts). */
function leaseFor(
  opts: ServiceWiringOptions,
  o: {
    audit: AuditLog;
    keys: VaultKeys;
    profile: OpenedProfile['profile'];
    account: AccountSetting;
    passphrase?: string;
  },
): LeaseRenewal {
  const { policy, userDataDir, keychain, clock, logger } = opts;
  return createLeaseRenewal({
    policy,
    env: { userDataDir, keychain, clock, logger },
    audit: o.audit,
    profileId: o.profile.id,
    account: o.account,
    keys: o.keys,
    // Only while the layer is still to be put on.
    passphrase: policy.offlineLeaseHours > 0 && !o.profile.lease ? (o.passphrase ?? null) : null,
    addLease: opts.addLease,
  });
}

/** A live refusal of the account, asked again on a connection of its own: true only if refused again. */
async function confirmRefusal(opts: ServiceWiringOptions, audit: AuditLog, account: AccountSetting): Promise<boolean> {
  const result = await opts.services.checkAdminCommands({
    account,
    caPems: [opts.policy.trustedCaPem, opts.tls?.ca],
    adminAccount: null,
    logger: opts.logger,
  });
  const refused = !result.reached && result.refused;
  try {
    audit.append(
      'admin-check',
      result.reached ? { reached: true, commands: 0 } : { reached: false, code: result.code, refused },
    );
  } catch (err) {
    // The session locked while the second sign-in ran (its audit log is closed, its profile shut):
    // nothing is erased from here; the next unlock's own check decides (checkAtUnlock). Seen as an
    // unhandled rejection in a loaded run of remote-wipe.test.ts, whose refusals go on until it locks.
    opts.logger.info('account check finished after the session locked: the next unlock checks again', {
      error: errorName(err),
    });
    return false;
  }
  return refused;
}

/**
 * The account's server with the further addresses IT lists in the policy's pre-set server for the
 * account's domain (ServerConfig.alternates, issue 19 item 3): a node IT adds to the cluster is
 * used from the next unlock, without anyone signing in again. Not stored: the policy stays the source.
 */
export function withPolicyAddresses(account: AccountSetting, policy: Pick<Policy, 'server'>): AccountSetting {
  const preset = policy.server;
  const domain = account.jid.slice(account.jid.indexOf('@') + 1).toLowerCase();
  if (!preset?.alternates?.length || preset.domain.toLowerCase() !== domain) return account;
  return { ...account, server: { ...account.server, alternates: preset.alternates } };
}

/** ServiceWiring.checkAtUnlock. */
async function checkAtUnlock(opts: ServiceWiringOptions, open: OpenServices): Promise<WipeOrder | null> {
  const { policy, services, logger } = opts;
  const { adminAccount, wipeOnAccountDisabled } = policy;
  const commands = remoteWipeEnabled(policy);
  if (!commands && !wipeOnAccountDisabled) return null;
  const stored = open.active.store.getSetting<AccountSetting>('account');
  if (!stored) return null; // open() refuses a profile without one
  const account = withPolicyAddresses(stored, policy);
  const result = await services.checkAdminCommands({
    account,
    caPems: [policy.trustedCaPem, opts.tls?.ca],
    adminAccount: commands ? adminAccount : null,
    logger,
  });
  const { audit } = open.active;
  if (!result.reached) {
    // Only the server saying no to the account (SASL) is a refusal; a network failure never is.
    const { refused } = result;
    audit.append('admin-check', { reached: false, code: result.code, refused });
    return refused && wipeOnAccountDisabled ? { reason: 'account-disabled', via: 'unlock' } : null;
  }
  audit.append('admin-check', { reached: true, commands: result.commands.length });
  for (const found of result.commands) {
    const outcome = await open.remoteWipe.handle(found, 'unlock');
    if (outcome?.accepted) return { reason: 'admin-command', ...outcome.wipe };
  }
  return null;
}

/**
 * Locked once 'session:locked' is emitted (the lifecycle clears its state first), and for good
 * once another unlock opened other keys: a message still being decrypted then shows nothing (issue 12).
 */
const gateFor =
  (opts: Pick<ServiceWiringOptions, 'isCurrent' | 'policy'>, keys: VaultKeys, store: Store) => (): NotificationGate => {
    if (!opts.isCurrent(keys)) return { locked: true, userPreview: null };
    try {
      const s = readSettings(store, opts.policy);
      const muted = new Set(s.mutedConversations);
      return {
        locked: false,
        userPreview: s.notificationPreview,
        dnd: s.presence.show === 'dnd' || s.presence.show === 'patient',
        muted: (id) => muted.has(id),
        sound: s.sound,
      };
    } catch {
      return { locked: false, userPreview: 'none' }; // settings unreadable: show the least
    }
  };

export function createServiceWiring(opts: ServiceWiringOptions): ServiceWiring {
  const { userDataDir, policy, keychain, clock, logger, events, services } = opts;

  return {
    open(opened, account, passphrase) {
      const { keys, profile } = opened;
      opts.inspectKeys?.(keys);
      let store: Store | null = null;
      try {
        store = services.openStore({
          file: opened.dbFile,
          key: keys.db,
          logger,
          nativeBinding: opts.sqliteNativeBinding,
          clock,
        });
        if (account) store.setSetting('account', account);
        const kept = store.getSetting<AccountSetting>('account');
        if (!kept)
          throw new AppError('STORE_CORRUPT', 'This profile has no account settings. Remove it and sign in again.');
        const acct = withPolicyAddresses(kept, opts.policy);
        const mirror = createAuditMirror({ keychain, profileId: profile.id, store, clock, logger });
        const log = services.createAuditLog({ store, key: keys.audit, clock });
        // Every append (messaging's included) tells the mirror the chain moved; it writes lazily.
        const audit: AuditLog = {
          ...log,
          append(type, detail) {
            log.append(type, detail);
            mirror.touch();
          },
        };
        const openedStore = store;
        const { remoteWipe, ...wipeHooks } = remoteWipeFor(opts, audit, profile, acct);
        const lease = leaseFor(opts, { audit, keys, profile, account: acct, passphrase });
        const files = profileFiles(opened);
        const messaging: Messaging = services.createMessaging({
          account: acct,
          store,
          audit,
          events,
          logger,
          policy,
          clock,
          tls: opts.tls,
          workstationId: profile.id,
          files,
          ...messagingHooks(gateFor(opts, keys, store), { policy, store, events }),
          // Sent on every connect, so the person's choice survives lock, unlock and restart (issue 12 §7).
          ownPresence: () => readSettings(openedStore, policy).presence,
          ...wipeHooks,
          onConnected: (conn) => lease.onConnected(conn),
        });
        return {
          keys,
          mirror,
          remoteWipe,
          files,
          active: {
            profileId: profile.id,
            jid: profile.jid,
            displayName: profile.displayName,
            store,
            audit,
            messaging,
            opened: openedCopiesOf(opened, logger),
          },
        };
      } catch (err) {
        const s = store;
        // The open failed and that error is the one to report; a close failure on top adds nothing.
        if (s) void s.close().catch(() => undefined);
        zeroKeys(keys);
        throw err;
      }
    },

    async checkAuditRollback(open) {
      let rollback: AuditRollback | null;
      try {
        rollback = await open.mirror.check();
      } catch (err) {
        logger.warn('audit head mirror could not be read', { code: err instanceof AppError ? err.code : 'unknown' });
        return null;
      }
      if (!rollback) return null;
      const { profileId } = open.active;
      logger.warn('audit log rolled back: the database is older than this PC last saw', { profileId, ...rollback });
      open.active.audit.append('audit-rollback', { profileId, ...rollback });
      await appendDeviceLog(userDataDir, keychain, {
        at: clock.now(),
        event: 'audit-rollback',
        profileId,
        detail: { ...rollback },
      });
      return rollback;
    },

    checkAtUnlock: (open) => checkAtUnlock(opts, open),
  };
}
