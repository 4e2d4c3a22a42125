/**
 * Writing messages: insert with dedup, catch-up bulk insert, the archive's stanza-id; and state
 * moves along the delivery ladder.
 * Dedup relies on the partial unique indexes of migration 0004 (message-rows.ts):
 * `ON CONFLICT DO NOTHING` makes a re-delivery a no-op (CHECK and FK errors still throw).
 */
import type { Message, MessageState } from '../../../common/contract/domain';
import { AppError } from '../../../common/result';
import type { Clock } from '../../clock';
import { idKey } from '../dedup-key';
import { parseId } from '../ids';
import type { Db } from '../open-db';
import type { InsertResult, MessageRepo, NewMessage } from '../types';
import type { FtsIndexer } from './fts-index';
import { toMessageWithReply, type MessageLookup, type Row } from './message-rows';

function convId(id: string): number {
  const n = parseId(id);
  if (n === null) throw new AppError('NOT_FOUND', 'No such conversation.');
  return n;
}

/** Rows per indexing step when draining the queue inline. */
const INDEX_STEP = 5000;

type MessageWrites = Pick<MessageRepo, 'insert' | 'insertMany' | 'setStanzaId'>;

/** conversation, direction, state, origin-id, stanza-id, body, sent, received, read, origin key, stanza key, claimed, reply-to, urgent, signer, room sender, mentions, mentions us. */
type InsertParams = [
  number,
  string,
  string,
  string | null,
  string | null,
  string | null,
  number,
  number | null,
  number | null,
  number | null,
  number | null,
  number | null,
  string | null,
  number,
  string | null,
  string | null,
  string | null,
  number,
];

/** New rows, deduplicated, full-text indexed in the same transaction (searchable as soon as the call returns). */
export function createMessageWrites(db: Db, rows: MessageLookup, indexer: FtsIndexer): MessageWrites {
  const insert = db.prepare<InsertParams>(
    `INSERT INTO messages (conversation_id, direction, state, origin_id, stanza_id, body, sent_at, received_at, read_at, origin_key, stanza_key, claimed_at, reply_to_origin_id, urgent, signer, sender_jid, mentions, mentions_me)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  );
  const touch = db.prepare<[number, number]>('UPDATE conversations SET last_at = max(last_at, ?) WHERE id = ?');
  const originKeyTaken = db.prepare<[number], { id: number }>('SELECT id FROM messages WHERE origin_key = ?');
  const stanzaKeyTaken = db.prepare<[number, number], { id: number }>(
    'SELECT id FROM messages WHERE conversation_id = ? AND stanza_key = ? AND origin_id IS NULL',
  );
  const setStanzaKeyed = db.prepare<[string, number, number]>(
    'UPDATE OR IGNORE messages SET stanza_id = ?, stanza_key = ? WHERE id = ? AND stanza_id IS NULL AND origin_id IS NULL',
  );
  const setStanzaUnkeyed = db.prepare<[string, number]>(
    'UPDATE OR IGNORE messages SET stanza_id = ? WHERE id = ? AND stanza_id IS NULL',
  );

  /**
   * Remembers a stanza-id on a row that has none. A row with an origin-id just stores it (its
   * identity is the origin-id); an origin-less row takes it only if no other row of the
   * conversation is identified by it.
   */
  const setStanza = (stanzaId: string, id: number): void => {
    if (setStanzaKeyed.run(stanzaId, idKey(stanzaId), id).changes > 0) return;
    const row = rows.byId(id);
    if (!row || row.stanza_id !== null) return;
    if (row.origin_id === null && rows.byStanza(row.conversation_id, stanzaId)) return;
    setStanzaUnkeyed.run(stanzaId, id); // origin row, or the key belongs to a different id: store unkeyed
  };

  const findExisting = (conv: number, m: NewMessage): Row | undefined =>
    m.originId ? rows.byOrigin(conv, m.originId) : m.stanzaId ? rows.byStanza(conv, m.stanzaId) : undefined;

  /** One insert without its own transaction; `touchConv` false lets bulk insert batch the touch. */
  const insertOne = (m: NewMessage, touchConv: boolean): InsertResult => {
    const conv = convId(m.conversationId);
    // An empty id is no id (as findExisting reads it): it must neither key nor identify a message.
    const origin = m.originId || null;
    const stanza = m.stanzaId || null;
    const okey = origin === null ? null : idKey(origin);
    const skey = stanza === null || origin !== null ? null : idKey(stanza);
    const run = (ok: number | null, sk: number | null) =>
      insert.run(
        conv,
        m.direction,
        m.state,
        origin,
        stanza,
        m.body,
        m.sentAt,
        m.receivedAt ?? null,
        m.readAt ?? null,
        ok,
        sk,
        m.claimedAt ?? null,
        m.replyToOriginId || null,
        m.urgent ? 1 : 0,
        m.signer ?? null,
        m.senderJid ?? null,
        m.mentions?.length ? JSON.stringify(m.mentions) : null,
        m.mentionsMe ? 1 : 0,
      );
    let info = run(okey, skey);
    if (info.changes === 0) {
      const existing = findExisting(conv, m);
      if (existing) {
        // A MAM replay of a message first seen live carries the archive id: remember it.
        if (m.stanzaId && existing.stanza_id === null) setStanza(m.stanzaId, existing.id);
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

  const insertMany = db.transaction((ms: NewMessage[]) => {
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
    while (indexer.indexSome(INDEX_STEP) > 0);
    return { results, inserted, duplicates: ms.length - inserted };
  });

  return {
    insert: (m) =>
      db
        .transaction(() => {
          const r = insertOne(m, true);
          if (r.inserted && m.body !== null) indexer.indexOne(Number(r.id)); // a live message is searchable at once
          return r;
        })
        .immediate(),
    insertMany: (ms) => insertMany.immediate(ms),
    setStanzaId(id, stanzaId) {
      const n = parseId(id);
      if (n !== null) setStanza(stanzaId, n);
    },
  };
}

/** The delivery ladder; a state only moves up it (a late receipt never undoes a read marker). */
const RANK: Record<MessageState, number> = { queued: 0, sent: 1, delivered: 3, read: 4, failed: -1, unverified: -2 };

function allowedMove(from: MessageState, to: MessageState): boolean {
  if (from === to || from === 'unverified' || to === 'unverified') return false;
  if (to === 'failed') return from === 'queued' || from === 'sent';
  if (from === 'failed') return to === 'queued' || RANK[to] > RANK.sent; // retry, or a late ack proves it went out
  return RANK[to] > RANK[from];
}

/** Moves along the delivery ladder (MessageRepo.updateState). */
export function createMessageStateMoves(
  db: Db,
  rows: MessageLookup,
  clock: Pick<Clock, 'now'>,
): Pick<MessageRepo, 'updateState' | 'updateStateByOriginId'> {
  // The failure code goes with the state: set by a move to 'failed', cleared by any other move.
  const setState = db.prepare<[string, string | null, number]>(
    'UPDATE messages SET state = ?, failure = ? WHERE id = ?',
  );
  const setRead = db.prepare<[number, number]>('UPDATE messages SET read_at = coalesce(read_at, ?) WHERE id = ?');
  const setReceived = db.prepare<[number, number]>(
    'UPDATE messages SET received_at = coalesce(received_at, ?) WHERE id = ?',
  );
  const move = db.transaction((id: number, state: MessageState, at: number, failure?: string): Message => {
    const row = rows.byId(id)!; // re-read inside the write transaction
    if (allowedMove(row.state, state)) {
      setState.run(state, state === 'failed' ? (failure ?? 'INTERNAL') : null, row.id);
      if (state === 'read' && row.direction === 'out') setRead.run(at, row.id);
      if (state === 'delivered' && row.direction === 'out') setReceived.run(at, row.id);
    }
    return toMessageWithReply(rows.byId(row.id)!, rows);
  });
  return {
    updateState(id, state, at = clock.now(), failure) {
      const n = parseId(id);
      const row = n === null ? undefined : rows.byId(n);
      return row ? move.immediate(row.id, state, at, failure) : undefined;
    },
    updateStateByOriginId(conversationId, originId, state, at = clock.now()) {
      const n = parseId(conversationId);
      const row = n === null ? undefined : rows.byOrigin(n, originId);
      return row ? move.immediate(row.id, state, at) : undefined;
    },
  };
}
