/**
 * The main thread's side of a worker: a typed request/response channel over the port (ids,
 * batching, error mapping) and the thread's lifecycle (ready, failure, close, terminate). Used by
 * the decrypt pool (main/crypto/pool.ts) and the store worker (main/store/background.ts); the
 * worker side is serve.ts.
 */
import type { EventLoopUtilization } from 'node:perf_hooks';
import type { ResourceLimits, Worker } from 'node:worker_threads';
import { spawnWorker, type WorkerEntry } from './entry';
import type { FromWorker, OpMap, ToWorker, WireError, WireReply, WireRequest } from './protocol';

interface WorkerChannelOptions {
  entry: WorkerEntry;
  workerData: unknown;
  resourceLimits?: ResourceLimits;
  /** Turns a worker's error reply back into the error its caller expects. */
  decodeError(error: WireError): Error;
  /**
   * The error for calls the thread left unanswered, and for calls after it stopped. `cause` is
   * the thread's own error, or null when it just exited (or was terminated).
   */
  stopError(cause: Error | null): Error;
  /** Once, when the thread is gone, after its unanswered calls were failed. */
  onStop?(cause: Error | null): void;
}

export interface WorkerChannel<Ops extends OpMap> {
  call<K extends keyof Ops & string>(op: K, args: Ops[K]['args']): Promise<Ops[K]['result']>;
  /** Calls sent and not answered yet. */
  readonly inFlight: number;
  /** Resolves once the worker says it can answer; never, if it stops before. */
  readonly ready: Promise<void>;
  /** The error calls now fail with once the thread stopped; null while it runs. */
  dead(): Error | null;
  /** Asks the worker to finish what it holds and release its resources; resolves when the thread has exited. */
  close(): Promise<void>;
  /** Stops the thread now; unanswered calls fail with stopError(null). */
  terminate(): Promise<void>;
  /** The thread's event loop: active and idle time since it started, or since `since` (measurements: the benchmarks). */
  eventLoopUtilization(since?: EventLoopUtilization): EventLoopUtilization;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export function startWorkerChannel<Ops extends OpMap>(opts: WorkerChannelOptions): WorkerChannel<Ops> {
  const worker: Worker = spawnWorker(opts.entry, { workerData: opts.workerData, resourceLimits: opts.resourceLimits });
  // An idle worker must not keep the process alive; it is ref'd while calls are outstanding.
  worker.unref();
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let outbox: WireRequest[] = [];
  let dead: Error | null = null;
  let closing = false;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((r) => (markReady = r));
  const exited = new Promise<void>((r) => worker.once('exit', () => r()));

  const settle = (r: WireReply) => {
    const p = pending.get(r.id);
    if (!p) return;
    pending.delete(r.id);
    if (pending.size === 0 && !closing) worker.unref();
    if (r.ok) p.resolve(r.value);
    else p.reject(opts.decodeError(r.error));
  };
  const stop = (cause: Error | null) => {
    if (dead) return;
    dead = opts.stopError(cause);
    outbox = [];
    for (const p of pending.values()) p.reject(dead);
    pending.clear();
    opts.onStop?.(cause);
  };
  worker.on('message', (m: FromWorker) => {
    if (m.kind === 'ready') markReady();
    else for (const r of m.replies) settle(r);
  });
  worker.on('error', (err) => stop(err));
  worker.on('exit', () => stop(null));

  const flush = () => {
    if (outbox.length === 0 || dead) return;
    const requests = outbox;
    outbox = [];
    worker.postMessage({ kind: 'requests', requests } satisfies ToWorker);
  };

  return {
    call(op, args) {
      if (dead) return Promise.reject(dead);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        if (pending.size === 0) worker.ref();
        pending.set(id, { resolve, reject });
        // One postMessage per turn for everything called in it.
        if (outbox.push({ id, op, args }) === 1) queueMicrotask(flush);
      });
    },
    get inFlight() {
      return pending.size;
    },
    ready,
    dead: () => dead,
    async close() {
      if (dead) return;
      closing = true;
      worker.ref(); // stay alive until the worker has released its resources and exited
      flush();
      worker.postMessage({ kind: 'close' } satisfies ToWorker);
      await exited;
    },
    async terminate() {
      await worker.terminate();
      await exited;
    },
    eventLoopUtilization: (since) => worker.performance.eventLoopUtilization(since),
  };
}
