import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditEventType } from '../../common/contract/domain';
import { createAuditLog, type AuditLog } from '../../main/audit';
import { openStore, type Store } from '../../main/store';
import { openDb, type Db } from '../../main/store/open-db';

// Real SQLCipher files; tampering goes through a second raw connection with the same key, as an
// attacker who had the database key (but not the audit MAC key) could.
let dir: string;
let file: string;
let dbKey: Buffer;
let auditKey: Buffer;
let store: Store;
let audit: AuditLog;
let t = 1_700_000_000_000;

function reopen(): void {
  store = openStore({ file, key: dbKey });
  audit = createAuditLog({ store, key: auditKey, clock: { now: () => t++ } });
}
async function tamper(fn: (db: Db) => void): Promise<void> {
  await store.close();
  const db = openDb({ file, key: dbKey });
  fn(db);
  db.close();
  reopen();
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'audit-'));
  file = join(dir, 'cache.db');
  dbKey = randomBytes(32);
  auditKey = randomBytes(32);
  reopen();
  for (let i = 1; i <= 6; i++) audit.append('message-sent', { messageId: `seed-${i}`, to: 'bob@clinic.example' });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('audit chain', () => {
  it('verifies an untouched log, across a close and reopen', async () => {
    expect(audit.verify()).toEqual({ ok: true, checked: 6, problems: [], unaudited: { count: 0, ids: [] } });
    await store.close();
    reopen();
    audit.append('lock', { reason: 'manual' });
    expect(audit.verify()).toEqual({ ok: true, checked: 7, problems: [], unaudited: { count: 0, ids: [] } });
  });

  it('reports stored messages that have no audit entry, though the chain itself is intact (issue 10 §11)', () => {
    const conv = store.conversations.getOrCreate('bob@clinic.example', t);
    const msg = (direction: 'in' | 'out', state: 'delivered' | 'sent' | 'queued', originId: string) =>
      store.messages.insert({ conversationId: conv.id, direction, state, body: null, originId, sentAt: t }).id;
    const audited = msg('in', 'delivered', 'o-1');
    audit.append('message-received', { messageId: audited, from: 'bob@clinic.example' });
    expect(audit.verify()).toMatchObject({ ok: true, unaudited: { count: 0, ids: [] } });
    // Our own message still in the outbox never left: nothing to audit yet.
    msg('out', 'queued', 'o-2');
    expect(audit.verify()).toMatchObject({ ok: true, unaudited: { count: 0 } });
    // Stored around the audit log (a crash between two commits, or an edit with the database key).
    const silentIn = msg('in', 'delivered', 'o-3');
    const silentOut = msg('out', 'sent', 'o-4');
    const r = audit.verify();
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([]);
    expect(r.unaudited).toEqual({ count: 2, ids: [silentIn, silentOut] });
  });

  it('records every event type the contract defines', () => {
    for (const type of auditEventType.options) audit.append(type, { id: type });
    const { items } = audit.list(null, 200);
    expect(new Set(items.map((i) => i.type))).toEqual(new Set(auditEventType.options));
    expect(audit.verify().ok).toBe(true);
  });

  it('reports an edited row', async () => {
    await tamper((db) =>
      db.prepare('UPDATE audit_log SET detail = ? WHERE seq = 3').run('{"messageId":"999","to":"eve@evil.example"}'),
    );
    expect(audit.verify()).toMatchObject({ ok: false, problems: [{ seq: 3, kind: 'edited' }] });
  });

  it('reports a deleted row in the middle', async () => {
    await tamper((db) => db.prepare('DELETE FROM audit_log WHERE seq = 4').run());
    expect(audit.verify()).toMatchObject({ ok: false, checked: 5, problems: [{ seq: 4, kind: 'deleted' }] });
  });

  it('reports rows cut off the end', async () => {
    await tamper((db) => db.prepare('DELETE FROM audit_log WHERE seq >= 5').run());
    expect(audit.verify()).toMatchObject({ ok: false, problems: [{ seq: 5, kind: 'deleted' }] });
  });

  it('reports an inserted (forged) row', async () => {
    await tamper((db) => {
      db.prepare('UPDATE audit_log SET seq = seq + 100 WHERE seq > 3').run();
      db.prepare('UPDATE audit_log SET seq = seq - 99 WHERE seq > 100').run();
      db.prepare('INSERT INTO audit_log (seq, at, type, detail, prev_mac, mac) VALUES (4, 1, ?, ?, ?, ?)').run(
        'key-verified',
        '{"jid":"eve@evil.example"}',
        randomBytes(32),
        randomBytes(32),
      );
    });
    const r = audit.verify();
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([{ seq: 4, kind: 'inserted' }]);
  });

  it('reports a replayed copy of a genuine row as inserted', async () => {
    await tamper((db) =>
      db
        .prepare(
          'INSERT INTO audit_log (seq, at, type, detail, prev_mac, mac) SELECT 50, at, type, detail, prev_mac, mac FROM audit_log WHERE seq = 2',
        )
        .run(),
    );
    expect(audit.verify().problems).toContainEqual({ seq: 50, kind: 'inserted' });
  });

  it('reports reordered rows', async () => {
    await tamper((db) => {
      db.prepare('UPDATE audit_log SET seq = 100 WHERE seq = 2').run();
      db.prepare('UPDATE audit_log SET seq = 2 WHERE seq = 3').run();
      db.prepare('UPDATE audit_log SET seq = 3 WHERE seq = 100').run();
    });
    // Every row is genuine, so nothing is edited, inserted or deleted; the three rows whose
    // predecessor changed are each named: 2 (was 3) and 3 (was 2), and 4, which points at the old 3.
    expect(audit.verify()).toEqual({
      ok: false,
      checked: 6,
      problems: [
        { seq: 2, kind: 'reordered' },
        { seq: 3, kind: 'reordered' },
        { seq: 4, kind: 'reordered' },
      ],
      unaudited: { count: 0, ids: [] },
    });
  });

  it('cannot be re-forged without the audit key: a chain rebuilt with another key fails', async () => {
    await store.close();
    const other = openStore({ file: join(dir, 'other.db'), key: dbKey });
    const forger = createAuditLog({ store: other, key: randomBytes(32) });
    forger.append('unlock', { profile: 'p' });
    const forged = createAuditLog({ store: other, key: auditKey });
    expect(forged.verify().ok).toBe(false);
    await other.close();
    reopen();
  });

  it('lists newest first with a seq cursor', () => {
    const first = audit.list(null, 4);
    expect(first.items.map((i) => i.seq)).toEqual([6, 5, 4, 3]);
    const second = audit.list(first.nextBefore, 4);
    expect(second.items.map((i) => i.seq)).toEqual([2, 1]);
    expect(second.nextBefore).toBeNull();
  });

  it('exports CSV with ids and JIDs and refuses message text in details', () => {
    expect(() => audit.append('message-sent', { body: 'secret clinical note' })).toThrow(/not allowed/);
    expect(() => audit.append('message-sent', { messageText: 'x' })).toThrow(/not allowed/);
    const { filename, csv } = audit.exportCsv();
    expect(filename).toMatch(/^clinic-messenger-audit-\d{4}-\d{2}-\d{2}\.csv$/);
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe('seq,time,event,detail');
    expect(lines).toHaveLength(7);
    expect(lines[1]).toMatch(/^1,"\d{4}-\d{2}-\d{2}T[^"]+Z","message-sent","messageId=seed-1; to=bob@clinic.example"$/);
    expect(csv).not.toContain('secret clinical note');
  });
});

describe('closing the audit log (session lock)', () => {
  it('refuses appends after close and keeps the chain verifiable with the real key', () => {
    audit.close();
    expect(() => audit.append('lock', { reason: 'manual' })).toThrow(/closed/);
    expect(() => audit.verify()).toThrow(/closed/);
    // The caller's key buffer is untouched (the vault zero-fills its own); a fresh log verifies.
    const again = createAuditLog({ store, key: auditKey });
    expect(again.verify()).toMatchObject({ ok: true, checked: 6 });
  });
});
