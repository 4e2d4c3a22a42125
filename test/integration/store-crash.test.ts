import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../main/store';
import { openDb } from '../../main/store/open-db';

// The writer runs in its own Node process (tsx) so SIGKILL hits it mid-transaction, with
// uncommitted pages already spilled into the WAL (small page cache on purpose).
const CHILD = `
import { buildStore } from ${JSON.stringify(resolve('main/store/build-store.ts'))};
import { runMigrations } from ${JSON.stringify(resolve('main/store/migrations/index.ts'))};
import { openDb } from ${JSON.stringify(resolve('main/store/open-db.ts'))};
import { randomBytes } from 'node:crypto';
const key = Buffer.from(process.env.STORE_KEY_HEX, 'hex');
const db = openDb({ file: process.env.STORE_FILE, key, cacheKiB: 1024 });
const store = buildStore(db, { file: process.env.STORE_FILE, version: runMigrations(db) });
const conv = store.conversations.getOrCreate('bob@clinic.example', 0).id;
store.transaction(() => {
  for (let i = 0; ; i++) {
    store.messages.insert({ conversationId: conv, direction: 'in', state: 'delivered', body: randomBytes(400).toString('hex'), originId: 'o' + i, sentAt: i });
    if (i === 4000) process.stdout.write('in-transaction\\n');
  }
});
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'store-crash-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('crash mid-transaction', () => {
  it('opens afterwards, passes integrity_check and shows only committed rows', async () => {
    const file = join(dir, 'cache.db');
    const key = randomBytes(32);
    const s = openStore({ file, key });
    const conv = s.conversations.getOrCreate('alice@clinic.example', 0).id;
    s.messages.insertMany(
      Array.from({ length: 50 }, (_, i) => ({
        conversationId: conv,
        direction: 'out' as const,
        state: 'sent' as const,
        body: `committed ${i}`,
        originId: `c${i}`,
        sentAt: i,
      })),
    );
    await s.close();

    const script = join(dir, 'writer.mts');
    writeFileSync(script, CHILD);
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, STORE_FILE: file, STORE_KEY_HEX: key.toString('hex') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolveStarted, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('in-transaction')) resolveStarted();
      });
      child.on('exit', (code) => reject(new Error(`writer exited early (${code}): ${stderr.slice(0, 500)}`)));
    });
    const walBytes = statSync(`${file}-wal`).size;
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(child.signalCode).toBe('SIGKILL');
    expect(walBytes).toBeGreaterThan(500_000); // uncommitted frames were on disk when it died

    const db = openDb({ file, key });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.prepare("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')").run();
    expect(db.prepare('SELECT count(*) AS n FROM messages').get()).toEqual({ n: 50 });
    expect(db.prepare("SELECT count(*) AS n FROM conversations WHERE peer_jid = 'bob@clinic.example'").get()).toEqual({
      n: 1,
    });
    db.close();
    const again = openStore({ file, key });
    expect(again.messages.page(conv, { before: null, limit: 100 }).items).toHaveLength(50);
    await again.close();
  }, 60_000);
});
