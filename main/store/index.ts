/**
 * The encrypted local cache (ARCHITECTURE.md §5, issue 4). Call openStore with the vault's raw
 * 32-byte db key; it throws AppError STORE_WRONG_KEY | STORE_CORRUPT | STORE_TOO_NEW.
 */
import { AppError } from '../../common/result';
import { systemClock } from '../clock';
import { startBackground } from './background';
import { buildStore } from './build-store';
import { runMigrations } from './migrations';
import { openDb } from './open-db';
import type { OpenStoreOptions, Store } from './types';

export type * from './types';

export function openStore(opts: OpenStoreOptions): Store {
  if (!Buffer.isBuffer(opts.key) || opts.key.length !== 32) {
    throw new AppError('INTERNAL', 'The store key must be 32 bytes.');
  }
  // Tests that do not care about time open a store without a clock; the session passes its own.
  const clock = opts.clock ?? systemClock;
  const db = openDb({
    file: opts.file,
    key: opts.key,
    logger: opts.logger,
    nativeBinding: opts.nativeBinding,
    pageSize: opts.pageSize,
    cacheKiB: opts.cacheKiB,
    clock,
  });
  let version: number;
  try {
    version = runMigrations(db);
  } catch (err) {
    db.close();
    throw err;
  }
  opts.logger?.info('store: opened', { version });
  const worker = opts.worker ?? true;
  return buildStore(db, {
    file: opts.file,
    version,
    logger: opts.logger,
    clock,
    ...(worker
      ? {
          background: () =>
            startBackground({
              file: opts.file,
              key: opts.key,
              nativeBinding: opts.nativeBinding,
              logger: opts.logger,
              cacheKiB: opts.cacheKiB,
            }),
        }
      : {}),
  });
}
