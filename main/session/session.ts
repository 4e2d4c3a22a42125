/**
 * The session (ARCHITECTURE.md §4): unlock → open the encrypted store → audit log → messaging
 * (started in the background); lock → tell the renderer, stop messaging, close the store,
 * zero-fill every key (lock() resolves after the last step). Locks on inactivity, on demand,
 * on OS lock/suspend and on switch user.
 */
import type { ConnectionState, LockReason, ServerConfig } from '../../common/ipc-contract';
import { AppError } from '../../common/result';
import { createAuditLog, type AuditLog } from '../audit';
import type { Clock } from '../clock';
import type { EventBus } from '../events';
import { errorName, type Logger } from '../log';
import type { LoadedPolicy } from '../policy/load';
import { openStore, type Store } from '../store';
import { createMessaging, type Messaging } from '../xmpp';
import type { Keychain } from '../vault/keychain';
import { zeroKeys, type VaultKeys } from '../vault/keys';
import { createVault, type OpenedProfile, type Vault } from '../vault/vault';
import { appendDeviceLog } from '../vault/device-log';
import { createAuditMirror, type AuditMirror, type AuditRollback } from './audit-mirror';
import { createIdleTimer } from './idle';
import { startRetention, type Retention } from './retention';
import type { NotificationGate } from './notifications';
import { readSettings, writeSettings } from './settings';
import type { ActiveSession, CreateProfileInput, Session } from './types';

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
}

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

interface Open {
  active: ActiveSession;
  keys: VaultKeys;
  mirror: AuditMirror;
  retention?: Retention;
}

const KEYCHAIN_PROBE_TTL_MS = 5_000;

export function createSession(opts: SessionOptions): Session {
  const { userDataDir, keychain, clock, logger, events } = opts;
  const policy = opts.policy.policy;
  const services: SessionServices = { openStore, createAuditLog, createMessaging, ...opts.services };
  const vault: Vault = createVault({ userDataDir, policy, keychain, clock, logger });
  let current: Open | null = null;
  let probe: { at: number; value: { available: boolean; reason: string | null } } | null = null;

  // Vault and lifecycle operations run one at a time: a lock that arrives during an unlock runs right after it.
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };

  const idle = createIdleTimer(clock, () => {
    void session.lock('idle').catch((err: unknown) => logger.error('idle lock failed', { error: errorName(err) }));
  });

  const requireOpen = (): Open => {
    if (!current) throw new AppError('LOCKED', 'The session is locked.');
    return current;
  };

  /**
   * Locked once 'session:locked' is emitted (current is cleared first), and for good once another
   * unlock opened other keys: a message still being decrypted then shows nothing (issue 12).
   */
  const gateFor = (keys: VaultKeys, store: Store) => (): NotificationGate => {
    if (current?.keys !== keys) return { locked: true, userPreview: null };
    try {
      return { locked: false, userPreview: readSettings(store, policy).notificationPreview };
    } catch {
      return { locked: false, userPreview: 'none' }; // settings unreadable: show the least
    }
  };

  /** Store → audit → messaging for an opened profile. Zero-fills the keys if any step fails. */
  function openServices(opened: OpenedProfile, account: AccountSetting | null): Open {
    const { keys, profile } = opened;
    opts.inspectKeys?.(keys);
    let store: Store | null = null;
    try {
      store = services.openStore({ file: opened.dbFile, key: keys.db, logger, nativeBinding: opts.sqliteNativeBinding, clock });
      if (account) store.setSetting('account', account);
      const acct = store.getSetting<AccountSetting>('account');
      if (!acct) throw new AppError('STORE_CORRUPT', 'This profile has no account settings. Remove it and sign in again.');
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
      const messaging: Messaging = services.createMessaging({ account: acct, store, audit, events, logger, policy, clock, tls: opts.tls, notificationGate: gateFor(keys, store) });
      return { keys, mirror, active: { profileId: profile.id, jid: profile.jid, displayName: profile.displayName, store, audit, messaging } };
    } catch (err) {
      const s = store;
      if (s) void s.close().catch(() => undefined);
      zeroKeys(keys);
      throw err;
    }
  }

  function becomeUnlocked(open: Open): void {
    current = open;
    const { store, audit } = open.active;
    open.retention = startRetention({ days: policy.retentionDays, store, audit, clock, logger });
    idle.start(readSettings(open.active.store, policy).lockTimeoutMinutes * 60_000);
    events.emit('session:unlocked', { profileId: open.active.profileId });
  }

  /** Tears down without the lock bookkeeping (audit, event): used by lock and by a failed first sign-in. */
  async function teardown(open: Open): Promise<void> {
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
    zeroKeys(open.keys);
  }

  async function lockNow(reason: LockReason): Promise<void> {
    const open = current;
    if (!open) return;
    // From here every non-whileLocked channel answers LOCKED (router asks isUnlocked()).
    current = null;
    idle.stop();
    try {
      open.active.audit.append('lock', { reason, profileId: open.active.profileId });
    } catch (err) {
      logger.warn('audit append failed during lock', { error: errorName(err) });
    }
    // Tell the renderer first so it drops every PHI-holding view at once; the XMPP close handshake
    // and the store checkpoint (tens to hundreds of ms) follow. Nothing is served meanwhile
    // (isUnlocked() is already false) and lock() resolves only once the keys are zero.
    events.emit('session:locked', { reason });
    try {
      // Before the store closes: the head is read from it (audit-mirror.ts).
      await open.mirror.flush();
    } catch (err) {
      logger.warn('audit head mirror failed during lock', { error: errorName(err) });
    }
    await teardown(open);
    logger.info('session locked', { reason });
  }

  /**
   * At unlock: does the database still hold the newest audit row this PC mirrored? A rollback is
   * appended to the chain as its own event and to the device log (outside the profile folder,
   * so rolling the database back again does not erase the record). Never blocks the unlock.
   */
  async function checkAuditRollback(open: Open): Promise<AuditRollback | null> {
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
    await appendDeviceLog(userDataDir, keychain, { at: clock.now(), event: 'audit-rollback', profileId, detail: { ...rollback } });
    return rollback;
  }

  /**
   * A passphrase check while the profile is open. When it reaches the wipe threshold the vault
   * cannot erase the open store, so the session locks: the next wrong unlock then wipes.
   */
  async function inSession(check: () => Promise<void>): Promise<void> {
    try {
      await check();
    } catch (err) {
      if (err instanceof AppError && err.details?.lockRequired === true) await lockNow('manual');
      throw err;
    }
  }

  const session: Session = {
    isUnlocked: () => current !== null,
    reportActivity: () => {
      if (current) idle.activity();
    },
    connection(): { state: ConnectionState; detail: string | null } {
      return current ? current.active.messaging.connection() : { state: 'offline', detail: null };
    },
    active: () => requireOpen().active,

    async status() {
      if (!probe || clock.now() - probe.at > KEYCHAIN_PROBE_TTL_MS) probe = { at: clock.now(), value: await keychain.probe() };
      const profiles = await vault.listProfiles();
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
        const opened = await vault.createProfile({ jid: input.jid, displayName: input.displayName, passphrase: input.passphrase });
        const id = opened.profile.id;
        let open: Open | null = null;
        try {
          open = openServices(opened, { jid: opened.profile.jid, password: input.xmppPassword, server: input.server });
          open.active.audit.append('sign-in', { profileId: id, jid: opened.profile.jid, firstRun: true });
          open.active.audit.append('policy-acknowledged', { profileId: id, source: opts.policy.source });
          await open.active.messaging.start({ firstRun: true, keyBackupCode: input.keyBackupCode, replaceAccountKey: input.replaceAccountKey });
        } catch (err) {
          // A half-made profile (wrong XMPP password, no TLS, server unreachable) is removed, not left behind.
          if (open) await teardown(open);
          else zeroKeys(opened.keys);
          await vault.removeProfile(id, 'first-sign-in-failed');
          throw err;
        }
        becomeUnlocked(open);
        return { profileId: id };
      }),

    unlock: (profileId, passphrase) =>
      serial(async () => {
        if (current?.active.profileId === profileId) return { profileId };
        await lockNow('switch-user');
        const opened = await vault.unlock(profileId, passphrase);
        const open = openServices(opened, null);
        const rollback = await checkAuditRollback(open);
        if (opened.failedBefore > 0) open.active.audit.append('unlock-failed', { profileId, attempts: opened.failedBefore });
        open.active.audit.append('unlock', { profileId });
        // Re-baseline at once, so the same rollback is reported once, not at every unlock.
        if (rollback) await open.mirror.flush();
        becomeUnlocked(open);
        // Unlock does not wait for the network: the UI shows the cache at once and the connection state as it changes.
        void open.active.messaging.start().catch((err: unknown) => {
          logger.warn('messaging start failed after unlock', { code: err instanceof AppError ? err.code : 'unknown' });
        });
        return rollback ? { profileId, auditRollback: rollback } : { profileId };
      }),

    lock: (reason) => serial(() => lockNow(reason)),

    removeProfile: (profileId, passphrase) =>
      serial(async () => {
        if (current?.active.profileId === profileId) {
          // Prove it first: a wrong passphrase must not lock the session as a side effect.
          if (!passphrase) throw new AppError('WRONG_PASSPHRASE', "Enter this profile's passphrase to remove it from this PC.", { passphraseRequired: true });
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
      idle.start(next.lockTimeoutMinutes * 60_000);
    },

    dispose: () => serial(() => lockNow('quit')),
  };
  return session;
}
