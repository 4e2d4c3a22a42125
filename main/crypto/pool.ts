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
import type { Worker } from 'node:worker_threads';
import { SigncryptRejectedError, type RejectReason } from './errors';
import type { ContactKey, Identity } from './keys';
import { defaultOxLimits, openSigncrypt, type OpenedSigncrypt, type OxLimits } from './signcrypt';
import type { WorkerInit, WorkerJob, WorkerReply } from './decrypt-protocol';
import { resolveDecryptWorker, startWorker, type WorkerLocation } from './worker-path';

export interface DecryptJob {
  senderKey: ContactKey;
  base64: string;
  ourJid: string;
  delayStamp?: Date;
  now: Date;
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
  worker?: WorkerLocation;
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
    async close() {
      closed = true;
    },
  };
  return pool;
}

interface Pending {
  resolve(v: OpenedSigncrypt): void;
  reject(e: Error): void;
  /** null while still queued. */
  worker: Slot | null;
}
interface Slot {
  worker: Worker;
  inFlight: number;
  knownKeys: Set<string>;
  outbox: WorkerJob[];
  dead: boolean;
}

function threadPool(opts: DecryptPoolOptions, limits: OxLimits): DecryptPool {
  const size = Math.max(1, opts.size ?? availableParallelism());
  const maxInFlight = opts.maxInFlight ?? 64;
  const where = opts.worker ?? resolveDecryptWorker();
  const init: WorkerInit = { armoredSecretKey: opts.identity.armoredSecretKey, limits };
  const pending = new Map<number, Pending>();
  const queue: { job: DecryptJob; id: number }[] = [];
  let nextId = 1;
  let closed = false;
  // Workers that die before answering anything (missing file, broken build) must not respawn
  // forever: after a few in a row the pool falls back to decrypting on this thread.
  let crashesInARow = 0;
  let fallback: DecryptPool | null = null;
  const readySlots = new Set<Slot>();
  let markReady: (m: 'threads' | 'inline') => void = () => {};
  const readyP = new Promise<'threads' | 'inline'>((r) => (markReady = r));

  const spawn = (): Slot => {
    const worker = startWorker(where, init);
    const slot: Slot = { worker, inFlight: 0, knownKeys: new Set(), outbox: [], dead: false };
    worker.on('message', (replies: WorkerReply[]) => {
      crashesInARow = 0;
      if (!readySlots.has(slot)) {
        readySlots.add(slot); // the worker's first message (possibly empty) says it is up
        if (slots.every((s) => readySlots.has(s))) markReady('threads');
      }
      for (const r of replies) settle(slot, r);
      pump();
    });
    const fail = () => {
      if (slot.dead) return;
      slot.dead = true;
      for (const [id, p] of pending) {
        if (p.worker !== slot) continue;
        pending.delete(id);
        p.reject(new DecryptPoolError('decrypt worker stopped'));
      }
      if (closed) return;
      if (++crashesInARow > size * 3) {
        fallback = inlinePool(opts.identity, maxInFlight, limits);
        for (const { job, id } of queue.splice(0)) {
          const p = pending.get(id);
          pending.delete(id);
          if (p) fallback.open(job).then(p.resolve, p.reject);
        }
        markReady('inline');
        return;
      }
      slots[slots.indexOf(slot)] = spawn();
      pump();
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    worker.unref(); // an idle pool must not keep the process alive; ref'd while busy
    return slot;
  };
  const slots: Slot[] = Array.from({ length: size }, spawn);

  function failQueued(why: string) {
    for (const { id } of queue.splice(0)) {
      pending.get(id)?.reject(new DecryptPoolError(why));
      pending.delete(id);
    }
  }

  function settle(slot: Slot, r: WorkerReply) {
    const p = pending.get(r.id);
    if (!p) return;
    pending.delete(r.id);
    if (--slot.inFlight === 0) slot.worker.unref();
    if (r.ok)
      p.resolve({ body: r.body, timestamp: new Date(r.timestamp), to: r.to, senderFingerprint: r.senderFingerprint, contentDigest: r.contentDigest });
    else if ('reason' in r) p.reject(new SigncryptRejectedError(r.reason));
    else {
      slot.knownKeys.clear(); // the worker may have dropped a key it failed to load: resend keys
      p.reject(new DecryptPoolError('decrypt worker failed'));
    }
  }

  let scheduled = false;
  function pump() {
    while (queue.length) {
      let best: Slot | undefined;
      for (const s of slots) if (!s.dead && s.inFlight < maxInFlight && (!best || s.inFlight < best.inFlight)) best = s;
      if (!best) break;
      const { job, id } = queue.shift()!;
      const p = pending.get(id);
      if (p) p.worker = best;
      if (best.inFlight++ === 0) best.worker.ref();
      const k = job.senderKey;
      const cacheKey = `${k.bareJid} ${k.fingerprint}`;
      const first = !best.knownKeys.has(cacheKey);
      best.knownKeys.add(cacheKey);
      best.outbox.push({
        id,
        senderJid: k.bareJid,
        senderFingerprint: k.fingerprint,
        ...(first ? { senderBinary: k.binary } : {}),
        base64: job.base64,
        ourJid: job.ourJid,
        ...(job.delayStamp ? { delayStamp: job.delayStamp.getTime() } : {}),
        now: job.now.getTime(),
      });
    }
    // One postMessage per worker per turn instead of one per job.
    if (!scheduled) {
      scheduled = true;
      queueMicrotask(() => {
        scheduled = false;
        for (const s of slots) {
          if (!s.outbox.length || s.dead) continue;
          const batch = s.outbox;
          s.outbox = [];
          s.worker.postMessage(batch);
        }
      });
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
      const id = nextId++;
      const p = new Promise<OpenedSigncrypt>((resolve, reject) => {
        pending.set(id, { resolve, reject, worker: null });
      });
      queue.push({ job, id });
      pump();
      return p;
    },
    openMany: (jobs) => openMany(pool, jobs),
    async close() {
      closed = true;
      failQueued('decrypt pool is closed');
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
  return pool;
}
