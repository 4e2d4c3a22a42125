/**
 * store.background backed by the worker thread (store-worker.ts) through main/worker/host.ts.
 * Errors come back as AppError when they were AppErrors, otherwise as an Error carrying the
 * SQLite code (never row contents).
 */
import { AppError, errorCodes, type ErrorCode } from '../../common/result';
import type { Logger } from '../log';
import { workerEntry, type WorkerEntry } from '../worker/entry';
import { startWorkerChannel } from '../worker/host';
import type { StoreOps, WorkerInit } from './store-worker';
import type { BackgroundHandle } from './build-store';

export function startBackground(opts: {
  file: string;
  key: Buffer | null;
  nativeBinding?: string;
  logger?: Logger;
  cacheKiB?: number;
  /** Tests: a worker entry that cannot load, to exercise the in-thread fallback (build-store.ts). */
  worker?: WorkerEntry;
}): BackgroundHandle {
  const init: WorkerInit = {
    file: opts.file,
    key: opts.key ? new Uint8Array(opts.key) : null,
    nativeBinding: opts.nativeBinding,
    cacheKiB: opts.cacheKiB,
  };
  const channel = startWorkerChannel<StoreOps>({
    entry: opts.worker ?? workerEntry('store-worker', import.meta.url),
    workerData: init,
    decodeError: ({ code, message }) =>
      (errorCodes as readonly string[]).includes(code)
        ? new AppError(code as ErrorCode, message)
        : Object.assign(new Error(message), { code }),
    stopError: (cause) =>
      new AppError(
        'INTERNAL',
        cause ? 'The background store worker stopped.' : 'The background store worker has exited.',
      ),
    onStop: (cause) => {
      if (cause) opts.logger?.error('store worker failed', { error: cause.name });
    },
  });
  return {
    insertMany: (ms) => channel.call('insertMany', ms),
    search: (query, { cursor, limit }) => channel.call('search', { query, cursor, limit }),
    purgeBefore: (cutoff) => channel.call('purgeBefore', cutoff),
    indexed: () => channel.call('indexed', null),
    checkpoint: () => channel.call('checkpoint', null),
    dead: () => channel.dead() !== null,
    close: () => channel.close(),
  };
}
