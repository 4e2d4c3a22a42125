/**
 * Messages: insert with dedup, catch-up bulk insert, state moves, keyset pages.
 * Dedup relies on the partial unique indexes of migration 0004 (integer keys of the XEP-0359 ids —
 * idKey, time-ordered for UUIDv7 since version 5 — and text for the rare colliding key; see
 * ../dedup-key.ts): `ON CONFLICT DO NOTHING` makes a
 * re-delivery a no-op (CHECK and FK errors still throw). Every lookup compares the id text.
 */
import type { Message, MessageState } from '../../../common/contract/domain';
import { AppError } from '../../../common/result';
import type { Clock } from '../../clock';
import { idKey } from '../dedup-key';
import { decodeCursor, encodeCursor, parseId } from '../ids';
import type { Db } from '../open-db';
import type { BulkInsertResult, InsertResult, MessageRepo, NewMessage } from '../types';
import { createFtsIndexer } from './fts-index';
import { createSearch } from './search';

interface Row {
  id: number;
  conversation_id: number;
  direction: 'in' | 'out';
  state: MessageState;
  origin_id: string | null;
  stanza_id: string | null;
  body: string | null;
  sent_at: number;
  received_at: number | null;
  claimed_at: number | null;
  read_at: number | null;
}

export const toMessage = (r: Row): Message => ({
  id: String(r.id),
  conversationId: String(r.conversation_id),
  direction: r.direction,
  state: r.state,
  body: r.body,
  sentAt: r.sent_at,
  receivedAt: r.received_at,
  claimedAt: r.claimed_at,
  readAt: r.read_at,
  originId: r.origin_id,
});

/** The delivery ladder; a state only moves up it (a late receipt never undoes a read marker). */
const RANK: Record<MessageState, number> = { queued: 0, sent: 1, delivered: 3, read: 4, failed: -1, unverified: -2 };

export function allowedMove(from: MessageState, to: MessageState): boolean {
  if (from === to || from === 'unverified' || to === 'unverified') return false;
  if (to === 'failed') return from === 'queued' || from === 'sent';
  if (from === 'failed') return to === 'queued' || RANK[to] > RANK.sent; // retry, or a late ack proves it went out
  return RANK[to] > RANK[from];
}

function convId(id: string): number {
  const n = parseId(id);
  if (n === null) throw new AppError('NOT_FOUND', 'No such conversation.');
  return n;
}

export interface MessageRepoOptions {
  /** The default time of a state change (updateState without `at`). */
  clock: Pick<Clock, 'now'>;
  /**
   * true (the store worker): insertMany leaves new rows queued for the full-text index and the
   * caller drains the queue with indexPending() afterwards. false: insertMany indexes its rows
   * in the same transaction, so they are searchable as soon as it returns.
   */
  deferIndex?: boolean;
}

/** Rows per indexing step when draining the queue inline. */
const INDEX_STEP = 5000;

export function createMessageRepo(db: Db, opts: MessageRepoOptions): MessageRepo {
  const indexer = createFtsIndexer(db);
  const insert = db.prepare<[number, string, string, string | null, string | null, string | null, number, number | null, number | null, number | null, number | null, number | null]>(
    `INSERT INTO messages (conversation_id, direction, state, origin_id, stanza_id, body, sent_at, received_at, read_at, origin_key, stanza_key, claimed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  );
  const touch = db.prepare<[number, number]>('UPDATE conversations SET last_at = max(last_at, ?) WHERE id = ?');
  const byId = db.prepare<[number], Row>('SELECT * FROM messages WHERE id = ?');
  // Origin keys are unique across the table (migration 0005); the conversation and text make the match exact.
  const originKeyed = db.prepare<[number, number, string], Row>('SELECT * FROM messages WHERE conversation_id = ? AND origin_key = ? AND origin_id = ?');
  const originUnkeyed = db.prepare<[number, string], Row>('SELECT * FROM messages WHERE conversation_id = ? AND origin_key IS NULL AND origin_id = ?');
  // Stanza-ids identify only messages without an origin-id (migration 0005).
  const stanzaKeyed = db.prepare<[number, number, string], Row>(
    'SELECT * FROM messages WHERE conversation_id = ? AND stanza_key = ? AND stanza_id = ? AND origin_id IS NULL',
  );
  const stanzaUnkeyed = db.prepare<[number, string], Row>(
    'SELECT * FROM messages WHERE conversation_id = ? AND stanza_key IS NULL AND stanza_id = ? AND origin_id IS NULL',
  );
  const originKeyTaken = db.prepare<[number], { id: number }>('SELECT id FROM messages WHERE origin_key = ?');
  const stanzaKeyTaken = db.prepare<[number, number], { id: number }>(
    'SELECT id FROM messages WHERE conversation_id = ? AND stanza_key = ? AND origin_id IS NULL',
  );
  const setStanzaKeyed = db.prepare<[string, number, number]>(
    'UPDATE OR IGNORE messages SET stanza_id = ?, stanza_key = ? WHERE id = ? AND stanza_id IS NULL AND origin_id IS NULL',
  );
  const setStanzaUnkeyed = db.prepare<[string, number]>('UPDATE OR IGNORE messages SET stanza_id = ? WHERE id = ? AND stanza_id IS NULL');
  const byOrigin = {
    get: (conv: number, originId: string): Row | undefined => originKeyed.get(conv, idKey(originId), originId) ?? originUnkeyed.get(conv, originId),
  };
  const byStanza = {
    get: (conv: number, stanzaId: string): Row | undefined => stanzaKeyed.get(conv, idKey(stanzaId), stanzaId) ?? stanzaUnkeyed.get(conv, stanzaId),
  };
  /**
   * Remembers a stanza-id on a row that has none. A row with an origin-id just stores it (its
   * identity is the origin-id); an origin-less row takes it only if no other row of the
   * conversation is identified by it.
   */
  const setStanza = {
    run(stanzaId: string, id: number): void {
      if (setStanzaKeyed.run(stanzaId, idKey(stanzaId), id).changes > 0) return;
      const row = byId.get(id);
      if (!row || row.stanza_id !== null) return;
      if (row.origin_id === null && byStanza.get(row.conversation_id, stanzaId)) return;
      setStanzaUnkeyed.run(stanzaId, id); // origin row, or the key belongs to a different id: store unkeyed
    },
  };
  const setState = db.prepare<[string, number]>('UPDATE messages SET state = ? WHERE id = ?');
  const setRead = db.prepare<[number, number]>('UPDATE messages SET read_at = coalesce(read_at, ?) WHERE id = ?');
  const setReceived = db.prepare<[number, number]>('UPDATE messages SET received_at = coalesce(received_at, ?) WHERE id = ?');
  const pageFirst = db.prepare<[number, number], Row>(
    'SELECT * FROM messages WHERE conversation_id = ? ORDER BY sent_at DESC, id DESC LIMIT ?',
  );
  const pageNext = db.prepare<[number, number, number, number], Row>(
    'SELECT * FROM messages WHERE conversation_id = ? AND (sent_at, id) < (?, ?) ORDER BY sent_at DESC, id DESC LIMIT ?',
  );
  const inConv = db.prepare<[number, number], Row>('SELECT * FROM messages WHERE id = ? AND conversation_id = ?');
  // Walks the paging index from the newest end; stops at the first match.
  const newestIn = db.prepare<[number], Row>(
    `SELECT * FROM messages WHERE conversation_id = ? AND direction = 'in' AND state <> 'unverified' AND origin_id IS NOT NULL
      ORDER BY sent_at DESC, id DESC LIMIT 1`,
  );
  // Same keyset as pageNext, the other way: the index on (conversation_id, sent_at, id) serves both.
  const pageNewer = db.prepare<[number, number, number, number], Row>(
    'SELECT * FROM messages WHERE conversation_id = ? AND (sent_at, id) > (?, ?) ORDER BY sent_at ASC, id ASC LIMIT ?',
  );

  /** A message is identified by its origin-id when it has one, else by its stanza-id (migration 0005). */
  const findExisting = (conv: number, m: NewMessage): Row | undefined =>
    m.originId ? byOrigin.get(conv, m.originId) : m.stanzaId ? byStanza.get(conv, m.stanzaId) : undefined;

  /** One insert without its own transaction; `touchConv` false lets bulk insert batch the touch. */
  const insertOne = (m: NewMessage, touchConv: boolean): InsertResult => {
    const conv = convId(m.conversationId);
    // An empty id is no id (as findExisting reads it): it must neither key nor identify a message.
    const origin = m.originId || null;
    const stanza = m.stanzaId || null;
    const okey = origin === null ? null : idKey(origin);
    const skey = stanza === null || origin !== null ? null : idKey(stanza);
    const run = (ok: number | null, sk: number | null) =>
      insert.run(conv, m.direction, m.state, origin, stanza, m.body, m.sentAt, m.receivedAt ?? null, m.readAt ?? null, ok, sk, m.claimedAt ?? null);
    let info = run(okey, skey);
    if (info.changes === 0) {
      const existing = findExisting(conv, m);
      if (existing) {
        // A MAM replay of a message first seen live carries the archive id: remember it.
        if (m.stanzaId && existing.stanza_id === null) setStanza.run(m.stanzaId, existing.id);
        return { id: String(existing.id), inserted: false };
      }
      // Not a re-delivery: a key belongs to a different id of this conversation. Store the row
      // with that key NULL; the unkeyed unique index on the text then guards it.
      const ok = okey !== null && originKeyTaken.get(okey) ? null : okey;
      const sk = skey !== null && stanzaKeyTaken.get(conv, skey) ? null : skey;
      info = run(ok, sk);
      if (info.changes === 0) throw new Error('insert ignored but no duplicate found');
    }
    if (touchConv) touch.run(m.sentAt, conv);
    return { id: String(info.lastInsertRowid), inserted: true };
  };

  const insertMany = db.transaction((ms: NewMessage[]): BulkInsertResult => {
    const latest = new Map<number, number>();
    const results: InsertResult[] = [];
    let inserted = 0;
    for (const m of ms) {
      const r = insertOne(m, false);
      results.push(r);
      if (r.inserted) {
        inserted++;
        const conv = Number(m.conversationId);
        if ((latest.get(conv) ?? -1) < m.sentAt) latest.set(conv, m.sentAt);
      }
    }
    for (const [conv, at] of latest) touch.run(at, conv);
    if (!opts.deferIndex) while (indexer.indexSome(INDEX_STEP) > 0);
    return { results, inserted, duplicates: ms.length - inserted };
  });

  const get = (id: string): Message | undefined => {
    const n = parseId(id);
    const r = n === null ? undefined : byId.get(n);
    return r ? toMessage(r) : undefined;
  };

  const move = db.transaction((id: number, state: MessageState, at: number): Message => {
    const row = byId.get(id)!; // re-read inside the write transaction
    if (allowedMove(row.state, state)) {
      setState.run(state, row.id);
      if (state === 'read' && row.direction === 'out') setRead.run(at, row.id);
      if (state === 'delivered' && row.direction === 'out') setReceived.run(at, row.id);
    }
    return toMessage(byId.get(row.id)!);
  });

  const search = createSearch(db);
  const conversationIds = db.prepare<[], { id: number }>('SELECT id FROM conversations ORDER BY id');
  // Retention is by received time (issue 10 §4): a sender's clock cannot keep a message past it.
  // sent_at is never later than received_at (migration 0006), so the paging index
  // (conversation_id, sent_at, id) still bounds the scan; the FTS delete trigger (migration 0002)
  // removes the text from the search index; outbox and attachments cascade.
  const purgeConversation = db.prepare<[number, number, number]>(
    `DELETE FROM messages WHERE conversation_id = ? AND sent_at < ? AND coalesce(received_at, sent_at) < ?
       AND id NOT IN (SELECT message_id FROM outbox)`,
  );
  const purgeOne = db.transaction((conv: number, cutoff: number) => purgeConversation.run(conv, cutoff, cutoff).changes);
  // Every message that left or reached this workstation; our own still queued or failed never left.
  const auditableAfter = db.prepare<[number, number], { id: number }>(
    `SELECT id FROM messages WHERE id > ? AND NOT (direction = 'out' AND state IN ('queued', 'failed')) ORDER BY id LIMIT ?`,
  );

  return {
    insert: (m) =>
      db.transaction(() => {
        const r = insertOne(m, true);
        if (r.inserted && m.body !== null) indexer.indexOne(Number(r.id)); // a live message is searchable at once
        return r;
      }).immediate(),
    insertMany: (ms) => insertMany.immediate(ms),
    get,
    findByOriginId(conversationId, originId) {
      const n = parseId(conversationId);
      const r = n === null ? undefined : byOrigin.get(n, originId);
      return r ? toMessage(r) : undefined;
    },
    newestInbound(conversationId) {
      const n = parseId(conversationId);
      const r = n === null ? undefined : newestIn.get(n);
      return r ? toMessage(r) : undefined;
    },
    findByStanzaId(conversationId, stanzaId) {
      const n = parseId(conversationId);
      const r = n === null ? undefined : byStanza.get(n, stanzaId);
      return r ? toMessage(r) : undefined;
    },
    updateState(id, state, at = opts.clock.now()) {
      const n = parseId(id);
      const row = n === null ? undefined : byId.get(n);
      return row ? move.immediate(row.id, state, at) : undefined;
    },
    updateStateByOriginId(conversationId, originId, state, at = opts.clock.now()) {
      const n = parseId(conversationId);
      const row = n === null ? undefined : byOrigin.get(n, originId);
      return row ? move.immediate(row.id, state, at) : undefined;
    },
    setStanzaId(id, stanzaId) {
      const n = parseId(id);
      if (n !== null) setStanza.run(stanzaId, n);
    },
    page(conversationId, { before, limit }) {
      const conv = parseId(conversationId);
      if (conv === null) return { items: [], nextCursor: null };
      const after = decodeCursor(before);
      const rows = after ? pageNext.all(conv, after.at, after.id, limit + 1) : pageFirst.all(conv, limit + 1);
      const more = rows.length > limit;
      const page = more ? rows.slice(0, limit) : rows;
      const last = page[page.length - 1];
      return { items: page.map(toMessage), nextCursor: more && last ? encodeCursor(last.sent_at, last.id) : null };
    },
    around(conversationId, messageId, limit) {
      const conv = parseId(conversationId);
      const id = parseId(messageId);
      const target = conv === null || id === null ? undefined : inConv.get(id, conv);
      if (!target || conv === null) throw new AppError('NOT_FOUND', 'No such message in this conversation.');
      const olderWanted = Math.floor((limit - 1) / 2);
      // One extra row each way tells whether more exist beyond the window.
      const newer = pageNewer.all(conv, target.sent_at, target.id, limit - 1 - olderWanted + 1);
      const hasNewer = newer.length > limit - 1 - olderWanted;
      const newerKept = hasNewer ? newer.slice(0, limit - 1 - olderWanted) : newer;
      // A window near the newest end fills up with older rows instead.
      const olderLimit = limit - 1 - newerKept.length;
      const older = olderLimit > 0 ? pageNext.all(conv, target.sent_at, target.id, olderLimit + 1) : [];
      const moreOlder = older.length > olderLimit;
      const olderKept = moreOlder ? older.slice(0, olderLimit) : older;
      const oldest = olderKept[olderKept.length - 1] ?? target;
      const hasOlder = olderLimit > 0 ? moreOlder : pageNext.get(conv, target.sent_at, target.id, 1) !== undefined;
      return {
        items: [...newerKept.reverse(), target, ...olderKept].map(toMessage),
        nextCursor: hasOlder ? encodeCursor(oldest.sent_at, oldest.id) : null,
        hasNewer,
      };
    },
    search,
    searchBacklog: () => indexer.pending(),
    indexPending: (limit) => db.transaction(() => indexer.indexSome(limit)).immediate(),
    *auditableIds() {
      for (let after = 0; ; ) {
        const rows = auditableAfter.all(after, 5000);
        if (rows.length === 0) return;
        for (const r of rows) yield String(r.id);
        after = rows[rows.length - 1]!.id;
      }
    },
    purgeBefore(cutoff) {
      let deleted = 0;
      for (const { id } of conversationIds.all()) deleted += purgeOne.immediate(id, cutoff);
      return deleted;
    },
  };
}
