/** Wires the repositories over one open, migrated connection. */
import { systemClock, type Clock } from '../clock';
import { errorName, type Logger } from '../log';
import { autoCheckpoint, type Db } from './open-db';
import { createAttachmentRepo } from './repos/attachments';
import { createAuditRepo } from './repos/audit';
import { createContactRepo } from './repos/contacts';
import { createDraftRepo } from './repos/drafts';
import { createConversationRepo } from './repos/conversations';
import { createMessageRepo } from './repos/messages';
import { createOutboxRepo } from './repos/outbox';
import { createPatientConversationRepo } from './repos/patient-conversations';
import { createPatientTextRepo } from './repos/patient-texts';
import { createPatientListRepo } from './repos/patient-lists';
import { createReplayRepo } from './repos/replay';
import { createRoomRepo } from './repos/rooms';
import { createRoomReadRepo } from './repos/room-reads';
import { createSettingsRepo } from './repos/settings';
import type { BackgroundOps, Store } from './types';

/** A background (worker) implementation; dead() is true once its thread failed or exited. */
export type BackgroundHandle = BackgroundOps & {
  /** A passive WAL checkpoint on the worker's connection (see CHECKPOINT_ROWS). */
  checkpoint(): Promise<void>;
  close(): Promise<void>;
  dead(): boolean;
};

/**
 * Rows this connection changes between two WAL checkpoints, which the worker runs while there is
 * one. SQLite's automatic checkpoint runs inside the commit that crosses its limit, on the thread
 * that commits: with SQLCipher every page it copies is decrypted and encrypted again, and the main
 * thread's catch-up commit that crossed 64 MiB took 120 ms (issue 13: the event loop never stalls
 * 50 ms). So this connection checkpoints nothing itself while the worker lives; after every
 * transaction that brought its changes to this many rows since the last request, the worker is
 * asked for a PASSIVE checkpoint, which never blocks this connection's writers. A few thousand
 * rows are some MiB of WAL; the worker's own bulk inserts keep their automatic checkpoint.
 */
export const CHECKPOINT_ROWS = 5_000;

export interface BuildStoreOptions {
  file: string;
  version: number;
  /** Off-thread variants of heavy operations; defaults to running them on this connection. */
  background?: (store: Store) => BackgroundHandle;
  logger?: Logger;
  /** Default time for rows written without an explicit one; openStore passes the session's. */
  clock?: Pick<Clock, 'now'>;
}

export function buildStore(db: Db, opts: BuildStoreOptions): Store {
  const settings = createSettingsRepo(db);
  const clock = opts.clock ?? systemClock;
  const patientTexts = createPatientTextRepo(db, clock);
  let closed = false;
  let bg: BackgroundHandle | null = null;
  const totalChanges = db.prepare<[], number>('SELECT total_changes()').pluck();
  let changedAtRequest = 0;
  let checkpointing = false;
  /** The worker is gone: this connection checkpoints for itself again (open-db.ts's limit). */
  const lostWorker = (b: BackgroundHandle) => {
    if (bg !== b) return;
    bg = null;
    if (!closed) autoCheckpoint(db, true);
  };
  const maybeCheckpoint = () => {
    const b = bg;
    if (!b || checkpointing) return;
    const n = totalChanges.get() ?? 0;
    if (n - changedAtRequest < CHECKPOINT_ROWS) return;
    changedAtRequest = n;
    checkpointing = true;
    b.checkpoint()
      .catch((err: unknown) => {
        // Busy or a full disk: the WAL stays and the next request tries again; nothing is lost.
        if (!closed && b.dead()) lostWorker(b);
        else if (!closed) opts.logger?.warn('store: WAL checkpoint failed', { error: errorName(err) });
      })
      .finally(() => (checkpointing = false));
  };
  /**
   * Runs a heavy operation on the worker; on this connection when there is none, or once the
   * worker's thread has failed (e.g. its bundle cannot be loaded from the packaged app): then the
   * UI may stall during a catch-up, but nothing is lost. A call the dead worker left unanswered is
   * re-run here — safe for all three operations (inserts dedup, search and indexed() only read or
   * drain the queue).
   */
  const heavy = <T>(onWorker: (b: BackgroundHandle) => Promise<T>, here: () => T): Promise<T> => {
    const b = bg;
    if (!b) return Promise.resolve().then(here);
    return onWorker(b).catch((err: unknown) => {
      if (closed || !b.dead()) throw err;
      if (bg === b) {
        lostWorker(b);
        opts.logger?.warn('store: background worker unavailable; heavy work runs on the main thread', {
          error: errorName(err),
        });
      }
      return here();
    });
  };
  const store: Store = {
    file: opts.file,
    version: opts.version,
    getSetting: (key) => settings.get(key),
    setSetting: (key, value) => settings.set(key, value),
    contacts: createContactRepo(db, clock),
    conversations: createConversationRepo(db, clock),
    messages: createMessageRepo(db, { clock }),
    outbox: createOutboxRepo(db, clock),
    audit: createAuditRepo(db),
    replay: createReplayRepo(db),
    drafts: createDraftRepo(db, clock),
    patientTexts,
    patientConversations: createPatientConversationRepo(db, patientTexts, settings),
    patientLists: createPatientListRepo(db, clock),
    rooms: createRoomRepo(db, clock),
    roomReads: createRoomReadRepo(db),
    attachments: createAttachmentRepo(db, clock),
    background: {
      insertMany: (ms) =>
        heavy(
          (b) => b.insertMany(ms),
          () => store.messages.insertMany(ms),
        ),
      search: (q, o) =>
        heavy(
          (b) => b.search(q, o),
          () => store.messages.search(q, o),
        ),
      purgeBefore: (cutoff) =>
        heavy(
          (b) => b.purgeBefore(cutoff),
          () => store.messages.purgeBefore(cutoff),
        ),
      indexed: () =>
        heavy(
          (b) => b.indexed(),
          () => {
            while (store.messages.indexPending(5000) > 0);
          },
        ),
    },
    // IMMEDIATE: take the write lock up front, so a read-then-write never fails with BUSY_SNAPSHOT
    // when the worker committed in between (WAL, two connections).
    transaction: (fn) => {
      const out = db.transaction(fn).immediate();
      maybeCheckpoint();
      return out;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (bg) await bg.close();
      try {
        db.pragma('wal_checkpoint(TRUNCATE)');
      } catch {
        // e.g. disk full: the WAL stays and is replayed on the next open; nothing is lost.
      }
      db.close();
    },
  };
  if (opts.background) {
    bg = opts.background(store);
    autoCheckpoint(db, false);
  }
  return store;
}
