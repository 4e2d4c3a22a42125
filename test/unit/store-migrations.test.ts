import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../common/result';
import { openStore } from '../../main/store';
import { checkRegistry, latestVersion, migrations, runMigrations, type Migration } from '../../main/store/migrations';
import { openDb } from '../../main/store/open-db';
import { dedupKey, idKey } from '../../main/store/dedup-key';
import { createFtsIndexer } from '../../main/store/repos/fts-index';

const dirs: string[] = [];
function tmpFile(): string {
  const d = mkdtempSync(join(tmpdir(), 'store-mig-'));
  dirs.push(d);
  return join(d, 'cache.db');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('migration registry', () => {
  it('accepts the shipped registry: versions 1..n without gaps', () => {
    expect(() => checkRegistry(migrations)).not.toThrow();
    expect(latestVersion()).toBe(migrations.length);
    expect(migrations.map((m) => m.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]);
  });

  it('refuses a registry that does not strictly increase', () => {
    const up = () => {};
    const bad: Migration[] = [
      { version: 1, name: 'a', up },
      { version: 3, name: 'b', up },
    ];
    expect(() => checkRegistry(bad)).toThrow(/out of order/);
    expect(() =>
      checkRegistry([
        { version: 2, name: 'a', up },
        { version: 1, name: 'b', up },
      ]),
    ).toThrow(/out of order/);
  });

  it('rolls a failing migration back entirely, user_version unchanged', () => {
    const db = openDb({ file: tmpFile(), key: randomBytes(32) });
    const broken: Migration[] = [
      ...migrations,
      {
        version: migrations.length + 1,
        name: 'broken',
        up: (d) => {
          d.exec('CREATE TABLE half_done (x INTEGER) STRICT');
          d.exec('THIS IS NOT SQL');
        },
      },
    ];
    runMigrations(db);
    expect(() => runMigrations(db, broken)).toThrow();
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'half_done'").get()).toEqual({ n: 0 });
    db.close();
  });
});

describe('0001-init', () => {
  it('builds the schema from an empty database: STRICT tables, FTS5, user_version 1', () => {
    const file = tmpFile();
    const db = openDb({ file, key: randomBytes(32) });
    expect(db.pragma('user_version', { simple: true })).toBe(0);
    expect(runMigrations(db, migrations, 1)).toBe(1);
    const tables = db
      .prepare<[], { name: string; strict: number }>(
        "SELECT name, strict FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'messages_fts%'",
      )
      .all();
    expect(tables.map((t) => t.name).sort()).toEqual([
      'attachments',
      'audit_head',
      'audit_log',
      'contacts',
      'conversations',
      'messages',
      'outbox',
      'settings',
    ]);
    expect(tables.every((t) => t.strict === 1)).toBe(true);
    const fts = db.prepare<[], { sql: string }>("SELECT sql FROM sqlite_master WHERE name = 'messages_fts'").get();
    expect(fts?.sql).toMatch(/unicode61 remove_diacritics 2/);
    // Insert through the new schema, then check the constraints the app relies on.
    db.prepare('INSERT INTO conversations (peer_jid, created_at, last_at) VALUES (?, ?, ?)').run('a@b.c', 1, 1);
    const ins = db.prepare(
      "INSERT INTO messages (conversation_id, direction, state, origin_id, body, sent_at) VALUES (1, 'in', 'delivered', ?, ?, 5) ON CONFLICT DO NOTHING",
    );
    expect(ins.run('o1', 'hello').changes).toBe(1);
    expect(ins.run('o1', 'hello again').changes).toBe(0);
    expect(() =>
      db
        .prepare("INSERT INTO messages (conversation_id, direction, state, sent_at) VALUES (1, 'in', 'bogus', 1)")
        .run(),
    ).toThrow(/CHECK/);
    expect(() =>
      db
        .prepare("INSERT INTO messages (conversation_id, direction, state, sent_at) VALUES (99, 'in', 'sent', 1)")
        .run(),
    ).toThrow(/FOREIGN KEY/);
    expect(db.prepare("SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'hel*'").all()).toEqual([{ rowid: 1 }]);
    db.close();
  });

  it('is applied once: reopening an up-to-date store runs nothing', async () => {
    const file = tmpFile();
    const key = randomBytes(32);
    const s = openStore({ file, key });
    s.setSetting('marker', { v: 1 });
    await s.close();
    const again = openStore({ file, key });
    expect(again.version).toBe(latestVersion());
    expect(again.getSetting('marker')).toEqual({ v: 1 });
    await again.close();
  });
});

describe('0002-deferred-fts-index', () => {
  it('keeps rows indexed under v1 searchable and queues new rows for the indexer', () => {
    const db = openDb({ file: tmpFile(), key: randomBytes(32) });
    runMigrations(db, migrations, 1);
    db.prepare('INSERT INTO conversations (peer_jid, created_at, last_at) VALUES (?, ?, ?)').run('a@b.c', 1, 1);
    const ins = db.prepare(
      "INSERT INTO messages (conversation_id, direction, state, body, sent_at) VALUES (1, 'in', 'delivered', ?, 5)",
    );
    ins.run('old penicillin note');
    ins.run('old aspirin note');
    const match = (q: string) =>
      db
        .prepare<[string], { rowid: number }>(
          'SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid',
        )
        .all(q)
        .map((r) => r.rowid);
    expect(match('penicillin')).toEqual([1]);

    expect(runMigrations(db, migrations, 2)).toBe(2);
    expect(match('penicillin')).toEqual([1]); // nothing re-indexed or lost
    ins.run('new penicillin note');
    expect(db.prepare('SELECT id FROM fts_pending').all()).toEqual([{ id: 3 }]);
    expect(match('penicillin')).toEqual([1]); // queued, not yet searchable
    const idx = createFtsIndexer(db);
    expect(idx.indexSome(10)).toBe(1);
    expect(match('penicillin')).toEqual([1, 3]);
    // Deleting an indexed row and a queued row both leave FTS5 consistent.
    ins.run('queued then deleted');
    db.prepare('DELETE FROM messages WHERE id IN (2, 4)').run();
    db.prepare("UPDATE messages SET body = 'edited amoxicillin' WHERE id = 1").run();
    idx.indexSome(10);
    expect(match('aspirin')).toEqual([]);
    expect(match('penicillin')).toEqual([3]);
    expect(match('amoxicillin')).toEqual([1]);
    db.prepare("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')").run();
    expect(db.prepare('SELECT count(*) AS n FROM fts_pending').get()).toEqual({ n: 0 });
    db.close();
  });
});

describe('0003-fts-merge-tuning', () => {
  it('sets FTS5 automerge without touching rows or the index; search still finds old and new rows', () => {
    const db = openDb({ file: tmpFile(), key: randomBytes(32) });
    runMigrations(db, migrations, 2);
    db.prepare('INSERT INTO conversations (peer_jid, created_at, last_at) VALUES (?, ?, ?)').run('a@b.c', 1, 1);
    const ins = db.prepare(
      "INSERT INTO messages (conversation_id, direction, state, body, sent_at) VALUES (1, 'in', 'delivered', ?, 5)",
    );
    ins.run('indexed penicillin note');
    ins.run('queued aspirin note');
    const idx = createFtsIndexer(db);
    idx.indexOne(1); // row 2 stays queued across the migration
    const automerge = () =>
      db.prepare<[], { v: number }>("SELECT v FROM messages_fts_config WHERE k = 'automerge'").get()?.v;
    expect(automerge()).toBeUndefined(); // FTS5 default (4) before
    const before = db.prepare('SELECT id, body FROM messages ORDER BY id').all();

    expect(runMigrations(db, migrations, 3)).toBe(3);
    expect(automerge()).toBe(8);
    expect(db.prepare('SELECT id, body FROM messages ORDER BY id').all()).toEqual(before);
    expect(db.prepare('SELECT id FROM fts_pending').all()).toEqual([{ id: 2 }]);
    idx.indexSome(10);
    const match = (q: string) =>
      db
        .prepare<[string], { rowid: number }>(
          'SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid',
        )
        .all(q)
        .map((r) => r.rowid);
    expect(match('penicillin')).toEqual([1]);
    expect(match('aspirin')).toEqual([2]);
    db.prepare("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')").run();
    db.close();
  });
});

describe('0004-dedup-keys', () => {
  it('keys existing XEP-0359 ids, swaps the text indexes for key indexes, and still refuses a re-delivery', () => {
    const db = openDb({ file: tmpFile(), key: randomBytes(32) });
    runMigrations(db, migrations, 3);
    db.prepare('INSERT INTO conversations (peer_jid, created_at, last_at) VALUES (?, ?, ?)').run('a@b.c', 1, 1);
    const ins = db.prepare(
      "INSERT INTO messages (conversation_id, direction, state, origin_id, stanza_id, body, sent_at) VALUES (1, 'in', 'delivered', ?, ?, ?, 5)",
    );
    ins.run('9b2f6a1e-0c4d-4e8a-b1f2-3c4d5e6f7a8b', 'arch-1', 'first note');
    ins.run('o-2', null, 'second note');
    ins.run(null, 'arch-3', 'third note');
    ins.run(null, null, 'no ids');
    const before = db.prepare('SELECT id, origin_id, stanza_id, body FROM messages ORDER BY id').all();

    expect(runMigrations(db, migrations, 4)).toBe(4);
    expect(db.prepare('SELECT id, origin_id, stanza_id, body FROM messages ORDER BY id').all()).toEqual(before);
    const keys = db
      .prepare<
        [],
        { origin_id: string | null; stanza_id: string | null; origin_key: number | null; stanza_key: number | null }
      >('SELECT origin_id, stanza_id, origin_key, stanza_key FROM messages ORDER BY id')
      .all();
    for (const k of keys) {
      expect(k.origin_key).toBe(k.origin_id === null ? null : dedupKey(k.origin_id));
      expect(k.stanza_key).toBe(k.stanza_id === null ? null : dedupKey(k.stanza_id));
    }
    const indexes = db
      .prepare<[], { name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages' ORDER BY name",
      )
      .all()
      .map((r) => r.name);
    expect(indexes).toEqual(
      expect.arrayContaining([
        'messages_origin_key',
        'messages_origin_unkeyed',
        'messages_stanza_key',
        'messages_stanza_unkeyed',
      ]),
    );
    expect(indexes).not.toContain('messages_origin');
    expect(indexes).not.toContain('messages_stanza');
    // The unique key indexes now make a re-delivery a no-op.
    const again = db.prepare(
      "INSERT INTO messages (conversation_id, direction, state, origin_id, origin_key, body, sent_at) VALUES (1, 'in', 'delivered', ?, ?, 'x', 6) ON CONFLICT DO NOTHING",
    );
    expect(again.run('o-2', dedupKey('o-2')).changes).toBe(0);
    expect(again.run('o-new', dedupKey('o-new')).changes).toBe(1);
    // Lookups the repository makes go through the key index, not a scan.
    const plan = db
      .prepare<[], { detail: string }>(
        "EXPLAIN QUERY PLAN SELECT * FROM messages WHERE conversation_id = 1 AND origin_key = 5 AND origin_id = 'o'",
      )
      .all();
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/messages_origin_key/);
    const planUnkeyed = db
      .prepare<[], { detail: string }>(
        "EXPLAIN QUERY PLAN SELECT * FROM messages WHERE conversation_id = 1 AND origin_key IS NULL AND origin_id = 'o'",
      )
      .all();
    expect(planUnkeyed.map((p) => p.detail).join(' ')).toMatch(/messages_origin_unkeyed/);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });
});

describe('0005-ordered-id-keys', () => {
  it('re-keys UUIDv7 ids by time, makes origin keys unique table-wide, and keys stanza-ids only of origin-less rows', () => {
    const db = openDb({ file: tmpFile(), key: randomBytes(32) });
    runMigrations(db, migrations, 4);
    const conv = db.prepare('INSERT INTO conversations (peer_jid, created_at, last_at) VALUES (?, ?, ?)');
    conv.run('a@b.c', 1, 1);
    conv.run('d@e.f', 1, 1);
    const v7 = '019ac8f0-1a2b-7c3d-8e4f-5a6b7c8d9e0f'; // 2025-11-28, the shape newOriginId writes
    const ins = db.prepare(
      "INSERT INTO messages (conversation_id, direction, state, origin_id, stanza_id, body, sent_at, origin_key, stanza_key) VALUES (?, 'in', 'delivered', ?, ?, ?, 5, ?, ?)",
    );
    const key = (id: string | null) => (id === null ? null : dedupKey(id)); // what version 4 stored
    const rows: [number, string | null, string | null, string][] = [
      [1, v7, 'arch-1', 'v7 origin with an archive id'],
      [2, v7, null, 'the same v7 origin-id in another conversation'],
      [1, '9b2f6a1e-0c4d-4e8a-b1f2-3c4d5e6f7a8b', 'arch-2', 'v4 origin'],
      [1, null, 'arch-3', 'no origin-id'],
      [1, null, null, 'no ids'],
    ];
    for (const [c, o, st, body] of rows) ins.run(c, o, st, body, key(o), key(st));
    const before = db.prepare('SELECT id, conversation_id, origin_id, stanza_id, body FROM messages ORDER BY id').all();

    expect(runMigrations(db, migrations, 5)).toBe(5);
    expect(
      db.prepare('SELECT id, conversation_id, origin_id, stanza_id, body FROM messages ORDER BY id').all(),
    ).toEqual(before);
    const keys = db
      .prepare<[], { origin_key: number | null; stanza_key: number | null }>(
        'SELECT origin_key, stanza_key FROM messages ORDER BY id',
      )
      .all();
    expect(keys).toEqual([
      { origin_key: idKey(v7), stanza_key: null },
      { origin_key: null, stanza_key: null }, // key held by row 1: guarded by the unkeyed text index
      { origin_key: dedupKey('9b2f6a1e-0c4d-4e8a-b1f2-3c4d5e6f7a8b'), stanza_key: null },
      { origin_key: null, stanza_key: dedupKey('arch-3') },
      { origin_key: null, stanza_key: null },
    ]);
    expect(idKey(v7)).not.toBe(dedupKey(v7));

    // Re-deliveries stay no-ops under the new indexes, in both conversations.
    const again = db.prepare(
      "INSERT INTO messages (conversation_id, direction, state, origin_id, stanza_id, origin_key, stanza_key, body, sent_at) VALUES (?, 'in', 'delivered', ?, ?, ?, ?, 'x', 6) ON CONFLICT DO NOTHING",
    );
    expect(again.run(1, v7, null, idKey(v7), null).changes).toBe(0);
    expect(again.run(2, v7, null, null, null).changes).toBe(0);
    expect(again.run(1, null, 'arch-3', null, dedupKey('arch-3')).changes).toBe(0);
    // A stanza-id does not identify a message that has an origin-id.
    expect(again.run(1, 'o-new', 'arch-1', dedupKey('o-new'), null).changes).toBe(1);

    const plan = (sql: string) =>
      db
        .prepare<[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
        .all()
        .map((p) => p.detail)
        .join(' ');
    expect(plan("SELECT * FROM messages WHERE conversation_id = 1 AND origin_key = 5 AND origin_id = 'o'")).toMatch(
      /messages_origin_key/,
    );
    expect(plan('SELECT id FROM messages WHERE origin_key = 5')).toMatch(/messages_origin_key/);
    expect(
      plan(
        "SELECT * FROM messages WHERE conversation_id = 1 AND stanza_key = 5 AND stanza_id = 's' AND origin_id IS NULL",
      ),
    ).toMatch(/messages_stanza_key/);
    expect(
      plan(
        "SELECT * FROM messages WHERE conversation_id = 1 AND stanza_key IS NULL AND stanza_id = 's' AND origin_id IS NULL",
      ),
    ).toMatch(/messages_stanza_unkeyed/);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });
});

describe('0007-drafts', () => {
  it('adds the drafts table and a failure column without touching messages; drafts go with their conversation', () => {
    const db = openDb({ file: tmpFile(), key: randomBytes(32) });
    runMigrations(db, migrations, 6);
    db.prepare('INSERT INTO conversations (peer_jid, created_at, last_at) VALUES (?, ?, ?)').run('a@b.c', 1, 1);
    db.prepare(
      "INSERT INTO messages (conversation_id, direction, state, origin_id, body, sent_at) VALUES (1, 'out', 'failed', 'o-1', 'kept', 5)",
    ).run();
    const before = db.prepare('SELECT id, conversation_id, state, origin_id, body, sent_at FROM messages').all();

    expect(runMigrations(db, migrations, 7)).toBe(7);
    expect(db.prepare('SELECT id, conversation_id, state, origin_id, body, sent_at FROM messages').all()).toEqual(
      before,
    );
    // A message that failed before version 7 has no recorded reason (the renderer says "the server").
    expect(db.prepare('SELECT failure FROM messages').get()).toEqual({ failure: null });
    db.prepare('INSERT INTO drafts (conversation_id, body, updated_at) VALUES (1, ?, 9)').run('half a sentence');
    db.prepare('INSERT INTO conversations (peer_jid, created_at, last_at) VALUES (?, ?, ?)').run('d@e.f', 1, 1);
    // STRICT: a draft is text with a time.
    expect(() =>
      db.prepare("INSERT INTO drafts (conversation_id, body, updated_at) VALUES (2, 'x', 'soon')").run(),
    ).toThrow(/cannot store TEXT value in INTEGER column/);
    // No draft for a conversation that does not exist (foreign key), and none outlives its conversation.
    expect(() => db.prepare("INSERT INTO drafts (conversation_id, body, updated_at) VALUES (3, 'x', 1)").run()).toThrow(
      /FOREIGN KEY/,
    );
    db.prepare('DELETE FROM conversations WHERE id = 1').run();
    expect(db.prepare('SELECT count(*) AS n FROM drafts').get()).toEqual({ n: 0 });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });
});

describe('a newer schema', () => {
  it('is refused with STORE_TOO_NEW and left as it was', async () => {
    const file = tmpFile();
    const key = randomBytes(32);
    const s = openStore({ file, key });
    await s.close();
    const db = openDb({ file, key });
    db.pragma(`user_version = ${latestVersion() + 5}`);
    db.close();
    let err: unknown;
    try {
      openStore({ file, key });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('STORE_TOO_NEW');
    const check = openDb({ file, key });
    expect(check.pragma('user_version', { simple: true })).toBe(latestVersion() + 5);
    check.close();
  });
});
