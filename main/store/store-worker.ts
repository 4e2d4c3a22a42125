/**
 * The store's worker thread (issue 4 §1): runs catch-up bulk inserts and searches on its own
 * connection to the same SQLCipher file, so the main thread — and with it IPC for the UI — is not
 * held while they run. WAL lets the main connection keep reading meanwhile.
 */
import { workerData } from 'node:worker_threads';
import { AppError } from '../../common/result';
import { systemClock } from '../clock';
import type { WireError } from '../worker/protocol';
import { serveWorker } from '../worker/serve';
import { openDb } from './open-db';
import { createMessageRepo } from './repos/messages';
import type { BulkInsertResult, NewMessage, Page, SearchHit } from './types';

export interface WorkerInit {
  file: string;
  /** null only for the plain-SQLite benchmark baseline. */
  key: Uint8Array | null;
  nativeBinding?: string;
  cacheKiB?: number;
}
export type StoreOps = {
  insertMany: { args: NewMessage[]; result: BulkInsertResult };
  search: { args: { query: string; cursor: string | null; limit: number }; result: Page<SearchHit> };
  /** Resolves when the full-text queue is empty. */
  indexed: { args: null; result: void };
  purgeBefore: { args: number; result: number };
  /** A passive WAL checkpoint on this connection, for the main one (build-store.ts). */
  checkpoint: { args: null; result: void };
};

/**
 * Rows per write transaction. Each commit costs work that grows with the database (FTS5 flushes
 * a segment per commit; each commit rewrites every index page it touched), so throughput depends
 * on rows per transaction. Measured at 300k messages (16 KiB pages, msg per CPU-second):
 * 5,000 → 22k, 10,000 → 32k, 20,000 → 36k. 10,000 rows hold the write lock ~0.3 s on this
 * machine — the longest a main-thread write (live message, audit row) waits during a catch-up;
 * reads never wait (WAL). Requests that queue up while the worker is busy are coalesced.
 * Re-measured with the version-5 indexes at 1M messages (1,000 conversations, 4 KiB pages,
 * encrypted, one thread, msg/s incl. the final checkpoint): 10,000 → 39k, 20,000 → 43k,
 * 50,000 → 46k. Larger transactions buy little and hold the lock for over a second: 10,000 stays.
 */
export const INSERT_CHUNK = 10_000;
/** Rows per indexing step; between steps the worker answers searches and other requests. */
const INDEX_CHUNK = 1000;

const init = workerData as WorkerInit;
const key = init.key ? Buffer.from(init.key) : null;
const db = openDb({
  file: init.file,
  key,
  nativeBinding: init.nativeBinding,
  onCorrupt: 'throw',
  cacheKiB: init.cacheKiB,
});
key?.fill(0);
init.key?.fill(0);
// Index inline (same transaction): measured faster than a separate indexing pass in smaller steps.
// This thread is its own entry point: its timers (indexing steps) run on the system clock. Its
// time is never read for data: the worker changes no message state, and every time it writes
// (sent/received, the purge cutoff) comes in a request from the main thread.
const clock = systemClock;
const messages = createMessageRepo(db, { clock });

// The indexer runs in steps on the worker's event loop so queued searches are answered between them.
let indexing = false;
const waiters: (() => void)[] = [];
function kickIndexer(): void {
  if (indexing) return;
  indexing = true;
  let failures = 0;
  const step = () => {
    let n = 0;
    try {
      n = messages.indexPending(INDEX_CHUNK);
      failures = 0;
    } catch {
      // BUSY beyond busy_timeout, disk full: the queue stays intact; retry a few times, then leave
      // it for the next catch-up or the next open.
      if (++failures < 20 && db.open) {
        clock.setTimeout(step, 50);
        return;
      }
    }
    if (n > 0) setImmediate(step);
    else {
      indexing = false;
      for (const w of waiters.splice(0)) w();
    }
  };
  setImmediate(step);
}
kickIndexer(); // a queue left by an interrupted catch-up

// Catch-up arrives as a stream of batches: index once the stream pauses, so the batches
// themselves land (and show in the UI) at full speed.
let kickTimer: unknown = null;
function kickSoon(): void {
  if (kickTimer !== null) clock.clearTimeout(kickTimer);
  kickTimer = clock.setTimeout(() => {
    kickTimer = null;
    kickIndexer();
  }, 25);
}

function insertMany(ms: NewMessage[]): BulkInsertResult {
  const results = [];
  let inserted = 0;
  for (let i = 0; i < ms.length; i += INSERT_CHUNK) {
    const r = messages.insertMany(ms.slice(i, i + INSERT_CHUNK));
    results.push(...r.results);
    inserted += r.inserted;
  }
  return { results, inserted, duplicates: ms.length - inserted };
}

// insertMany requests that arrive together share transactions (see INSERT_CHUNK).
interface QueuedInsert {
  ms: NewMessage[];
  resolve(r: BulkInsertResult): void;
  reject(err: unknown): void;
}
let queued: QueuedInsert[] = [];
function flushInserts(): void {
  const batch = queued;
  queued = [];
  if (batch.length === 0) return;
  try {
    const r = insertMany(batch.flatMap((q) => q.ms));
    let at = 0;
    for (const q of batch) {
      const results = r.results.slice(at, at + q.ms.length);
      at += q.ms.length;
      const inserted = results.filter((x) => x.inserted).length;
      q.resolve({ results, inserted, duplicates: q.ms.length - inserted });
    }
  } catch (err) {
    if (batch.length > 1) {
      // Retry one by one so only the request with the bad row fails. Chunks that committed before the
      // failure come back as duplicates (inserted: false) on the retry: the rows are stored either way.
      for (const q of batch) {
        queued = [q];
        flushInserts();
      }
      return;
    }
    for (const q of batch) q.reject(err);
  }
  kickSoon();
}

/** Keeps request order: a search sees the inserts sent before it. */
function inOrder<A, R>(fn: (args: A) => R): (args: A) => R {
  return (args) => {
    if (queued.length > 0) flushInserts();
    return fn(args);
  };
}

function encodeError(err: unknown): WireError {
  const code = err instanceof AppError ? err.code : ((err as { code?: string }).code ?? 'INTERNAL');
  return { code, message: err instanceof AppError ? err.message : 'store worker operation failed' };
}

serveWorker<StoreOps>(
  {
    insertMany: (ms) =>
      new Promise<BulkInsertResult>((resolve, reject) => {
        if (queued.length === 0) setImmediate(flushInserts);
        queued.push({ ms, resolve, reject });
      }),
    search: inOrder(({ query, cursor, limit }) => messages.search(query, { cursor, limit })),
    purgeBefore: inOrder((cutoff) => messages.purgeBefore(cutoff)),
    // PASSIVE: copies what no reader still needs and never waits for the main connection's writes.
    checkpoint: inOrder(() => {
      db.pragma('wal_checkpoint(PASSIVE)');
    }),
    indexed: inOrder(
      () =>
        new Promise<void>((resolve) => {
          if (kickTimer !== null) {
            clock.clearTimeout(kickTimer);
            kickTimer = null;
            kickIndexer();
          }
          if (indexing) waiters.push(resolve);
          else resolve();
        }),
    ),
  },
  {
    encodeError,
    onClose() {
      if (queued.length > 0) flushInserts();
      if (kickTimer !== null) clock.clearTimeout(kickTimer);
      db.close();
    },
  },
);
