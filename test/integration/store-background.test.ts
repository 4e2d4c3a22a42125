import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type NewMessage, type Store } from '../../main/store';
import { startBackground } from '../../main/store/background';
import { buildStore, CHECKPOINT_ROWS } from '../../main/store/build-store';
import { runMigrations } from '../../main/store/migrations';
import { openDb } from '../../main/store/open-db';
import { searchBacklog } from '../support/search-backlog';

let dir: string;
let store: Store;
let storeKey: Buffer;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'store-bg-'));
  storeKey = randomBytes(32);
  store = openStore({ file: join(dir, 'cache.db'), key: storeKey });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const batch = (conversationId: string, n: number, word: string): NewMessage[] =>
  Array.from({ length: n }, (_, i) => ({
    conversationId,
    direction: 'in' as const,
    state: 'delivered' as const,
    body: `${word} report ${i}`,
    originId: `${word}-${i}`,
    sentAt: 10_000 + i,
  }));

describe('store.background on the worker thread', () => {
  it('stores a catch-up batch, then makes it searchable, with dedup across calls', async () => {
    const c = store.conversations.getOrCreate('lab@clinic.example', 0);
    const r = await store.background.insertMany(batch(c.id, 3000, 'hematology'));
    expect(r).toMatchObject({ inserted: 3000, duplicates: 0 });
    // Stored rows are visible to the main connection at once (WAL).
    expect(store.messages.page(c.id, { before: null, limit: 5 }).items[0]?.body).toBe('hematology report 2999');
    expect(store.conversations.get(c.id)?.lastAt).toBe(12_999);
    await store.background.indexed();
    expect(searchBacklog(store.file, storeKey)).toBe(0);
    const found = await store.background.search('hematol', { cursor: null, limit: 200 });
    expect(found.items).toHaveLength(200);
    expect(found.nextCursor).toBe('200');
    const again = await store.background.insertMany(batch(c.id, 10, 'hematology'));
    expect(again).toMatchObject({ inserted: 0, duplicates: 10 });
    expect(again.results[0]!.id).toBe(r.results[0]!.id);
  });

  it('makes a live message searchable immediately even while a catch-up is being indexed', async () => {
    const c = store.conversations.getOrCreate('ward@clinic.example', 0);
    const pending = store.background.insertMany(batch(c.id, 5000, 'cardiology'));
    await pending;
    store.messages.insert({
      conversationId: c.id,
      direction: 'in',
      state: 'delivered',
      body: 'urgent potassium result',
      originId: 'live-1',
      sentAt: 99_999,
    });
    expect(store.messages.search('potassium', { cursor: null, limit: 5 }).items).toHaveLength(1);
    await store.background.indexed();
    expect((await store.background.search('cardiology', { cursor: null, limit: 5 })).items).toHaveLength(5);
  });

  it('reports a bad row as an error without storing any of that chunk', async () => {
    await expect(
      store.background.insertMany([
        { conversationId: '12345', direction: 'in', state: 'delivered', body: 'x', sentAt: 1 },
      ]),
    ).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_FOREIGNKEY' });
    const c = store.conversations.getOrCreate('x@clinic.example', 0);
    expect((await store.background.insertMany(batch(c.id, 2, 'ok'))).inserted).toBe(2);
  });

  it('coalesces calls sent together; a bad row fails only its own call', async () => {
    const c = store.conversations.getOrCreate('pharmacy@clinic.example', 0);
    const calls = [
      store.background.insertMany(batch(c.id, 300, 'alpha')),
      store.background.insertMany([
        ...batch(c.id, 2, 'beta'),
        { conversationId: '77777', direction: 'in', state: 'delivered', body: 'x', sentAt: 1 },
      ]),
      store.background.insertMany(batch(c.id, 200, 'gamma')),
    ];
    const [a, b, g] = await Promise.allSettled(calls);
    expect(a).toMatchObject({ status: 'fulfilled', value: { inserted: 300 } });
    expect(b).toMatchObject({ status: 'rejected', reason: { code: 'SQLITE_CONSTRAINT_FOREIGNKEY' } });
    expect(g).toMatchObject({ status: 'fulfilled', value: { duplicates: 0 } });
    expect((await store.background.search('gamma', { cursor: null, limit: 300 })).items).toHaveLength(200);
    expect((await store.background.search('beta', { cursor: null, limit: 5 })).items).toHaveLength(0);
  });

  it('finishes indexing after a store closed mid-catch-up is reopened', async () => {
    const key = randomBytes(32);
    const f = join(dir, 'resume.db');
    const s1 = openStore({ file: f, key });
    const c = s1.conversations.getOrCreate('q@clinic.example', 0);
    await s1.background.insertMany(batch(c.id, 20_000, 'radiology'));
    await s1.close(); // the worker may be part-way through the index queue
    const s2 = openStore({ file: f, key });
    await s2.background.indexed();
    expect(searchBacklog(f, key)).toBe(0);
    const all = await s2.background.search('radiology report', { cursor: '1990', limit: 200 });
    expect(all.items).toHaveLength(10); // the newest 2,000 matches are ranked; this is the last page
    await s2.close();
  });
});

describe('store.background when the worker thread cannot run', () => {
  it('falls back to the main thread: the catch-up is stored, searchable and deduplicated, and the fallback is logged', async () => {
    const file = join(dir, 'fallback.db');
    const key = randomBytes(32);
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (msg: string) => warnings.push(msg) };
    const db = openDb({ file, key });
    // The packaged app loads dist/main/store-worker.cjs; here the entry does not exist, as when a
    // bundle is missing from app.asar.
    const s = buildStore(db, {
      file,
      version: runMigrations(db),
      logger,
      background: () => startBackground({ file, key, worker: { file: '/nonexistent/store-worker.cjs', tsx: false } }),
    });
    try {
      const c = s.conversations.getOrCreate('lab@clinic.example', 0);
      const r = await s.background.insertMany(batch(c.id, 500, 'serology'));
      expect(r).toMatchObject({ inserted: 500, duplicates: 0 });
      expect(warnings).toEqual(['store: background worker unavailable; heavy work runs on the main thread']);
      expect((await s.background.insertMany(batch(c.id, 500, 'serology'))).duplicates).toBe(500);
      await s.background.indexed();
      expect((await s.background.search('serolog', { cursor: null, limit: 50 })).items).toHaveLength(50);
      expect(s.messages.page(c.id, { before: null, limit: 1 }).items[0]?.body).toBe('serology report 499');
      expect(warnings).toHaveLength(1);
      // Without a worker this connection checkpoints for itself again (open-db.ts's limit).
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBeGreaterThan(0);
    } finally {
      await s.close();
    }
  });
  it(`leaves WAL checkpoints to the worker: the main connection checkpoints in no commit, and the worker resets the WAL after ${CHECKPOINT_ROWS} changed rows`, async () => {
    /** WAL frames left after a catch-up-sized transaction, one `after` transaction and the worker's turn. */
    const framesLeft = async (s: Store, db: ReturnType<typeof openDb>): Promise<number> => {
      const c = s.conversations.getOrCreate('lab@clinic.example', 0);
      // One transaction: the request (if any) follows every frame it wrote.
      s.transaction(() => {
        for (const m of batch(c.id, CHECKPOINT_ROWS, 'pathology')) s.messages.insert(m);
      });
      await s.background.indexed(); // the worker answers in order: after the checkpoint it was asked for
      s.transaction(() => s.messages.insert(batch(c.id, 1, 'after')[0]!));
      // PASSIVE answers how many frames the WAL holds (its own copying comes after the count).
      const [r] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
      return r!.log;
    };
    const open = (name: string, worker: boolean) => {
      const file = join(dir, name);
      const key = randomBytes(32);
      const db = openDb({ file, key });
      const s = buildStore(db, {
        file,
        version: runMigrations(db),
        ...(worker ? { background: () => startBackground({ file, key }) } : {}),
      });
      return { s, db };
    };
    const withWorker = open('worker.db', true);
    const alone = open('alone.db', false);
    try {
      expect(withWorker.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      expect(alone.db.pragma('wal_autocheckpoint', { simple: true })).toBeGreaterThan(0);
      const left = await framesLeft(withWorker.s, withWorker.db);
      const leftAlone = await framesLeft(alone.s, alone.db);
      // Alone, nothing checkpointed yet (under its 64 MiB limit): every frame is still in the WAL
      // (361 pages when written).
      expect(leftAlone).toBeGreaterThan(200);
      // With the worker: the WAL restarted, holding only the last small transaction (10 pages).
      expect(left).toBeLessThan(40);
    } finally {
      await Promise.all([withWorker.s.close(), alone.s.close()]);
    }
  });
});
