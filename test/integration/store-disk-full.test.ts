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
    execFileSync('umount', [mnt], { stdio: 'pipe' });
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

const batch = (conversationId: string, from: number, n: number, bodyBytes: number): NewMessage[] =>
  Array.from({ length: n }, (_, i) => ({
    conversationId,
    direction: 'in' as const,
    state: 'delivered' as const,
    // Random text so neither SQLite nor the cipher can make it small.
    body: randomBytes(bodyBytes / 2).toString('hex'),
    originId: `o-${from + i}`,
    sentAt: 1_000 + from + i,
  }));

describe('disk full during a write', () => {
  it('rolls the transaction back, keeps the database consistent and usable', async () => {
    const file = join(mnt, 'cache.db');
    const key = randomBytes(32);
    const store = openStore({ file, key });
    const conv = store.conversations.getOrCreate('bob@clinic.example', 0).id;
    store.messages.insertMany(batch(conv, 0, 200, 1000));
    const before = store.messages.page(conv, { before: null, limit: 200 }).items.length;
    expect(before).toBe(200);

    // ~20 MiB of bodies into a 6 MiB file system: must fail part-way.
    let error: unknown;
    try {
      store.messages.insertMany(batch(conv, 1_000, 20_000, 1000));
    } catch (err) {
      error = err;
    }
    expect(error).toBeDefined();
    expect((error as { code?: string }).code).toMatch(/SQLITE_FULL|SQLITE_IOERR/);

    // Nothing of the failed batch is visible; what was there is intact and readable.
    expect(store.messages.page(conv, { before: null, limit: 500 }).items).toHaveLength(before);
    expect(store.conversations.get(conv)?.lastAt).toBe(1_199);
    expect(store.messages.search('zzzz', { cursor: null, limit: 5 }).items).toEqual([]);
    await store.close();

    // Reopen after the failure: integrity_check passes and the data is the committed data.
    const db = openDb({ file, key });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.prepare("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')").run().changes).toBeGreaterThanOrEqual(0);
    expect(db.prepare('SELECT count(*) AS n FROM messages').get()).toEqual({ n: before });
    db.close();

    // Space is still tight but small writes work again once the failed transaction is gone.
    const again = openStore({ file, key });
    expect(again.messages.insert(batch(conv, 5_000, 1, 100)[0]!).inserted).toBe(true);
    await again.close();
  });
});
