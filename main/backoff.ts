/**
 * Exponential backoff, one formula for every retry in main/: the outbox's send retries, the
 * messaging start loop, the connection's reconnects and the vault's wrong-passphrase wait.
 */
export interface BackoffOptions {
  /** The wait after attempt 0. */
  baseMs: number;
  /** No wait is longer than this. */
  maxMs: number;
  /** Doubling stops after this many attempts (keeps 2 ** n finite for a long-running loop). */
  maxExponent?: number;
  /**
   * 'equal': half the wait is fixed, the other half random ("equal jitter"), so the clients of a
   * clinic that lost its server together do not all come back in the same second.
   */
  jitter?: 'none' | 'equal';
  /** [0, 1); injectable so a test can pin the jitter. */
  random?: () => number;
}

/** The wait before retry number `attempt` (0-based): baseMs · 2^attempt, capped at maxMs, then jittered. */
export function backoffMs(attempt: number, opts: BackoffOptions): number {
  const exponent = Math.min(attempt, opts.maxExponent ?? Infinity);
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** exponent);
  if (opts.jitter !== 'equal') return ceiling;
  const random = opts.random ?? Math.random;
  return ceiling / 2 + random() * (ceiling / 2);
}
