/**
 * Decrypt + verify many incoming signcrypts at once, for MAM catch-up (issue 5 §6,
 * PROTOCOL.md "Speed"). Two modes, same results:
 * - 'threads' (default): one worker per core, each with many jobs in flight. Chosen by
 *   test/bench/crypto.bench.ts (10,000 msgs, 2 cores shared with other work, load 5–10):
 *   pool vs inline 2,007 vs 1,592, 1,534 vs 1,438 and 1,610 vs 1,393 msg/s; inline won one
 *   non-interleaved run (1,682 vs 1,366). The pool also keeps the main thread free for
 *   stanza parsing and SQLite writes during catch-up. Start-up 0.45–1 s, paid once.
 * - 'inline': many jobs in flight on this thread (openpgp's curve ops run on libuv's pool);
 *   no start-up cost, good for a handful of messages.
 * Jobs reject with SigncryptRejectedError exactly like openSigncrypt.
 */
import { availableParallelism } from 'node:os';
import type { EventLoopUtilization } from 'node:perf_hooks';
import { workerEntry, type WorkerEntry } from '../worker/entry';
import { startWorkerChannel, type WorkerChannel } from '../worker/host';
import { isRejectReason, SigncryptRejectedError, type RejectReason } from './errors';
import type { ContactKey, Identity } from './keys';
import { defaultOxLimits, openSigncrypt, type OpenedSigncrypt, type OxLimits } from './signcrypt';
import type { DecryptOps, OpenedWire, WorkerInit, WorkerJob } from './decrypt-protocol';

export interface DecryptJob {
  senderKey: ContactKey;
  base64: string;
  ourJid: string;
  delayStamp?: Date;
  now: Date;
  /**
   * A message that arrived live: the decrypt service (xmpp/decrypt.ts) opens it on its own thread,
   * not behind a catch-up's jobs in this pool (issue 13 item 4). The pool treats it as any job.
   */
  live?: boolean;
}

export type DecryptOutcome =
  | { ok: true; value: OpenedSigncrypt }
  | { ok: false; reason: RejectReason }
  /** The pool itself failed (worker died); not the message's fault: retry later. */
  | { ok: false; reason: 'internal' };

export interface DecryptPoolOptions {
  identity: Identity;
  /** Worker count (threads) — defaults to the number of cores. */
  size?: number;
  mode?: 'threads' | 'inline';
  /** Jobs in flight per worker (threads) or in total (inline). */
  maxInFlight?: number;
  limits?: Partial<OxLimits>;
  /** Override where the worker script is (tests, unusual packaging). */
  worker?: WorkerEntry;
  /** Benchmarks: when each job is on which worker (threads mode). The app passes none: nothing is measured. */
  metrics?: DecryptPoolMetrics;
}

/** Where the pool's time goes (test/bench/xmpp.bench.ts). Times are performance.now() milliseconds. */
export interface DecryptPoolMetrics {
  /** A job was on worker `worker` (its slot) from `sent` (handed to the thread) until `done` (its answer back). */
  job(worker: number, sent: number, done: number): void;
  /** Once per worker as the pool closes: its event loop's active and idle time since it was ready. */
  worker(worker: number, activeMs: number, idleMs: number): void;
}

export interface DecryptPool {
  /** 'inline' for an inline pool, or for a threads pool whose workers could not start. */
  readonly mode: 'threads' | 'inline';
  readonly size: number;
  /** Resolves once the workers have loaded the identity (or the pool fell back to inline). */
  ready(): Promise<'threads' | 'inline'>;
  open(job: DecryptJob): Promise<OpenedSigncrypt>;
  /** Results in input order; never throws for a bad message. */
  openMany(jobs: DecryptJob[]): Promise<DecryptOutcome[]>;
  close(): Promise<void>;
}

export class DecryptPoolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptPoolError';
  }
}

export function createDecryptPool(opts: DecryptPoolOptions): DecryptPool {
  const limits = { ...defaultOxLimits, ...opts.limits };
  if (opts.mode === 'inline') return inlinePool(opts.identity, opts.maxInFlight ?? 64, limits);
  return threadPool(opts, limits);
}

async function openMany(pool: Pick<DecryptPool, 'open'>, jobs: DecryptJob[]): Promise<DecryptOutcome[]> {
  return Promise.all(
    jobs.map((j) =>
      pool.open(j).then(
        (value): DecryptOutcome => ({ ok: true, value }),
        (err: unknown): DecryptOutcome =>
          err instanceof SigncryptRejectedError ? { ok: false, reason: err.reason } : { ok: false, reason: 'internal' },
      ),
    ),
  );
}

function inlinePool(identity: Identity, maxInFlight: number, limits: OxLimits): DecryptPool {
  let active = 0;
  const waiting: (() => void)[] = [];
  let closed = false;
  const pool: DecryptPool = {
    mode: 'inline',
    size: 1,
    async open(job) {
      if (closed) throw new DecryptPoolError('decrypt pool is closed');
      if (active >= maxInFlight) await new Promise<void>((r) => waiting.push(r));
      active++;
      try {
        return await openSigncrypt({ identity, limits, ...job });
      } finally {
        active--;
        waiting.shift()?.();
      }
    },
    openMany: (jobs) => openMany(pool, jobs),
    ready: () => Promise.resolve('inline' as const),
    close() {
      closed = true;
      return Promise.resolve();
    },
  };
  return pool;
}

/** decrypt-worker.ts beside this module: the .ts source, or the .cjs the build puts beside the bundle. */
export const resolveDecryptWorker = (): WorkerEntry => workerEntry('decrypt-worker', import.meta.url);

// openpgp allocates many short-lived buffers per message; a larger young generation means
// fewer scavenges (≈7% less CPU per message in a worker, measured with the crypto bench).
const resourceLimits = { maxYoungGenerationSizeMb: 32 };

interface Queued {
  job: DecryptJob;
  resolve: (v: OpenedSigncrypt) => void;
  reject: (e: Error) => void;
}
interface Slot {
  channel: WorkerChannel<DecryptOps>;
  /** Sender keys this worker holds parsed: each is sent to a worker once. */
  knownKeys: Set<string>;
  ready: boolean;
  /** With metrics: the worker's event loop when it became ready (its start-up is not counted). */
  readyLoop?: EventLoopUtilization;
}

const toOpened = (r: OpenedWire): OpenedSigncrypt => ({ ...r, timestamp: new Date(r.timestamp) });

function toWire(job: DecryptJob, withKey: boolean): WorkerJob {
  const k = job.senderKey;
  return {
    senderJid: k.bareJid,
    senderFingerprint: k.fingerprint,
    ...(withKey ? { senderBinary: k.binary } : {}),
    base64: job.base64,
    ourJid: job.ourJid,
    ...(job.delayStamp ? { delayStamp: job.delayStamp.getTime() } : {}),
    now: job.now.getTime(),
  };
}

function threadPool(opts: DecryptPoolOptions, limits: OxLimits): DecryptPool {
  const size = Math.max(1, opts.size ?? availableParallelism());
  const maxInFlight = opts.maxInFlight ?? 64;
  const entry = opts.worker ?? resolveDecryptWorker();
  const init: WorkerInit = { armoredSecretKey: opts.identity.armoredSecretKey, limits };
  /** Waiting jobs, in arrival order. */
  const queue: Queued[] = [];
  let closed = false;
  // Workers that die before answering anything (missing file, broken build) must not respawn
  // forever: after a few in a row the pool falls back to decrypting on this thread.
  let crashesInARow = 0;
  let fallback: DecryptPool | null = null;
  let markReady: (m: 'threads' | 'inline') => void = () => {};
  const readyP = new Promise<'threads' | 'inline'>((r) => (markReady = r));

  const spawn = (): Slot => {
    const channel = startWorkerChannel<DecryptOps>({
      entry,
      workerData: init,
      resourceLimits,
      decodeError: (e) =>
        isRejectReason(e.code) ? new SigncryptRejectedError(e.code) : new DecryptPoolError('decrypt worker failed'),
      // Jobs in flight on a worker that died fail as 'internal' (retry later), never as the message's fault.
      stopError: () => new DecryptPoolError('decrypt worker stopped'),
      onStop: () => replace(slot),
    });
    const slot: Slot = { channel, knownKeys: new Set(), ready: false };
    // `ready` never rejects (a worker that dies first just never becomes ready): nothing to drop.
    void channel.ready.then(() => {
      crashesInARow = 0;
      slot.ready = true;
      if (opts.metrics) slot.readyLoop = channel.eventLoopUtilization();
      if (slots.every((s) => s.ready)) markReady('threads');
    });
    return slot;
  };
  const slots: Slot[] = Array.from({ length: size }, spawn);

  function replace(dead: Slot) {
    if (closed || fallback) return;
    if (++crashesInARow > size * 3) {
      const inline = (fallback = inlinePool(opts.identity, maxInFlight, limits));
      for (const q of queue.splice(0)) inline.open(q.job).then(q.resolve, q.reject);
      markReady('inline');
      return;
    }
    slots[slots.indexOf(dead)] = spawn();
    pump();
  }

  function send(slot: Slot, { job, resolve, reject }: Queued) {
    const cacheKey = `${job.senderKey.bareJid} ${job.senderKey.fingerprint}`;
    const first = !slot.knownKeys.has(cacheKey);
    slot.knownKeys.add(cacheKey);
    const { metrics } = opts;
    const sent = metrics ? performance.now() : 0;
    slot.channel.call('open', toWire(job, first)).then(
      (r) => {
        if (metrics) metrics.job(slots.indexOf(slot), sent, performance.now());
        resolve(toOpened(r));
        pump();
      },
      (err: Error) => {
        if (metrics) metrics.job(slots.indexOf(slot), sent, performance.now());
        if (err instanceof DecryptPoolError) slot.knownKeys.clear(); // it may have dropped a key it failed to load: resend
        reject(err);
        pump();
      },
    );
  }

  // Least-loaded live worker first; the rest waits in `queue` (maxInFlight per worker).
  function pump() {
    while (queue.length) {
      let best: Slot | undefined;
      for (const s of slots) {
        const n = s.channel.inFlight;
        if (!s.channel.dead() && n < maxInFlight && (!best || n < best.channel.inFlight)) best = s;
      }
      if (!best) return;
      send(best, queue.shift()!);
    }
  }

  const pool: DecryptPool = {
    get mode() {
      return fallback ? 'inline' : 'threads';
    },
    size,
    ready: () => readyP,
    open(job) {
      if (closed) return Promise.reject(new DecryptPoolError('decrypt pool is closed'));
      if (fallback) return fallback.open(job);
      const p = new Promise<OpenedSigncrypt>((resolve, reject) => queue.push({ job, resolve, reject }));
      pump();
      return p;
    },
    openMany: (jobs) => openMany(pool, jobs),
    async close() {
      closed = true;
      for (const q of queue.splice(0)) q.reject(new DecryptPoolError('decrypt pool is closed'));
      slots.forEach((s, i) => {
        if (!opts.metrics || !s.readyLoop || s.channel.dead()) return;
        const { active, idle } = s.channel.eventLoopUtilization(s.readyLoop);
        opts.metrics.worker(i, active, idle);
      });
      await Promise.all(slots.map((s) => s.channel.terminate()));
    },
  };
  return pool;
}
