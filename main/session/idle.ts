/**
 * The inactivity timer. Activity only records a timestamp (the renderer reports input, throttled);
 * when the timer fires it re-arms for the remainder if there was activity since, so a busy user
 * costs no timer churn.
 */
import type { Clock } from '../clock';

export interface IdleTimer {
  /** (Re)starts with a timeout; counts from now. */
  start(timeoutMs: number): void;
  activity(): void;
  stop(): void;
}

export function createIdleTimer(clock: Clock, onIdle: () => void): IdleTimer {
  let timeoutMs = 0;
  let last = 0;
  let handle: unknown = null;
  const arm = (ms: number) => {
    handle = clock.setTimeout(fire, ms);
  };
  function fire() {
    handle = null;
    const quiet = clock.now() - last;
    if (quiet >= timeoutMs) onIdle();
    else arm(timeoutMs - quiet);
  }
  const stop = () => {
    if (handle !== null) clock.clearTimeout(handle);
    handle = null;
  };
  return {
    start(ms) {
      stop();
      timeoutMs = ms;
      last = clock.now();
      arm(ms);
    },
    activity() {
      last = clock.now();
    },
    stop,
  };
}
