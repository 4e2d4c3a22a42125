/**
 * store.background backed by the worker thread (store-worker.ts). Errors come back as AppError
 * when they were AppErrors, otherwise as an Error carrying the SQLite code (never row contents).
 */
import type { Worker } from 'node:worker_threads';
import { AppError, errorCodes, type ErrorCode } from '../../common/result';
import type { Logger } from '../log';
import type { WorkerReply, WorkerRequest } from './store-worker';
import type { BackgroundHandle } from './build-store';
import type { BulkInsertResult, Page, SearchHit } from './types';
import { siblingWorkerUrl, startWorker } from './worker-host';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
type Request = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export function startBackground(opts: {
  file: string;
  key: Buffer | null;
  nativeBinding?: string;
  logger?: Logger;
  cacheKiB?: number;
  /** Tests: a worker entry that cannot load, to exercise the in-thread fallback (build-store.ts). */
  workerUrl?: URL;
}): BackgroundHandle {
  const url = opts.workerUrl ?? siblingWorkerUrl('store-worker', import.meta.url);
  const worker: Worker = startWorker(url, { workerData: { file: opts.file, key: opts.key ? new Uint8Array(opts.key) : null, nativeBinding: opts.nativeBinding, cacheKiB: opts.cacheKiB } });
  worker.unref();
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let dead: Error | null = null;
  let closing = false;

  const failAll = (err: Error) => {
    dead = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  worker.on('message', (r: WorkerReply) => {
    const p = pending.get(r.id);
    if (!p) return;
    pending.delete(r.id);
    if (r.ok) p.resolve(r.value);
    else if ((errorCodes as readonly string[]).includes(r.code)) p.reject(new AppError(r.code as ErrorCode, r.message));
    else p.reject(Object.assign(new Error(r.message), { code: r.code }));
  });
  worker.on('error', (err) => {
    opts.logger?.error('store worker failed', { error: err.name });
    failAll(new AppError('INTERNAL', 'The background store worker stopped.'));
  });
  worker.on('exit', () => failAll(new AppError('INTERNAL', 'The background store worker has exited.')));

  const call = <T>(req: Request): Promise<T> => {
    if (dead) return Promise.reject(dead);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.ref(); // keep the process alive while work is outstanding
      worker.postMessage({ ...req, id });
    }).finally(() => {
      if (pending.size === 0 && !closing) worker.unref();
    });
  };

  return {
    insertMany: (ms) => call<BulkInsertResult>({ op: 'insertMany', ms }),
    search: (query, { cursor, limit }) => call<Page<SearchHit>>({ op: 'search', query, cursor, limit }),
    purgeBefore: (cutoff) => call<number>({ op: 'purgeBefore', cutoff }),
    indexed: () => call<void>({ op: 'indexed' }),
    dead: () => dead !== null,
    async close() {
      if (dead) return;
      closing = true;
      worker.ref(); // stay alive until the worker has closed its connection and exited
      const exited = new Promise<void>((r) => worker.once('exit', () => r()));
      await call({ op: 'close' }).catch(() => undefined);
      await exited;
    },
  };
}
