import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type NewMessage } from '../../main/store';
import { openDb } from '../../main/store/open-db';

// A real size-limited file system: a 6 MiB tmpfs (we run as root in CI). When mounting is not
// permitted, a loop-mounted ext4 image of the same size is the fallback.
const SIZE_MIB = 6;
let base: string;
let mnt: string;
let loopImage: string | null = null;

function tryMount(): void {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${SIZE_MIB}m`, 'tmpfs', mnt], { stdio: 'pipe' });
    return;
  } catch {
    loopImage = join(base, 'fs.img');
    execFileSync('truncate', ['-s', `${SIZE_MIB}M`, loopImage]);
    execFileSync('mkfs.ext4', ['-q', '-F', loopImage], { stdio: 'pipe' });
    execFileSync('mount', ['-o', 'loop', loopImage, mnt], { stdio: 'pipe' });
  }
}

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'store-full-'));
  mnt = join(base, 'mnt');
  mkdirSync(mnt);
  tryMount();
});
afterAll(() => {
  try {
    // Lazy: a failed assertion leaves the store open, and a busy mount must not outlive the run.
    execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

// `word` makes each batch findable by search; the random hex that follows keeps neither SQLite
// nor the cipher from making the bodies small.
const batch = (conversationId: string, word: string, from: number, n: number, bodyBytes: number): NewMessage[] =>
  Array.from({ length: n }, (_, i) => ({
    conversationId,
    direction: 'in' as const,
    state: 'delivered' as const,
    body: `${word} ${randomBytes(bodyBytes / 2).toString('hex')}`,
    originId: `o-${from + i}`,
    sentAt: 1_000 + from + i,
  }));

describe('disk full during a write', () => {
  it('surfaces SQLITE_FULL, loses nothing committed, keeps nothing of the failed batch, stays usable', async () => {
    const file = join(mnt, 'cache.db');
    const key = randomBytes(32);
    const store = openStore({ file, key });
    const conv = store.conversations.getOrCreate('bob@clinic.example', 0).id;
    store.messages.insertMany(batch(conv, 'committed', 0, 200, 1000));
    const committed = store.messages.page(conv, { before: null, limit: 500 }).items;
    expect(committed).toHaveLength(200);

    // ~20 MiB of bodies into a 6 MiB file system: must fail part-way, with the SQLite code the
    // caller maps to "disk full" (not swallowed, not a generic I/O error).
    let error: unknown;
    try {
      store.messages.insertMany(batch(conv, 'failedbatch', 1_000, 20_000, 1000));
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'SQLITE_FULL' });

    // Nothing lost: every committed message is there unchanged; nothing of the failed batch is
    // visible, neither as a row nor in the search index nor in the conversation's last time.
    expect(store.messages.page(conv, { before: null, limit: 500 }).items).toEqual(committed);
    expect(store.conversations.get(conv)?.lastAt).toBe(1_199);
    expect(store.messages.search('failedbatch', { cursor: null, limit: 5 }).items).toEqual([]);
    expect(store.messages.search('committed', { cursor: null, limit: 500 }).items).toHaveLength(200);
    await store.close();

    // Reopen after the failure: the file and the full-text index are consistent with the
    // committed rows (FTS5 integrity-check with rank 1 compares the index with the messages
    // table and throws SQLITE_CORRUPT_VTAB on any difference), and nothing waits to be indexed.
    const db = openDb({ file, key });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(() =>
      db.prepare("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)").run(),
    ).not.toThrow();
    expect(db.prepare('SELECT count(*) AS n FROM fts_pending').get()).toEqual({ n: 0 });
    expect(db.prepare('SELECT count(*) AS n FROM messages').get()).toEqual({ n: committed.length });
    db.close();

    // Space is still tight but small writes work again once the failed transaction is gone.
    const again = openStore({ file, key });
    expect(again.messages.page(conv, { before: null, limit: 500 }).items).toEqual(committed);
    expect(again.messages.insert(batch(conv, 'later', 5_000, 1, 100)[0]!).inserted).toBe(true);
    expect(again.messages.search('later', { cursor: null, limit: 5 }).items).toHaveLength(1);
    await again.close();
  });
});
