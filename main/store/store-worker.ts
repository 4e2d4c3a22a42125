/**
 * The store's worker thread (issue 4 §1): runs catch-up bulk inserts and searches on its own
 * connection to the same SQLCipher file, so the main thread — and with it IPC for the UI — is not
 * held while they run. WAL lets the main connection keep reading meanwhile.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AppError } from '../../common/result';
import { systemClock } from '../clock';
import { openDb } from './open-db';
import { createMessageRepo } from './repos/messages';
import type { NewMessage } from './types';

export interface WorkerInit {
  file: string;
  /** null only for the plain-SQLite benchmark baseline. */
  key: Uint8Array | null;
  nativeBinding?: string;
  cacheKiB?: number;
}
export type WorkerRequest =
  | { id: number; op: 'insertMany'; ms: NewMessage[] }
  | { id: number; op: 'search'; query: string; cursor: string | null; limit: number }
  | { id: number; op: 'indexed' }
  | { id: number; op: 'purgeBefore'; cutoff: number }
  | { id: number; op: 'close' };
export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; code: string; message: string };

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
export const INDEX_CHUNK = 1000;

const init = workerData as WorkerInit;
const key = init.key ? Buffer.from(init.key) : null;
const db = openDb({ file: init.file, key, nativeBinding: init.nativeBinding, onCorrupt: 'throw', cacheKiB: init.cacheKiB });
key?.fill(0);
init.key?.fill(0);
// Index inline (same transaction): measured faster than a separate indexing pass in smaller steps.
// This thread is its own entry point: its timers (indexing steps) run on the system clock. Its
// time is never read for data: the worker changes no message state, and every time it writes
// (sent/received, the purge cutoff) comes in a request from the main thread.
const clock = systemClock;
const messages = createMessageRepo(db, { deferIndex: false, clock });

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

function insertMany(ms: NewMessage[]) {
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
let queued: { id: number; ms: NewMessage[] }[] = [];
function flushInserts(): void {
  const batch = queued;
  queued = [];
  if (batch.length === 0) return;
  const all = batch.flatMap((q) => q.ms);
  try {
    const r = insertMany(all);
    let at = 0;
    for (const q of batch) {
      const results = r.results.slice(at, at + q.ms.length);
      at += q.ms.length;
      const inserted = results.filter((x) => x.inserted).length;
      parentPort!.postMessage({ id: q.id, ok: true, value: { results, inserted, duplicates: q.ms.length - inserted } } satisfies WorkerReply);
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
    for (const q of batch) parentPort!.postMessage(errorReply(q.id, err));
  }
  kickSoon();
}

function errorReply(id: number, err: unknown): WorkerReply {
  const code = err instanceof AppError ? err.code : ((err as { code?: string }).code ?? 'INTERNAL');
  return { id, ok: false, code, message: err instanceof AppError ? err.message : 'store worker operation failed' };
}

parentPort!.on('message', (req: WorkerRequest) => {
  if (req.op === 'insertMany') {
    if (queued.length === 0) setImmediate(flushInserts);
    queued.push({ id: req.id, ms: req.ms });
    return;
  }
  if (queued.length > 0) flushInserts(); // keep request order: a search sees the inserts sent before it
  let reply: WorkerReply;
  try {
    if (req.op === 'close') {
      if (kickTimer !== null) clock.clearTimeout(kickTimer);
      db.close();
      parentPort!.postMessage({ id: req.id, ok: true, value: null } satisfies WorkerReply);
      parentPort!.close();
      return;
    }
    if (req.op === 'indexed') {
      const done = () => parentPort!.postMessage({ id: req.id, ok: true, value: null } satisfies WorkerReply);
      if (kickTimer !== null) {
        clock.clearTimeout(kickTimer);
        kickTimer = null;
        kickIndexer();
      }
      if (indexing) waiters.push(done);
      else done();
      return;
    }
    if (req.op === 'purgeBefore') reply = { id: req.id, ok: true, value: messages.purgeBefore(req.cutoff) };
    else reply = { id: req.id, ok: true, value: messages.search(req.query, { cursor: req.cursor, limit: req.limit }) };
  } catch (err) {
    reply = errorReply(req.id, err);
  }
  parentPort!.postMessage(reply);
});
