/**
 * "Read by" in care-team rooms (issue 18 §4, migration 0016): per room and member, the newest
 * message their XEP-0333 displayed marker named (main/xmpp/room-reads.ts checks who sent it). A
 * marker says "read up to here": it covers every message at or before that one in the
 * conversation's order (sent_at, id), and it only ever moves forward.
 */
import { parseId } from '../ids';
import type { Db } from '../open-db';

/** A marker naming a message older than the room's newest this many is ignored (markers move forward). */
export const MARK_WINDOW = 5000;

/** A place in a conversation's order. */
export interface MessagePosition {
  sentAt: number;
  id: number;
}

export interface RoomReadMark extends MessagePosition {
  jid: string;
}

export interface RoomReadRepo {
  /** The message of the conversation the room stamped with this stanza-id, among its newest MARK_WINDOW. */
  byRoomStanzaId(conversationId: string, stanzaId: string): MessagePosition | undefined;
  /**
   * `jid` read up to the message `to`: recorded only when it is later than their mark so far.
   * Answers the earlier mark (null: none), or undefined when nothing moved.
   */
  record(
    conversationId: string,
    jid: string,
    to: MessagePosition,
    at: number,
  ): { from: MessagePosition | null } | undefined;
  /** Every member's mark in the room. */
  marks(conversationId: string): RoomReadMark[];
  /** Ids of our own messages after `from` (null: the start) up to and including `to`, newest first, at most `limit`. */
  ownBetween(conversationId: string, from: MessagePosition | null, to: MessagePosition, limit: number): string[];
}

const later = (a: MessagePosition, b: MessagePosition): boolean =>
  a.sentAt > b.sentAt || (a.sentAt === b.sentAt && a.id > b.id);

export function createRoomReadRepo(db: Db): RoomReadRepo {
  // Walks the paging index from the newest end, MARK_WINDOW rows at most.
  const byStanza = db.prepare<[number, string], { id: number; sent_at: number }>(
    `SELECT id, sent_at FROM (SELECT id, sent_at, stanza_id FROM messages WHERE conversation_id = ?
       ORDER BY sent_at DESC, id DESC LIMIT ${MARK_WINDOW}) WHERE stanza_id = ? LIMIT 1`,
  );
  const markOf = db.prepare<[number, string], { sent_at: number; id: number }>(
    `SELECT m.sent_at, m.id FROM room_reads r JOIN messages m ON m.id = r.message_id WHERE r.room_id = ? AND r.jid = ?`,
  );
  const upsert = db.prepare<[number, string, number, number]>(
    `INSERT INTO room_reads (room_id, jid, message_id, at) VALUES (?, ?, ?, ?)
     ON CONFLICT (room_id, jid) DO UPDATE SET message_id = excluded.message_id, at = excluded.at`,
  );
  const all = db.prepare<[number], { jid: string; sent_at: number; id: number }>(
    `SELECT r.jid, m.sent_at, m.id FROM room_reads r JOIN messages m ON m.id = r.message_id WHERE r.room_id = ? ORDER BY r.jid`,
  );
  const ownFromStart = db.prepare<[number, number, number, number], { id: number }>(
    `SELECT id FROM messages WHERE conversation_id = ? AND direction = 'out' AND (sent_at, id) <= (?, ?)
      ORDER BY sent_at DESC, id DESC LIMIT ?`,
  );
  const ownAfter = db.prepare<[number, number, number, number, number, number], { id: number }>(
    `SELECT id FROM messages WHERE conversation_id = ? AND direction = 'out' AND (sent_at, id) > (?, ?) AND (sent_at, id) <= (?, ?)
      ORDER BY sent_at DESC, id DESC LIMIT ?`,
  );
  const record = db.transaction((room: number, jid: string, to: MessagePosition, at: number) => {
    const r = markOf.get(room, jid);
    const from = r ? { sentAt: r.sent_at, id: r.id } : null;
    if (from && !later(to, from)) return undefined;
    upsert.run(room, jid, to.id, at);
    return { from };
  });
  return {
    byRoomStanzaId(conversationId, stanzaId) {
      const conv = parseId(conversationId);
      const r = conv === null ? undefined : byStanza.get(conv, stanzaId);
      return r ? { sentAt: r.sent_at, id: r.id } : undefined;
    },
    record(conversationId, jid, to, at) {
      const conv = parseId(conversationId);
      return conv === null ? undefined : record.immediate(conv, jid.toLowerCase(), to, at);
    },
    marks(conversationId) {
      const conv = parseId(conversationId);
      return conv === null ? [] : all.all(conv).map((r) => ({ jid: r.jid, sentAt: r.sent_at, id: r.id }));
    },
    ownBetween(conversationId, from, to, limit) {
      const conv = parseId(conversationId);
      if (conv === null) return [];
      const rows = from
        ? ownAfter.all(conv, from.sentAt, from.id, to.sentAt, to.id, limit)
        : ownFromStart.all(conv, to.sentAt, to.id, limit);
      return rows.map((r) => String(r.id));
    },
  };
}
