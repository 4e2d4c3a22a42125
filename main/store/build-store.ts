/** Wires the repositories over one open, migrated connection. */
import type { Db } from './open-db';
import { createAttachmentRepo } from './repos/attachments';
import { createAuditRepo } from './repos/audit';
import { createContactRepo } from './repos/contacts';
import { createConversationRepo } from './repos/conversations';
import { createMessageRepo } from './repos/messages';
import { createOutboxRepo } from './repos/outbox';
import { createSettingsRepo } from './repos/settings';
import type { BackgroundOps, Store } from './types';

export interface BuildStoreOptions {
  file: string;
  version: number;
  /** Off-thread variants of heavy operations; defaults to running them on this connection. */
  background?: (store: Store) => BackgroundOps & { close(): Promise<void> };
}

export function buildStore(db: Db, opts: BuildStoreOptions): Store {
  const settings = createSettingsRepo(db);
  let closed = false;
  let bg: (BackgroundOps & { close(): Promise<void> }) | null = null;
  const store: Store = {
    file: opts.file,
    version: opts.version,
    getSetting: (key) => settings.get(key),
    setSetting: (key, value) => settings.set(key, value),
    deleteSetting: (key) => settings.delete(key),
    contacts: createContactRepo(db),
    conversations: createConversationRepo(db),
    messages: createMessageRepo(db),
    outbox: createOutboxRepo(db),
    attachments: createAttachmentRepo(db),
    audit: createAuditRepo(db),
    background: {
      insertMany: (ms) => (bg ? bg.insertMany(ms) : Promise.resolve().then(() => store.messages.insertMany(ms))),
      search: (q, o) => (bg ? bg.search(q, o) : Promise.resolve().then(() => store.messages.search(q, o))),
      indexed: () =>
        bg
          ? bg.indexed()
          : Promise.resolve().then(() => {
              while (store.messages.indexPending(5000) > 0);
            }),
    },
    // IMMEDIATE: take the write lock up front, so a read-then-write never fails with BUSY_SNAPSHOT
    // when the worker committed in between (WAL, two connections).
    transaction: (fn) => db.transaction(fn).immediate(),
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
  if (opts.background) bg = opts.background(store);
  return store;
}
