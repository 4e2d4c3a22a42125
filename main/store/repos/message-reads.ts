/**
 * Reading messages: by id, by XEP-0359 id, and keyset pages on the paging index
 * (conversation_id, sent_at, id) — newest first, or a window around one message (search jump).
 */
import { AppError } from '../../../common/result';
import { decodeCursor, encodeCursor, parseId } from '../ids';
import type { Db } from '../open-db';
import type { MessageRepo } from '../types';
import { toMessageWithReply, type MessageLookup, type Row } from './message-rows';

type MessageReads = Pick<
  MessageRepo,
  'get' | 'findByOriginId' | 'findByStanzaId' | 'newestInbound' | 'page' | 'around'
>;

export function createMessageReads(db: Db, rows: MessageLookup): MessageReads {
  const toMessage = (r: Row) => toMessageWithReply(r, rows);
  const pageFirst = db.prepare<[number, number], Row>(
    'SELECT * FROM messages WHERE conversation_id = ? ORDER BY sent_at DESC, id DESC LIMIT ?',
  );
  const pageNext = db.prepare<[number, number, number, number], Row>(
    'SELECT * FROM messages WHERE conversation_id = ? AND (sent_at, id) < (?, ?) ORDER BY sent_at DESC, id DESC LIMIT ?',
  );
  // Same keyset as pageNext, the other way: the index on (conversation_id, sent_at, id) serves both.
  const pageNewer = db.prepare<[number, number, number, number], Row>(
    'SELECT * FROM messages WHERE conversation_id = ? AND (sent_at, id) > (?, ?) ORDER BY sent_at ASC, id ASC LIMIT ?',
  );
  const inConv = db.prepare<[number, number], Row>('SELECT * FROM messages WHERE id = ? AND conversation_id = ?');
  // Walks the paging index from the newest end; stops at the first match.
  const newestIn = db.prepare<[number], Row>(
    `SELECT * FROM messages WHERE conversation_id = ? AND direction = 'in' AND state <> 'unverified' AND origin_id IS NOT NULL
      ORDER BY sent_at DESC, id DESC LIMIT 1`,
  );
  const newestInUpTo = db.prepare<[number, number, number], Row>(
    `SELECT * FROM messages WHERE conversation_id = ? AND direction = 'in' AND state <> 'unverified' AND origin_id IS NOT NULL
      AND (sent_at, id) <= (SELECT sent_at, id FROM messages WHERE id = ? AND conversation_id = ?)
      ORDER BY sent_at DESC, id DESC LIMIT 1`,
  );

  /** A string id that is not one of ours is "not found", never an error. */
  const inConversation = (conversationId: string, find: (conv: number) => Row | undefined) => {
    const n = parseId(conversationId);
    const r = n === null ? undefined : find(n);
    return r ? toMessage(r) : undefined;
  };

  return {
    get(id) {
      const n = parseId(id);
      const r = n === null ? undefined : rows.byId(n);
      return r ? toMessage(r) : undefined;
    },
    findByOriginId: (conversationId, originId) =>
      inConversation(conversationId, (conv) => rows.byOrigin(conv, originId)),
    findByStanzaId: (conversationId, stanzaId) =>
      inConversation(conversationId, (conv) => rows.byStanza(conv, stanzaId)),
    newestInbound: (conversationId, upTo) =>
      inConversation(conversationId, (conv) => {
        if (upTo === undefined) return newestIn.get(conv);
        const last = parseId(upTo);
        return last === null ? undefined : newestInUpTo.get(conv, last, conv);
      }),
    page(conversationId, { before, limit }) {
      const conv = parseId(conversationId);
      if (conv === null) return { items: [], nextCursor: null };
      const after = decodeCursor(before);
      const found = after ? pageNext.all(conv, after.at, after.id, limit + 1) : pageFirst.all(conv, limit + 1);
      const more = found.length > limit;
      const page = more ? found.slice(0, limit) : found;
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
  };
}
