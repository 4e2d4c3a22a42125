/**
 * The two lookups read state synced across a person's workstations needs (XEP-0490, issue 12 §6;
 * main/xmpp/read-sync.ts): which archive id names what was read here, and which unread message an
 * archive id from another workstation names. Rows with an origin-id have no stanza-id index
 * (migration 0005), so both walk the paging index (conversation_id, sent_at, id) from a bound.
 */
import { parseId } from '../ids';
import type { Db } from '../open-db';

/** Part of MessageRepo (types.ts). */
export interface ReadMarkers {
  /**
   * The newest verified inbound message our archive gave a stanza-id (XEP-0359, `by` = our bare
   * JID), at or before `upTo` in display order when given: what a XEP-0490 mark names.
   */
  newestReadMarker(conversationId: string, upTo?: string): { messageId: string; stanzaId: string } | undefined;
  /**
   * The id of the verified inbound message with this stanza-id, only when it is at or after the
   * conversation's oldest unread message (so marking read up to it changes something); else undefined.
   */
  unreadByStanzaId(conversationId: string, stanzaId: string): string | undefined;
}

export function createReadMarkers(db: Db): ReadMarkers {
  // From `upTo` backwards: the first verified inbound row the archive gave an id.
  const newestUpTo = db.prepare<[number, number, number], { id: number; stanza_id: string }>(
    `SELECT id, stanza_id FROM messages WHERE conversation_id = ? AND direction = 'in' AND state <> 'unverified'
      AND stanza_id IS NOT NULL
      AND (sent_at, id) <= (SELECT sent_at, id FROM messages WHERE id = ? AND conversation_id = ?)
      ORDER BY sent_at DESC, id DESC LIMIT 1`,
  );
  const newest = db.prepare<[number], { id: number; stanza_id: string }>(
    `SELECT id, stanza_id FROM messages WHERE conversation_id = ? AND direction = 'in' AND state <> 'unverified'
      AND stanza_id IS NOT NULL ORDER BY sent_at DESC, id DESC LIMIT 1`,
  );
  // Only from the oldest unread message on: a mark naming anything older changes nothing, and the
  // scan stays as short as what is unread (messages_unread finds its start).
  const unread = db.prepare<[number, string, number], { id: number }>(
    `SELECT id FROM messages WHERE conversation_id = ? AND direction = 'in' AND state <> 'unverified'
      AND stanza_id = ?
      AND (sent_at, id) >= (SELECT sent_at, id FROM messages WHERE conversation_id = ? AND direction = 'in'
                              AND read_at IS NULL AND state <> 'unverified' ORDER BY sent_at, id LIMIT 1)
      ORDER BY sent_at DESC, id DESC LIMIT 1`,
  );
  return {
    newestReadMarker(conversationId, upTo) {
      const conv = parseId(conversationId);
      if (conv === null) return undefined;
      let r: { id: number; stanza_id: string } | undefined;
      if (upTo === undefined) r = newest.get(conv);
      else {
        const last = parseId(upTo);
        r = last === null ? undefined : newestUpTo.get(conv, last, conv);
      }
      return r ? { messageId: String(r.id), stanzaId: r.stanza_id } : undefined;
    },
    unreadByStanzaId(conversationId, stanzaId) {
      const conv = parseId(conversationId);
      const r = conv === null ? undefined : unread.get(conv, stanzaId, conv);
      return r ? String(r.id) : undefined;
    },
  };
}
