/**
 * Conversations and the list the UI shows: newest activity first, keyset-paged on
 * (last_at, id) through conversations_by_activity; the last message comes from messages_page (a
 * per-row index seek) and the unread counts from the conversation's own row, kept by triggers on
 * messages (migration 0018), so the first page costs the same at 1k or 1M messages and at 10 or
 * 10,000 unread.
 *
 * A message that could not be verified (state 'unverified', body null) is not an unread message:
 * it is never shown as one, so it must not raise the badge either (issue 10 §9); the triggers
 * count it out.
 */
import type { MessageState, Role, TrustState } from '../../../common/contract/domain';
import { decodeCursor, encodeCursor, parseId } from '../ids';
import type { Clock } from '../../clock';
import type { Db } from '../open-db';
import type { ConversationListItem, ConversationRepo, ConversationRow } from '../types';

const PREVIEW_CHARS = 140;

interface ConvRow {
  id: number;
  peer_jid: string;
  created_at: number;
  last_at: number;
}

interface ListRow {
  id: number;
  peer_jid: string;
  last_at: number;
  display_name: string | null;
  role: Role | null;
  trust: TrustState | null;
  m_id: number | null;
  m_body: string | null;
  m_sent_at: number | null;
  m_direction: 'in' | 'out' | null;
  m_state: MessageState | null;
  m_retracted_at: number | null;
  unread: number;
  urgent_unread: number;
  mention_unread: number;
  /** A care-team room (migration 0014): its name, whether it removed us, its members as JSON. */
  r_id: number | null;
  r_name: string | null;
  r_left: number | null;
  r_members: string | null;
  /** Migration 0015: an announcement room; what it no longer keeps of the clinic's policy. */
  r_announcement: number | null;
  r_unsafe: string | null;
}

type RoomMembers = NonNullable<ConversationListItem['room']>['members'];
type RoomProblems = NonNullable<NonNullable<ConversationListItem['room']>['unsafe']>;

/** The stored problems (`open,anonymous`) as the contract's list; words it does not know are dropped. */
const roomProblems = (text: string): RoomProblems =>
  text.split(',').filter((w): w is RoomProblems[number] => w === 'open' || w === 'anonymous');

const toRoom = (r: ListRow): NonNullable<ConversationListItem['room']> => ({
  left: r.r_left !== null,
  members: JSON.parse(r.r_members ?? '[]') as RoomMembers,
  ...(r.r_announcement === 1 ? { announcement: true } : {}),
  ...(r.r_unsafe ? { unsafe: roomProblems(r.r_unsafe) } : {}),
});

const toConv = (r: ConvRow): ConversationRow => ({
  id: String(r.id),
  peerJid: r.peer_jid,
  createdAt: r.created_at,
  lastAt: r.last_at,
});

function preview(body: string | null): string | null {
  if (body === null) return null;
  const flat = body.replace(/\s+/g, ' ').trim();
  if (flat.length <= PREVIEW_CHARS) return flat;
  // Do not cut a surrogate pair in half.
  let end = PREVIEW_CHARS;
  const c = flat.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end -= 1;
  return `${flat.slice(0, end)}…`;
}

const toItem = (r: ListRow): ConversationListItem => ({
  id: String(r.id),
  peerJid: r.peer_jid,
  title: r.display_name ?? r.r_name ?? r.peer_jid,
  role: r.role,
  trust: r.trust ?? 'unknown',
  lastMessage:
    r.m_sent_at === null
      ? null
      : {
          id: String(r.m_id),
          // Never a body of a message that could not be verified, even if one were stored.
          preview: r.m_state === 'unverified' ? null : preview(r.m_body),
          at: r.m_sent_at,
          direction: r.m_direction!,
          state: r.m_state!,
          // Deleted for everyone by its sender (issue 12 §6): the inbox says so instead of a preview.
          ...(r.m_retracted_at !== null ? { deleted: true } : {}),
        },
  unread: r.unread,
  urgentUnread: r.urgent_unread,
  ...(r.mention_unread > 0 ? { mentionUnread: r.mention_unread } : {}),
  ...(r.r_id !== null ? { room: toRoom(r) } : {}),
});

const SELECT_ITEM = `
  SELECT c.id, c.peer_jid, c.last_at, ct.display_name, ct.role, ct.trust,
         m.id AS m_id, m.body AS m_body, m.sent_at AS m_sent_at, m.direction AS m_direction, m.state AS m_state,
         m.retracted_at AS m_retracted_at,
         c.unread, c.urgent_unread, c.mention_unread,
         r.conversation_id AS r_id, r.name AS r_name, r.left_at AS r_left,
         r.announcement AS r_announcement, r.unsafe AS r_unsafe,
         CASE WHEN r.conversation_id IS NULL THEN NULL ELSE
           (SELECT json_group_array(json_object('jid', a.jid, 'affiliation', a.affiliation)) FROM room_affiliations a
             WHERE a.room_id = c.id AND a.affiliation IN ('owner','admin','member')
               AND a.id = (SELECT b.id FROM room_affiliations b WHERE b.room_id = a.room_id AND b.jid = a.jid
                           ORDER BY b.at DESC, b.id DESC LIMIT 1)) END AS r_members
    FROM conversations c
    LEFT JOIN contacts ct ON ct.jid = c.peer_jid
    LEFT JOIN rooms r ON r.conversation_id = c.id
    LEFT JOIN messages m ON m.id = (SELECT x.id FROM messages x WHERE x.conversation_id = c.id
                                    ORDER BY x.sent_at DESC, x.id DESC LIMIT 1)`;

export function createConversationRepo(db: Db, clock: Pick<Clock, 'now'>): ConversationRepo {
  const byId = db.prepare<[number], ConvRow>('SELECT * FROM conversations WHERE id = ?');
  const byPeer = db.prepare<[string], ConvRow>('SELECT * FROM conversations WHERE peer_jid = ?');
  const insert = db.prepare<[string, number, number]>(
    'INSERT INTO conversations (peer_jid, created_at, last_at) VALUES (?, ?, ?) ON CONFLICT (peer_jid) DO NOTHING',
  );
  const first = db.prepare<[number], ListRow>(`${SELECT_ITEM} ORDER BY c.last_at DESC, c.id DESC LIMIT ?`);
  const next = db.prepare<[number, number, number], ListRow>(
    `${SELECT_ITEM} WHERE (c.last_at, c.id) < (?, ?) ORDER BY c.last_at DESC, c.id DESC LIMIT ?`,
  );
  const one = db.prepare<[number], ListRow>(`${SELECT_ITEM} WHERE c.id = ?`);
  const markRead = db.prepare<[number, number]>(
    `UPDATE messages SET read_at = ? WHERE conversation_id = ? AND direction = 'in' AND read_at IS NULL`,
  );
  // Display order is (sent_at, id): a message that sorts after `upTo` was not on screen yet.
  const MARK_READ_UP_TO = `UPDATE messages SET read_at = ? WHERE conversation_id = ? AND direction = 'in' AND read_at IS NULL
      AND (sent_at, id) <= (SELECT sent_at, id FROM messages WHERE id = ? AND conversation_id = ?)`;
  const markReadUpTo = db.prepare<[number, number, number, number]>(MARK_READ_UP_TO);
  // A mark from another workstation (XEP-0490, read-sync.ts): also only what was stored here by the
  // time the marked message was (row id), see ConversationRepo.markReadAsMarked.
  const markReadAsMarked = db.prepare<[number, number, number, number, number]>(`${MARK_READ_UP_TO} AND id <= ?`);

  const markUnreadFrom = db.prepare<[number, number, number]>(
    `UPDATE messages SET read_at = NULL WHERE conversation_id = ? AND direction = 'in' AND read_at IS NOT NULL
      AND (sent_at, id) >= (SELECT sent_at, id FROM messages WHERE id = ? AND conversation_id = ?)`,
  );

  return {
    getOrCreate(peerJid, now = clock.now()) {
      insert.run(peerJid, now, now);
      return toConv(byPeer.get(peerJid)!);
    },
    get(id) {
      const n = parseId(id);
      const r = n === null ? undefined : byId.get(n);
      return r ? toConv(r) : undefined;
    },
    byPeer(peerJid) {
      const r = byPeer.get(peerJid);
      return r ? toConv(r) : undefined;
    },
    list({ cursor, limit }) {
      const after = decodeCursor(cursor);
      const rows = after ? next.all(after.at, after.id, limit + 1) : first.all(limit + 1);
      const more = rows.length > limit;
      const page = more ? rows.slice(0, limit) : rows;
      const last = page[page.length - 1];
      return { items: page.map(toItem), nextCursor: more && last ? encodeCursor(last.last_at, last.id) : null };
    },
    summary(id) {
      const n = parseId(id);
      const r = n === null ? undefined : one.get(n);
      return r ? toItem(r) : undefined;
    },
    markRead(id, at = clock.now(), upTo) {
      const n = parseId(id);
      if (n === null) return 0;
      if (upTo === undefined) return markRead.run(at, n).changes;
      const last = parseId(upTo);
      return last === null ? 0 : markReadUpTo.run(at, n, last, n).changes;
    },
    markReadAsMarked(id, at, upTo) {
      const n = parseId(id);
      const last = parseId(upTo);
      return n === null || last === null ? 0 : markReadAsMarked.run(at, n, last, n, last).changes;
    },
    markUnread(id, from) {
      const n = parseId(id);
      const first = parseId(from);
      return n === null || first === null ? 0 : markUnreadFrom.run(n, first, n).changes;
    },
  };
}
