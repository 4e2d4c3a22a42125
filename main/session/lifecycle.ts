/**
 * The session's lock state: which profile is open (one state value, null when locked), the
 * queue that runs vault and lifecycle operations one at a time, the inactivity timer, and the
 * ordered steps of becoming unlocked and of locking. Split out of session.ts (issue 11): what
 * "locked" means (ARCHITECTURE.md §4) changes here, not with the profile operations built on it.
 */
import type { LockReason } from '../../common/ipc-contract';
import { AppError } from '../../common/result';
import type { Clock } from '../clock';
import type { EventBus } from '../events';
import { errorName, type Logger } from '../log';
import type { PolicyChange } from '../policy/live';
import type { Policy } from '../policy/schema';
import { createIdleTimer } from './idle';
import { closeServices, type OpenServices } from './open-services';
import { startRetention } from './retention';
import { rememberPolicy } from './policy-snapshot';
import { readSettings } from './settings';

export interface LifecycleOptions {
  policy: Policy;
  clock: Clock;
  logger: Logger;
  events: EventBus;
}

export interface SessionLifecycle {
  /** The unlocked profile, or null when locked. */
  current(): OpenServices | null;
  /** The unlocked profile; AppError('LOCKED') when locked. */
  requireOpen: () => OpenServices;
  /** Vault and lifecycle operations run one at a time: a lock that arrives during an unlock runs right after it. */
  serial: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Makes `open` the unlocked profile: retention, the idle timer, 'session:unlocked'. */
  becomeUnlocked(open: OpenServices): void;
  /** Locks now (call it inside serial). Does nothing when locked; resolves once every key is zero. */
  lockNow: (reason: LockReason) => Promise<void>;
  /**
   * A passphrase check while the profile is open. When it reaches the wipe threshold the vault
   * cannot erase the open store, so the session locks: the next wrong unlock then wipes.
   */
  inSession: (check: () => Promise<void>) => Promise<void>;
  /** Renderer input: restarts the inactivity count (nothing while locked). */
  activity(): void;
  /** (Re)arms the inactivity timer with a new timeout. */
  restartIdle(lockTimeoutMinutes: number): void;
  /**
   * The managed policy changed while the app runs (issue 14 item 3; `policy` already reads the new
   * values): a shorter lock timeout counts from the last activity at once, a changed retention
   * purges at once, and the open profile's audit log records which keys changed.
   */
  policyChanged(change: PolicyChange, source: string | null): void;
}

export function createLifecycle({ policy, clock, logger, events }: LifecycleOptions): SessionLifecycle {
  let current: OpenServices | null = null;

  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    // The queue only orders; each caller gets its own failure through `run`.
    tail = run.catch(() => undefined);
    return run;
  };

  const idle = createIdleTimer(
    clock,
    () => {
      // A timer callback has no caller to report to: the failure is logged.
      void serial(() => lockNow('idle')).catch((err: unknown) =>
        logger.error('idle lock failed', { error: errorName(err) }),
      );
    },
    // The renderer shows "Locking in N s — Stay signed in" (issue 12 §2); null ends the warning.
    (msLeft) =>
      events.emit('session:idleWarning', { lockInSeconds: msLeft === null ? null : Math.ceil(msLeft / 1000) }),
  );

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
    await closeServices(open, logger);
    logger.info('session locked', { reason });
  }

  return {
    current: () => current,
    requireOpen: () => {
      if (!current) throw new AppError('LOCKED', 'The session is locked.');
      return current;
    },
    serial,
    becomeUnlocked(open) {
      current = open;
      const { store, audit } = open.active;
      open.retention = startRetention({ days: policy.retentionDays, store, audit, clock, logger, files: open.files });
      idle.start(readSettings(open.active.store, policy).lockTimeoutMinutes * 60_000);
      events.emit('session:unlocked', { profileId: open.active.profileId });
    },
    lockNow,
    inSession: async (check) => {
      try {
        await check();
      } catch (err) {
        if (err instanceof AppError && err.details?.lockRequired === true) await lockNow('manual');
        throw err;
      }
    },
    activity() {
      if (current) idle.activity();
    },
    restartIdle: (minutes) => idle.start(minutes * 60_000),
    policyChanged(change, source) {
      const open = current;
      if (!open) return;
      const { store, audit } = open.active;
      try {
        idle.retime(readSettings(store, policy).lockTimeoutMinutes * 60_000);
        audit.append('policy-applied', { keys: change.keys.join(','), source: source ?? 'defaults' });
        rememberPolicy(store, policy);
      } catch (err) {
        logger.warn('policy change not applied to the session', { error: errorName(err) });
      }
      if (!change.keys.includes('retentionDays')) return;
      // In the queue, so a lock under way closes the store first and this then does nothing.
      void serial(async () => {
        if (current !== open) return;
        await open.retention?.stop();
        open.retention = startRetention({ days: policy.retentionDays, store, audit, clock, logger, files: open.files });
      }).catch((err: unknown) => logger.warn('retention restart failed', { error: errorName(err) }));
    },
  };
}
