/**
 * How long a connect sequence (TCP connect, stream open, STARTTLS, TLS handshake, SASL, bind)
 * may take: it fails when the server has said NOTHING for `idleMs`, and in any case after
 * `ceilingMs`. Replaces @xmpp/connection 0.14's fixed 2 s per step (`Connection.timeout`).
 *
 * Issue 10 item 13: ten first sign-ins at once on a 2-core machine failed with NOT_CONNECTED
 * (cause TimeoutError) and Prosody logged an EOF right after TLS. Each step of the library
 * waited 2 s for the server's answer; on a loaded machine the answer (Prosody busy with the
 * other handshakes) or our reading of it (this event loop busy with Argon2 setup, OpenPGP key
 * generation, SQLCipher opens — the browser harness runs several workstations in one process)
 * took longer, the step timed out and we closed a healthy connection. A silence limit instead
 * of a step limit lets a slow but answering server finish, and still gives up on one that
 * never answers (a blackholed address, a port that accepts and stays mute, a TLS handshake
 * that never completes — the library had no limit at all for TCP connect and TLS handshake).
 */
import { performance } from 'node:perf_hooks';
import { AppError } from '../../../common/result';
import type { Clock } from '../../clock';

export interface NegotiationLimits {
  /** Fail when the server sent nothing (no byte, no handshake step) for this long. */
  idleMs: number;
  /** Fail when the whole sequence took this long, even if the server trickles bytes. */
  ceilingMs: number;
}

/**
 * 15 s of silence: in the ten-sign-ins load test (test/integration/xmpp-sign-in-load.test.ts,
 * 2 cores, CPU burners) the longest silence measured was 2.6 s and the longest sequence 6 s, so
 * this leaves ~6× headroom; a mute server is abandoned after 15 s. 60 s in all: no sign-in
 * attempt waits longer than a minute, however the server behaves.
 */
export const NEGOTIATION_LIMITS: NegotiationLimits = { idleMs: 15_000, ceilingMs: 60_000 };

export interface NegotiationWatchdog {
  /** The server showed a sign of life: bytes arrived, a handshake step completed. */
  progress(): void;
  /** Rejects with NOT_CONNECTED (details.cause 'no-answer' or 'too-slow') when a limit is hit, or with abort's error. */
  readonly expired: Promise<never>;
  /** What `expired` rejected with, once it has (read synchronously, unlike the promise). */
  failure(): Error | null;
  /** The sequence was torn down by someone else: `expired` rejects with `err` now. */
  abort(err: Error): void;
  /** The sequence ended (online, or failed on its own): `expired` never settles. */
  stop(): void;
}

// Elapsed time, not a date: the monotonic clock, so a wall-clock change cannot end a sign-in.
const now = () => performance.now();

/** `timers`: the connection's clock arms the checks; elapsed time itself is read from the monotonic clock (above). */
export function watchNegotiation(
  limits: NegotiationLimits,
  timers: Pick<Clock, 'setTimeout' | 'clearTimeout'>,
): NegotiationWatchdog {
  const started = now();
  let last = started;
  let timer: unknown = null;
  let done = false;
  let failure: Error | null = null;
  let fail: (e: Error) => void = () => undefined;
  const expired = new Promise<never>((_, reject) => (fail = reject));
  // Observed so an expiry nobody races any more is not an unhandled rejection; failure() reports it.
  expired.catch(() => undefined);

  const finish = (e: Error | null) => {
    done = true;
    if (timer !== null) timers.clearTimeout(timer);
    timer = null;
    if (e) {
      failure = e;
      fail(e);
    }
  };
  const check = () => {
    if (done) return;
    const t = now();
    if (t - started >= limits.ceilingMs) {
      return finish(
        new AppError(
          'NOT_CONNECTED',
          `Cannot reach the messaging server: signing in took longer than ${Math.round(limits.ceilingMs / 1000)} s.`,
          { cause: 'too-slow' },
        ),
      );
    }
    if (t - last >= limits.idleMs) {
      return finish(
        new AppError(
          'NOT_CONNECTED',
          `Cannot reach the messaging server: it did not answer for ${Math.round(limits.idleMs / 1000)} s.`,
          { cause: 'no-answer' },
        ),
      );
    }
    arm(Math.min(last + limits.idleMs, started + limits.ceilingMs) - t);
  };
  // Node runs expired timers BEFORE it reads sockets that became readable meanwhile. After this
  // event loop was blocked, the server's answer may already be waiting: setImmediate runs after
  // that read (the poll phase), so the answer counts as progress before we judge the silence.
  const arm = (ms: number) => {
    timer = timers.setTimeout(() => setImmediate(check), Math.max(1, ms));
  };
  arm(limits.idleMs);

  return {
    progress() {
      last = now();
    },
    expired,
    failure: () => failure,
    abort: (err) => {
      if (!done) finish(err);
    },
    stop: () => finish(null),
  };
}
