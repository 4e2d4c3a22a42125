/** Injected time source, so lock timers and throttling can be tested with a fake clock. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Runs `fn` every `ms` on `clock` (an interval built on its setTimeout, so a fake clock drives it
 * too). Returns the function that stops it.
 */
export function every(clock: Clock, ms: number, fn: () => void): () => void {
  let handle: unknown = null;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    handle = clock.setTimeout(tick, ms);
    fn();
  };
  handle = clock.setTimeout(tick, ms);
  return () => {
    stopped = true;
    clock.clearTimeout(handle);
  };
}

/** The only place main/ reads the wall clock and arms Node's timers; everything else is handed a Clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};
