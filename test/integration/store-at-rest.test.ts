import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuditLog } from '../../main/audit';
import { openStore, type Store } from '../../main/store';
import { buildStore } from '../../main/store/build-store';
import { runMigrations } from '../../main/store/migrations';
import { openDb } from '../../main/store/open-db';

// HIPAA §164.312(a)(2)(iv): nothing readable at rest. Distinctive strings so a hit means a leak.
const SECRETS = {
  body: 'Patient Zebediah Quackenbush hemoglobin 7.2 transfuse today',
  name: 'Philippa Oyelaran-Nightingale',
  jid: 'philippa.oyelaran@stmungo-clinic.example',
  password: 'xmpp-pw-Kettlebell-Marmalade-42',
};
const needles = Object.values(SECRETS).flatMap((s) => [Buffer.from(s, 'utf8'), Buffer.from(s, 'utf16le')]);
// Short distinctive fragments too: FTS5 stores tokens, not whole sentences.
needles.push(Buffer.from('quackenbush'), Buffer.from('Quackenbush'), Buffer.from('zebediah'), Buffer.from('stmungo'));

function writeKnownData(store: Store): void {
  store.setSetting('account', { jid: 'me@stmungo-clinic.example', password: SECRETS.password });
  store.contacts.upsert({ jid: SECRETS.jid, displayName: SECRETS.name, role: 'physician' });
  const c = store.conversations.getOrCreate(SECRETS.jid);
  for (let i = 0; i < 50; i++) {
    store.messages.insert({
      conversationId: c.id,
      direction: i % 2 ? 'in' : 'out',
      state: 'delivered',
      body: `${SECRETS.body} #${i}`,
      originId: `o${i}`,
      sentAt: i,
    });
  }
}

function leaks(file: string): string[] {
  const found: string[] = [];
  for (const suffix of ['', '-wal', '-shm']) {
    if (!existsSync(file + suffix)) continue;
    const bytes = readFileSync(file + suffix);
    // Report which file and which needle index, never the string itself.
    needles.forEach((n, i) => {
      if (bytes.includes(n)) found.push(`${suffix || 'db'}#${i}`);
    });
  }
  return found;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'store-at-rest-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('at rest', () => {
  it('leaves no known string in the database, -wal or -shm files, open or closed', async () => {
    const file = join(dir, 'cache.db');
    const store = openStore({ file, key: randomBytes(32) });
    writeKnownData(store);
    createAuditLog({ store, key: randomBytes(32) }).append('message-sent', { to: SECRETS.jid });
    // While open: most pages are still in the WAL.
    expect(existsSync(`${file}-wal`)).toBe(true);
    expect(readFileSync(`${file}-wal`).length).toBeGreaterThan(0);
    expect(leaks(file)).toEqual([]);
    await store.close();
    expect(leaks(file)).toEqual([]);
    expect(readFileSync(`${file}.keycheck`, 'utf8')).not.toContain(SECRETS.jid);
  });

  it('control: the same search finds the strings in an unencrypted database', async () => {
    const file = join(dir, 'plain.db');
    const db = openDb({ file, key: null });
    const store = buildStore(db, { file, version: runMigrations(db) });
    writeKnownData(store);
    const found = leaks(file);
    await store.close();
    expect(found.length).toBeGreaterThan(0);
    expect(leaks(file).some((f) => f.startsWith('db#'))).toBe(true);
  });
});
