/**
 * The messages table as rows, and how a message is identified: by its origin-id when it has one,
 * else by its stanza-id (migration 0005). Integer keys of the XEP-0359 ids (idKey, see
 * ../dedup-key.ts) find the row through the partial unique indexes of migration 0004; every
 * lookup compares the id text too, so a colliding key never matches the wrong message.
 * Shared by the write side (dedup) and the read side (find by id).
 */
import type { Message, MessageState } from '../../../common/contract/domain';
import type { MentionRange } from '../../../common/mentions';
import { idKey } from '../dedup-key';
import type { Db } from '../open-db';

export interface Row {
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
  /** Why our message failed (migration 0007): an error code, null unless state is 'failed'. */
  failure: string | null;
  /** The origin-id a reply answers (migration 0008, XEP-0461). */
  reply_to_origin_id: string | null;
  /** Marked Urgent inside the signed payload (migration 0009, issue 12 §7). */
  urgent: 0 | 1;
  /** Edited / deleted for everyone by its sender, and who signed it (migration 0010, issue 12 §6). */
  edited_at: number | null;
  retracted_at: number | null;
  signer: string | null;
  /** A room message's sender (migration 0014); null in a pair. */
  sender_jid?: string | null;
  /** Its @mentions as JSON, and whether a received one mentions us (migration 0016, issue 18 §4). */
  mentions?: string | null;
  mentions_me?: 0 | 1;
}

/** The stored mentions; a column that does not parse as a list is no mentions (never an error). */
export function parseMentions(json: string | null | undefined): MentionRange[] {
  if (!json) return [];
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? (v as MentionRange[]) : [];
  } catch {
    return [];
  }
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
  failure: r.failure ?? null,
  ...(r.urgent === 1 ? { urgent: true } : {}),
  ...(r.sender_jid ? { senderJid: r.sender_jid } : {}),
  ...(r.mentions ? { mentions: parseMentions(r.mentions) } : {}),
  ...(r.mentions_me === 1 ? { mentionsMe: true } : {}),
  ...(r.edited_at !== null && r.edited_at !== undefined ? { editedAt: r.edited_at } : {}),
  ...(r.retracted_at !== null && r.retracted_at !== undefined ? { deletedAt: r.retracted_at } : {}),
});

/** How long a reply's quote may be: enough to recognise the message, never the whole of a long one. */
export const EXCERPT_CHARS = 200;

/**
 * The row as a Message with its reply reference resolved, by origin-id, in the row's own
 * conversation only (issue 12 §6): another conversation's message is never quoted.
 */
export function toMessageWithReply(r: Row, lookup: Pick<MessageLookup, 'byOrigin'>): Message {
  const m = toMessage(r);
  if (!r.reply_to_origin_id) return m;
  const q = lookup.byOrigin(r.conversation_id, r.reply_to_origin_id);
  const shown = q && q.state !== 'unverified' && q.retracted_at === null ? q.body : null;
  return {
    ...m,
    replyTo: q
      ? {
          messageId: String(q.id),
          direction: q.direction,
          excerpt: shown === null ? null : shown.slice(0, EXCERPT_CHARS),
        }
      : { messageId: null, direction: null, excerpt: null },
  };
}

export interface MessageLookup {
  byId(id: number): Row | undefined;
  byOrigin(conv: number, originId: string): Row | undefined;
  /** Only rows without an origin-id are identified by their stanza-id. */
  byStanza(conv: number, stanzaId: string): Row | undefined;
}

export function createMessageLookup(db: Db): MessageLookup {
  const byId = db.prepare<[number], Row>('SELECT * FROM messages WHERE id = ?');
  // Origin keys are unique across the table (migration 0005); the conversation and text make the match exact.
  const originKeyed = db.prepare<[number, number, string], Row>(
    'SELECT * FROM messages WHERE conversation_id = ? AND origin_key = ? AND origin_id = ?',
  );
  const originUnkeyed = db.prepare<[number, string], Row>(
    'SELECT * FROM messages WHERE conversation_id = ? AND origin_key IS NULL AND origin_id = ?',
  );
  // Stanza-ids identify only messages without an origin-id (migration 0005).
  const stanzaKeyed = db.prepare<[number, number, string], Row>(
    'SELECT * FROM messages WHERE conversation_id = ? AND stanza_key = ? AND stanza_id = ? AND origin_id IS NULL',
  );
  const stanzaUnkeyed = db.prepare<[number, string], Row>(
    'SELECT * FROM messages WHERE conversation_id = ? AND stanza_key IS NULL AND stanza_id = ? AND origin_id IS NULL',
  );
  return {
    byId: (id) => byId.get(id),
    byOrigin: (conv, originId) => originKeyed.get(conv, idKey(originId), originId) ?? originUnkeyed.get(conv, originId),
    byStanza: (conv, stanzaId) => stanzaKeyed.get(conv, idKey(stanzaId), stanzaId) ?? stanzaUnkeyed.get(conv, stanzaId),
  };
}
