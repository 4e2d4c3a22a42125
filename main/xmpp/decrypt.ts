/**
 * The decrypt service: one per messaging service, used by live delivery and catch-up alike through
 * the context (ctx.decrypt, receive.ts). It owns the worker pool's lifetime — started early, while
 * TLS and SCRAM run, so catch-up does not wait for the workers; closed once a fresh session's
 * catch-up is done (session-setup.ts) and on stop — and falls back to this thread when the pool
 * cannot start or fails for an internal reason. A bad message is not an internal failure: its
 * SigncryptRejectedError reaches the caller either way.
 *
 * A message that arrived live is decrypted on this thread, never in the pool (issue 13 item 4):
 * each worker has up to 64 catch-up jobs in flight, interleaved on its event loop, and a job
 * handed to it finishes behind them. Measured with the XMPP bench (N = 10,000; docs/performance.md
 * "A live message during the catch-up"): a live message's decrypt + verify during the catch-up
 * took p50 133–169 ms in the pool, 14–21 ms here; the catch-up ran at 0.85–0.88 of the
 * single-thread rate with the live jobs in the pool, 0.90–0.97 without. The workers run below
 * this thread's priority (worker/serve.ts), and live messages come one at a time.
 */
import { availableParallelism } from 'node:os';
import {
  createDecryptPool,
  openSigncrypt,
  SigncryptRejectedError,
  type DecryptJob,
  type DecryptPool,
  type DecryptPoolMetrics,
  type Identity,
  type OpenedSigncrypt,
} from '../crypto';
import { errorName, type Logger } from '../log';
import type { MessagingInspect } from './types';

export interface DecryptServiceDeps {
  /** Our identity; null until the account key is loaded (a first run settles it once connected). */
  identity: () => Identity | null;
  logger: Logger;
  inspect?: MessagingInspect;
  /** Benchmarks: the worker pool's timings (MessagingMetrics.pool). */
  poolMetrics?: DecryptPoolMetrics;
}

export interface DecryptService {
  /** Starts the worker pool for the current identity (once); rejects when there is no identity yet. */
  start(): Promise<void>;
  /** Decrypts + verifies one signcrypt; rejects like openSigncrypt. */
  decrypt(job: DecryptJob): Promise<OpenedSigncrypt>;
  /** Closes the pool; the next start() makes a new one. */
  close(): Promise<void>;
}

export function createDecryptService({ identity, logger, inspect, poolMetrics }: DecryptServiceDeps): DecryptService {
  let pool: Promise<DecryptPool> | null = null;

  return {
    async start() {
      const id = identity();
      if (!id) throw new Error('no identity');
      pool ??= Promise.resolve().then(() => {
        try {
          return createDecryptPool({
            identity: id,
            size: availableParallelism(),
            ...(poolMetrics ? { metrics: poolMetrics } : {}),
          });
        } catch (err) {
          logger.warn('xmpp: decrypt worker pool unavailable; decrypting on this thread', { error: errorName(err) });
          return createDecryptPool({ identity: id, mode: 'inline' });
        }
      });
      await pool;
    },
    /** A live message on this thread; others on the worker pool once it exists, else (or if it fails) here. */
    async decrypt(job) {
      const id = identity();
      if (!id) throw new SigncryptRejectedError('decrypt-failed', 'no identity loaded');
      await inspect?.beforeDecrypt?.(job);
      const current = job.live ? null : pool;
      // A pool that could not start: decrypt on this thread (below).
      const ready = current ? await current.catch(() => null) : null;
      if (ready) {
        try {
          return await ready.open(job);
        } catch (err) {
          if (err instanceof SigncryptRejectedError) throw err;
          // Closed on purpose while this job was on it (catch-up done, stop): not a failure.
          if (pool !== current) logger.debug('xmpp: decrypt pool closed meanwhile; decrypting on this thread');
          else logger.warn('xmpp: decrypt pool failed; decrypting on this thread', { error: errorName(err) });
        }
      }
      return openSigncrypt({ identity: id, ...job });
    },
    async close() {
      const p = pool;
      pool = null;
      // A pool that never started has nothing to close.
      if (p) await (await p.catch(() => null))?.close();
    },
  };
}
