/** Every time read in gateway/ goes through this (STYLE.md "Time"): tests hand in a fake one. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
