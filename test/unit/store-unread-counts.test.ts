/**
 * A conversation's unread counts kept on its row by triggers (migration 0018): after any sequence
 * of the store's own writes they equal what counting the messages says, the old subqueries.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageState } from '../../common/contract/domain';
import { openStore, type Store } from '../../main/store';
import { migrations, runMigrations } from '../../main/store/migrations';
import { countedUnread } from '../../main/store/migrations/0018-unread-counts';
import { openDb, type Db } from '../../main/store/open-db';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmpFile(): string {
  const d = mkdtempSync(join(tmpdir(), 'store-unread-'));
  dirs.push(d);
  return join(d, 'cache.db');
}

/** The counts as the summary computed them before migration 0018, per conversation id. */
const old = countedUnread('c.id');
const COUNTED = `SELECT c.id, ${old.unread} AS unread, ${old.urgent} AS urgent_unread, ${old.mention} AS mention_unread
  FROM conversations c ORDER BY c.id`;
const KEPT = 'SELECT id, unread, urgent_unread, mention_unread FROM conversations ORDER BY id';

const STATES: MessageState[] = ['queued', 'sent', 'delivered', 'read', 'failed', 'unverified'];
const PEERS = ['a@clinic.test', 'b@clinic.test', 'c@clinic.test'];

type Op =
  | {
      op: 'insert';
      peer: number;
      inbound: boolean;
      state: MessageState;
      urgent: boolean;
      mention: boolean;
      read: boolean;
    }
  | { op: 'markRead'; peer: number; upTo: number | null }
  | { op: 'markUnread'; peer: number; from: number }
  | { op: 'state'; pick: number; state: MessageState }
  | { op: 'purge'; before: number }
  /** A write the repos do not make (a future one): any column the triggers watch, set directly. */
  | { op: 'raw'; pick: number; set: string };

/** Direct updates of every column the update trigger watches. */
const RAW_SETS = [
  "state = 'unverified'",
  "state = 'delivered'",
  'urgent = 1 - urgent',
  'mentions_me = 1 - mentions_me',
  'read_at = NULL',
  'read_at = 7',
  "direction = CASE direction WHEN 'in' THEN 'out' ELSE 'in' END",
  'conversation_id = (SELECT max(id) FROM conversations)',
];

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('insert' as const),
      peer: fc.nat(2),
      inbound: fc.boolean(),
      state: fc.constantFrom(...STATES),
      urgent: fc.boolean(),
      mention: fc.boolean(),
      read: fc.boolean(),
    }),
    weight: 6,
  },
  {
    arbitrary: fc.record({ op: fc.constant('markRead' as const), peer: fc.nat(2), upTo: fc.option(fc.nat(60)) }),
    weight: 1,
  },
  { arbitrary: fc.record({ op: fc.constant('markUnread' as const), peer: fc.nat(2), from: fc.nat(60) }), weight: 1 },
  {
    arbitrary: fc.record({ op: fc.constant('state' as const), pick: fc.nat(60), state: fc.constantFrom(...STATES) }),
    weight: 1,
  },
  { arbitrary: fc.record({ op: fc.constant('purge' as const), before: fc.nat(60) }), weight: 1 },
  {
    arbitrary: fc.record({ op: fc.constant('raw' as const), pick: fc.nat(60), set: fc.constantFrom(...RAW_SETS) }),
    weight: 2,
  },
);

function apply(store: Store, raw: Db, ids: string[], op: Op, step: number): void {
  const conv = (peer: number) => store.conversations.getOrCreate(PEERS[peer]!, 1);
  const pickIn = (n: number, conversationId?: string) => {
    const inConv = ids.filter((id) => {
      const m = store.messages.get(id);
      return m && (conversationId === undefined || m.conversationId === conversationId);
    });
    return inConv.length === 0 ? undefined : inConv[n % inConv.length];
  };
  switch (op.op) {
    case 'insert': {
      const at = 1_000 + step;
      const ins = store.messages.insert({
        conversationId: conv(op.peer).id,
        direction: op.inbound ? 'in' : 'out',
        state: op.state,
        body: op.state === 'unverified' ? null : `message ${step}`,
        originId: `origin-${step}`,
        sentAt: at,
        receivedAt: at,
        readAt: op.read ? at : null,
        urgent: op.urgent,
        mentionsMe: op.mention,
      });
      ids.push(ins.id);
      return;
    }
    case 'markRead': {
      const c = conv(op.peer);
      const upTo = op.upTo === null ? undefined : pickIn(op.upTo, c.id);
      store.conversations.markRead(c.id, 2_000 + step, upTo);
      return;
    }
    case 'markUnread': {
      const c = conv(op.peer);
      const from = pickIn(op.from, c.id);
      if (from) store.conversations.markUnread(c.id, from);
      return;
    }
    case 'state': {
      const id = pickIn(op.pick);
      if (id) store.messages.updateState(id, op.state, 3_000 + step);
      return;
    }
    case 'purge':
      store.messages.purgeBefore(1_000 + op.before);
      return;
    case 'raw': {
      const id = pickIn(op.pick);
      if (id) raw.prepare(`UPDATE messages SET ${op.set} WHERE id = ?`).run(Number(id));
      return;
    }
  }
}

describe('unread counts kept on the conversation (migration 0018)', () => {
  it('equal the counted messages after any sequence of inserts, read and unread marks, state changes and purges', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
        const file = tmpFile();
        const key = randomBytes(32);
        const store = openStore({ file, key });
        const raw = openDb({ file, key });
        try {
          const ids: string[] = [];
          ops.forEach((op, step) => {
            apply(store, raw, ids, op, step);
            expect(raw.prepare(KEPT).all()).toEqual(raw.prepare(COUNTED).all());
          });
        } finally {
          raw.close();
          await store.close();
        }
      }),
      { numRuns: 25 },
    );
  });

  it('reach the summary: the badge counts stay right as messages arrive and are read', async () => {
    const store = openStore({ file: tmpFile(), key: randomBytes(32) });
    try {
      const c = store.conversations.getOrCreate(PEERS[0]!, 1);
      const add = (n: number, o: { urgent?: boolean; mentionsMe?: boolean; state?: MessageState } = {}) =>
        store.messages.insert({
          conversationId: c.id,
          direction: 'in',
          state: o.state ?? 'delivered',
          body: o.state === 'unverified' ? null : `hello ${n}`,
          originId: `o-${n}`,
          sentAt: 10 + n,
          ...(o.urgent ? { urgent: true } : {}),
          ...(o.mentionsMe ? { mentionsMe: true } : {}),
        }).id;
      add(1);
      const urgent = add(2, { urgent: true });
      add(3, { mentionsMe: true });
      add(4, { state: 'unverified', urgent: true, mentionsMe: true }); // never shown: never unread
      expect(store.conversations.summary(c.id)).toMatchObject({ unread: 3, urgentUnread: 1, mentionUnread: 1 });
      store.conversations.markRead(c.id, 60, urgent);
      expect(store.conversations.summary(c.id)).toMatchObject({ unread: 1, urgentUnread: 0, mentionUnread: 1 });
      store.conversations.markRead(c.id, 70);
      const s = store.conversations.summary(c.id)!;
      expect([s.unread, s.urgentUnread, s.mentionUnread]).toEqual([0, 0, undefined]);
      expect(store.conversations.list({ cursor: null, limit: 10 }).items[0]).toMatchObject({ id: c.id, unread: 0 });
    } finally {
      await store.close();
    }
  });
});

describe('0018-unread-counts on an existing cache', () => {
  it('counts the unread messages a version 17 cache already holds, then keeps counting', () => {
    const db: Db = openDb({ file: tmpFile(), key: randomBytes(32) });
    runMigrations(db, migrations, 17);
    const conv = db.prepare('INSERT INTO conversations (peer_jid, created_at, last_at) VALUES (?, ?, ?)');
    conv.run('a@clinic.test', 1, 1);
    conv.run('b@clinic.test', 1, 1);
    const msg = db.prepare(
      `INSERT INTO messages (conversation_id, direction, state, origin_id, body, sent_at, read_at, urgent, mentions_me)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    msg.run(1, 'in', 'delivered', 'o-1', 'x', 1, null, 1, 0); // unread, urgent
    msg.run(1, 'in', 'delivered', 'o-2', 'x', 2, null, 0, 1); // unread, mentions us
    msg.run(1, 'in', 'delivered', 'o-3', 'x', 3, 5, 1, 1); // read
    msg.run(1, 'in', 'unverified', 'o-4', null, 4, null, 1, 1); // never shown: not unread
    msg.run(1, 'out', 'sent', 'o-5', 'x', 5, null, 1, 0); // ours
    msg.run(2, 'in', 'delivered', 'o-6', 'x', 6, null, 0, 0);

    expect(runMigrations(db)).toBe(migrations.length);
    expect(db.prepare(KEPT).all()).toEqual([
      { id: 1, unread: 2, urgent_unread: 1, mention_unread: 1 },
      { id: 2, unread: 1, urgent_unread: 0, mention_unread: 0 },
    ]);
    msg.run(2, 'in', 'delivered', 'o-7', 'x', 7, null, 1, 0);
    db.prepare('DELETE FROM conversations WHERE id = 1').run();
    expect(db.prepare(KEPT).all()).toEqual([{ id: 2, unread: 2, urgent_unread: 1, mention_unread: 0 }]);
    expect(db.prepare(KEPT).all()).toEqual(db.prepare(COUNTED).all());
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });
});
