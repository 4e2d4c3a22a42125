/**
 * The inactivity timer. Activity only records a timestamp (the renderer reports input, throttled);
 * when the timer fires it re-arms for the remainder if there was activity since, so a busy user
 * costs no timer churn.
 *
 * Before the lock it warns (issue 12 §2: "Locking in 30 s — Stay signed in"): IDLE_WARNING_MS
 * ahead, or a quarter of a short timeout, so that an active person's throttled reports (at most
 * one per 15 s, renderer lib/activity.ts) always arrive before a warning would. Activity during
 * the warning ends it at once.
 */
import type { Clock } from '../clock';

export const IDLE_WARNING_MS = 30_000;

/** How long before the lock the warning comes, for a given timeout. */
export function idleWarningMs(timeoutMs: number): number {
  return Math.min(IDLE_WARNING_MS, Math.floor(timeoutMs / 4));
}

export interface IdleTimer {
  /** (Re)starts with a timeout; counts from now. */
  start(timeoutMs: number): void;
  /**
   * A new timeout that counts from the last activity, not from now (the policy changed, issue 14
   * item 3): already idle longer than the new timeout → locks at once. Does nothing when stopped.
   */
  retime(timeoutMs: number): void;
  activity(): void;
  stop(): void;
}

/**
 * `onWarning(msLeft)`: the lock comes in msLeft unless there is activity; `onWarning(null)`:
 * activity arrived during a warning, which is over.
 */
export function createIdleTimer(
  clock: Clock,
  onIdle: () => void,
  onWarning: (msLeft: number | null) => void = () => undefined,
): IdleTimer {
  let timeoutMs = 0;
  let last = 0;
  let warned = false;
  let handle: unknown = null;
  const arm = (ms: number) => {
    handle = clock.setTimeout(fire, ms);
  };
  function fire() {
    handle = null;
    const quiet = clock.now() - last;
    const warnAt = timeoutMs - idleWarningMs(timeoutMs);
    if (quiet >= timeoutMs) {
      warned = false;
      onIdle();
    } else if (quiet >= warnAt) {
      if (!warned) {
        warned = true;
        onWarning(timeoutMs - quiet);
      }
      arm(timeoutMs - quiet);
    } else {
      arm(warnAt - quiet);
    }
  }
  const stop = () => {
    if (handle !== null) clock.clearTimeout(handle);
    handle = null;
    warned = false;
  };
  return {
    start(ms) {
      stop();
      timeoutMs = ms;
      last = clock.now();
      arm(ms - idleWarningMs(ms));
    },
    retime(ms) {
      if (handle === null || ms === timeoutMs) return;
      clock.clearTimeout(handle);
      handle = null;
      timeoutMs = ms;
      // A longer timeout can end a warning that is showing: say so before re-arming.
      if (warned && clock.now() - last < timeoutMs - idleWarningMs(timeoutMs)) {
        warned = false;
        onWarning(null);
      }
      fire();
    },
    activity() {
      last = clock.now();
      if (warned) {
        warned = false;
        onWarning(null);
      }
    },
    stop,
  };
}
