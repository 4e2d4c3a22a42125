// Issue 12 §7: a message marked Urgent keeps the mark in the encrypted store (migration
// 0009-message-urgent, schema version 9), so the row still shows it after a restart and a
// retry sends it Urgent again.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../main/store';
import { migrations, runMigrations } from '../../main/store/migrations';
import { openDb } from '../../main/store/open-db';

const dirs: string[] = [];
function tmpFile(): string {
  const d = mkdtempSync(join(tmpdir(), 'store-urgent-'));
  dirs.push(d);
  return join(d, 'cache.db');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const URGENT_VERSION = migrations.find((m) => m.name === 'message-urgent')!.version;

describe('0009-message-urgent', () => {
  it('adds messages.urgent: earlier rows are not urgent, and only 0 or 1 is stored', () => {
    const db = openDb({ file: tmpFile(), key: randomBytes(32) });
    runMigrations(db, migrations, URGENT_VERSION - 1);
    db.prepare('INSERT INTO conversations (peer_jid, created_at, last_at) VALUES (?, ?, ?)').run('a@b.c', 1, 1);
    db.prepare(
      "INSERT INTO messages (conversation_id, direction, state, origin_id, body, sent_at) VALUES (1, 'in', 'delivered', 'o-1', 'old', 5)",
    ).run();
    expect(runMigrations(db, migrations, URGENT_VERSION)).toBe(URGENT_VERSION);
    expect(db.prepare('SELECT body, urgent FROM messages').get()).toEqual({ body: 'old', urgent: 0 });
    expect(() => db.prepare('UPDATE messages SET urgent = 2').run()).toThrow(/CHECK/);
    db.close();
  });
});

describe('urgent messages in the store', () => {
  it('keeps the mark across a reopen; other messages carry none', async () => {
    const file = tmpFile();
    const key = randomBytes(32);
    let store = openStore({ file, key });
    const conv = store.conversations.getOrCreate('bob@clinic.test');
    const base = { conversationId: conv.id, direction: 'in' as const, state: 'delivered' as const, sentAt: 10 };
    const urgent = store.messages.insert({ ...base, body: 'come now', originId: 'o-u', urgent: true });
    const normal = store.messages.insert({ ...base, body: 'later', originId: 'o-n', sentAt: 11 });
    await store.close();
    store = openStore({ file, key });
    expect(store.messages.get(urgent.id)?.urgent).toBe(true);
    expect(store.messages.get(normal.id)?.urgent).toBeUndefined();
    await store.close();
  });
});
