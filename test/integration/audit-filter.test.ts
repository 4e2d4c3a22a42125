/**
 * The audit screen's filter (issue 15 item 5) on a real SQLCipher store through the audit:list
 * handler: date bounds inclusive, event types, a person named under any JID-valued detail key,
 * paging with a filter, and no filter = the whole log exactly as before.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { channels, type ChannelInput, type ChannelOutput } from '../../common/ipc-contract';
import { createAuditLog, type AuditLog } from '../../main/audit';
import { auditHandlers } from '../../main/ipc/handlers/audit';
import type { HandlerContext } from '../../main/ipc/handlers/context';
import { silentLogger } from '../../main/log';
import { loadPolicy } from '../../main/policy/load';
import type { Session } from '../../main/session/types';
import { openStore, type Store } from '../../main/store';
import { openDb } from '../../main/store/open-db';
import { auditListQuery } from '../../main/store/repos/audit';
import { fakeClock, type FakeClock } from '../support/fake-clock';

const BOB = 'bob@clinic.example';
const CAROL = 'carol@clinic.example';
const DAY = 86_400_000;

let dir: string;
let file: string;
let key: Buffer;
let store: Store;
let audit: AuditLog;
let clock: FakeClock;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'audit-filter-'));
  file = join(dir, 'cache.db');
  key = randomBytes(32);
  store = openStore({ file, key });
  clock = fakeClock();
  audit = createAuditLog({ store, key: randomBytes(32), clock });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** audit:list as the router calls it: contract-parsed input, contract-checked output. */
function list(input: ChannelInput<'audit:list'>): ChannelOutput<'audit:list'> {
  const ctx = {
    session: { active: () => ({ audit }) } as unknown as Session,
    policy: loadPolicy(null, {}),
    logger: silentLogger,
  } as unknown as HandlerContext;
  const out = auditHandlers(ctx)['audit:list'](channels['audit:list'].input.parse(input));
  return channels['audit:list'].output.parse(out);
}
const seqs = (r: ChannelOutput<'audit:list'>): number[] => r.items.map((i) => i.seq);

/** Every page of a filtered listing, following nextBefore. */
function allPages(filter: ChannelInput<'audit:list'>['filter'], limit: number): { seqs: number[]; pages: number } {
  const out: number[] = [];
  let before: number | null = null;
  let pages = 0;
  do {
    const r = list({ before, limit, filter });
    out.push(...seqs(r));
    before = r.nextBefore;
    pages++;
  } while (before !== null);
  return { seqs: out, pages };
}

describe('audit:list with a filter', () => {
  it('without a filter lists the whole log newest first, paged exactly as before', () => {
    for (let i = 0; i < 7; i++) audit.append('lock', { reason: 'manual' });
    const first = list({ before: null, limit: 3 });
    expect(seqs(first)).toEqual([7, 6, 5]);
    expect(first.nextBefore).toBe(5);
    expect(seqs(list({ before: 5, limit: 3 }))).toEqual([4, 3, 2]);
    const last = list({ before: 2, limit: 3 });
    expect(seqs(last)).toEqual([1]);
    expect(last.nextBefore).toBeNull();
    // An empty filter object is no filter either.
    expect(seqs(list({ before: null, limit: 10, filter: {} }))).toEqual([7, 6, 5, 4, 3, 2, 1]);
  });

  it('keeps both ends of a date range, to the millisecond', () => {
    const start = clock.now();
    for (let i = 0; i < 5; i++) {
      audit.append('unlock', { profileId: 'p' });
      clock.advance(DAY);
    }
    // Entries at start, +1d, +2d, +3d, +4d: seq 1..5.
    expect(seqs(list({ before: null, filter: { from: start + DAY, to: start + 3 * DAY } }))).toEqual([4, 3, 2]);
    expect(seqs(list({ before: null, filter: { from: start + DAY + 1, to: start + 3 * DAY - 1 } }))).toEqual([3]);
    expect(seqs(list({ before: null, filter: { from: start + 3 * DAY } }))).toEqual([5, 4]);
    expect(seqs(list({ before: null, filter: { to: start } }))).toEqual([1]);
    expect(list({ before: null, filter: { from: start + 5 * DAY } })).toEqual({ items: [], nextBefore: null });
  });

  it('keeps only the chosen event types', () => {
    audit.append('lock', { reason: 'idle' });
    audit.append('export', { kind: 'audit-csv', allowed: true });
    audit.append('unlock', { profileId: 'p' });
    audit.append('wipe-command', { reason: 'forged', nonce: 'n1', signer: 'A'.repeat(40) });
    expect(seqs(list({ before: null, filter: { types: ['wipe-command'] } }))).toEqual([4]);
    expect(seqs(list({ before: null, filter: { types: ['lock', 'unlock'] } }))).toEqual([3, 1]);
  });

  it('finds a person under every JID-valued detail key, and nowhere else', () => {
    audit.append('message-sent', { messageId: 'm1', to: BOB }); // 1
    audit.append('message-received', { messageId: 'm2', from: BOB }); // 2
    audit.append('message-opened', { conversationId: 'c', peer: BOB, count: 2, newestId: 'm2', oldestId: 'm1' }); // 3
    audit.append('key-verified', { jid: BOB, fingerprint: 'B'.repeat(40) }); // 4
    audit.append('message-sent', { messageId: 'm3', to: CAROL }); // 5
    // A JID under a key that is not a person (by: 'peer' is a role) and a look-alike id: not Bob.
    audit.append('message-deleted', { messageId: BOB, peer: CAROL, by: 'peer' }); // 6
    audit.append('lock', { reason: 'manual' }); // 7
    expect(seqs(list({ before: null, filter: { person: BOB } }))).toEqual([4, 3, 2, 1]);
    // JIDs compare without regard to case.
    expect(seqs(list({ before: null, filter: { person: 'Carol@Clinic.Example' } }))).toEqual([6, 5]);
    expect(seqs(list({ before: null, filter: { person: 'dave@clinic.example' } }))).toEqual([]);
  });

  it('pages through a filtered log with before + limit, every part combined', () => {
    const start = clock.now();
    for (let i = 1; i <= 300; i++) {
      const peer = i % 3 === 0 ? BOB : CAROL;
      if (i % 2 === 0) audit.append('message-sent', { messageId: `m${i}`, to: peer });
      else audit.append('message-opened', { conversationId: 'c', peer, count: 1 });
      clock.advance(60_000);
    }
    // seq i was written at start + (i - 1) minutes.
    const filter = {
      person: BOB,
      types: ['message-sent' as const],
      from: start + 29 * 60_000,
      to: start + 269 * 60_000,
    };
    const expected = Array.from({ length: 300 }, (_, k) => 300 - k).filter((i) => i % 6 === 0 && i >= 30 && i <= 270);
    expect(expected.length).toBe(41);
    const paged = allPages(filter, 10);
    expect(paged.seqs).toEqual(expected);
    expect(paged.pages).toBe(5);
    // A page boundary that falls exactly on the last match does not leave an empty page behind.
    expect(allPages(filter, 41)).toEqual({ seqs: expected, pages: 1 });
  });

  it('walks the seq key newest first without sorting, so a long log stops at the page size', () => {
    // The plan for the most filtered query: the primary key in order, no temporary sort.
    audit.append('lock', { reason: 'manual' });
    const db = openDb({ file, key });
    try {
      const full = { before: 10, limit: 5, filter: { from: 0, to: 1, types: ['lock' as const], person: BOB } };
      const { sql, params } = auditListQuery(full.before, full.limit, full.filter);
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
      const text = plan.map((p) => p.detail).join(' | ');
      expect(text).toMatch(/SEARCH audit_log USING INTEGER PRIMARY KEY \(rowid<\?\)/);
      expect(text).not.toMatch(/TEMP B-TREE/);
    } finally {
      db.close();
    }
  });
});
