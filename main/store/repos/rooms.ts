/**
 * Care-team rooms (issue 18, migration 0014): which conversations are rooms, and the history of
 * their member lists as this workstation learnt it. A room's conversation is an ordinary one (its
 * peer is the room's bare JID): its messages, search, retention and wipe are the messages table's.
 */
import type { Clock } from '../../clock';
import { parseId } from '../ids';
import type { Db } from '../open-db';

export type StoredAffiliation = 'owner' | 'admin' | 'member' | 'none' | 'outcast';
const MEMBER: ReadonlySet<string> = new Set(['owner', 'admin', 'member']);

export interface StoredRoom {
  conversationId: string;
  /** The room's bare JID. */
  jid: string;
  name: string | null;
  /** The nick we join with. */
  nick: string | null;
  joinedAt: number | null;
  /** Set when the room removed us (or refused our join); null while we are a member. */
  leftAt: number | null;
  /** An announcement room: only its owners post (migration 0015). */
  announcement: boolean;
  /** What the room no longer keeps of the clinic's policy (`open`, `anonymous`, comma-separated); null: it keeps it. */
  unsafe: string | null;
  /** Since when it is unsafe; null while it is not. */
  unsafeAt: number | null;
}

/** What the room's disco#info said (room-config.ts), as setConfig records it. */
export interface StoredRoomConfig {
  announcement: boolean;
  unsafe: string | null;
}

export interface AffiliationRecord {
  jid: string;
  affiliation: StoredAffiliation;
  at: number;
}

export interface RoomRepo {
  /** Creates the room (and its conversation) or updates its name / nick; returns the row. */
  upsert(jid: string, o: { name?: string | null; nick?: string | null }, now?: number): StoredRoom;
  get(jid: string): StoredRoom | undefined;
  byConversation(conversationId: string): StoredRoom | undefined;
  list(): StoredRoom[];
  /** We joined (leftAt cleared) or left / were removed (leftAt set). */
  setJoined(jid: string, at: number): void;
  setLeft(jid: string, at: number): void;
  /**
   * Records the room's configuration as read at `at`; returns which of the two changed (each change
   * is audited by the caller). Unknown room: nothing changes.
   */
  setConfig(jid: string, config: StoredRoomConfig, at: number): { announcement: boolean; unsafe: boolean };
  /**
   * Records a person's affiliation as of `at`, only when it differs from the last one recorded;
   * returns true when it did (a change to audit).
   */
  recordAffiliation(room: string, person: string, affiliation: StoredAffiliation, at: number): boolean;
  /** Every recorded change, oldest first (for membersAt). */
  changes(room: string): AffiliationRecord[];
  /** The members now (owner, admin, member), by JID. */
  members(room: string): { jid: string; affiliation: StoredAffiliation }[];
  /**
   * A room that was never made (staff creation undone, room-create.ts): its row, its member
   * history and its conversation go, only while that conversation holds no message. True when gone.
   */
  forgetUnmade(jid: string): boolean;
}

interface Row {
  conversation_id: number;
  jid: string;
  name: string | null;
  nick: string | null;
  joined_at: number | null;
  left_at: number | null;
  announcement: number;
  unsafe: string | null;
  unsafe_at: number | null;
}

const toRoom = (r: Row): StoredRoom => ({
  conversationId: String(r.conversation_id),
  jid: r.jid,
  name: r.name,
  nick: r.nick,
  joinedAt: r.joined_at,
  leftAt: r.left_at,
  announcement: r.announcement === 1,
  unsafe: r.unsafe,
  unsafeAt: r.unsafe_at,
});

export function createRoomRepo(db: Db, clock: Pick<Clock, 'now'>): RoomRepo {
  const conv = db.prepare<[string, number, number]>(
    'INSERT INTO conversations (peer_jid, created_at, last_at) VALUES (?, ?, ?) ON CONFLICT (peer_jid) DO NOTHING',
  );
  const convId = db.prepare<[string], { id: number }>('SELECT id FROM conversations WHERE peer_jid = ?');
  const insert = db.prepare<[number, string, string | null, string | null]>(
    `INSERT INTO rooms (conversation_id, jid, name, nick) VALUES (?, ?, ?, ?)
     ON CONFLICT (conversation_id) DO UPDATE SET name = coalesce(excluded.name, name), nick = coalesce(excluded.nick, nick)`,
  );
  const byJid = db.prepare<[string], Row>('SELECT * FROM rooms WHERE jid = ?');
  const byConv = db.prepare<[number], Row>('SELECT * FROM rooms WHERE conversation_id = ?');
  const all = db.prepare<[], Row>('SELECT * FROM rooms ORDER BY jid');
  const joined = db.prepare<[number, string]>('UPDATE rooms SET joined_at = ?, left_at = NULL WHERE jid = ?');
  const left = db.prepare<[number, string]>('UPDATE rooms SET left_at = ? WHERE jid = ? AND left_at IS NULL');
  const config = db.prepare<[number, string | null, number | null, number]>(
    'UPDATE rooms SET announcement = ?, unsafe = ?, unsafe_at = ? WHERE conversation_id = ?',
  );
  const history = db.prepare<[number], AffiliationRecord>(
    'SELECT jid, affiliation, at FROM room_affiliations WHERE room_id = ? ORDER BY at, id',
  );
  const lastOf = db.prepare<[number, string], { affiliation: StoredAffiliation }>(
    'SELECT affiliation FROM room_affiliations WHERE room_id = ? AND jid = ? ORDER BY at DESC, id DESC LIMIT 1',
  );
  const add = db.prepare<[number, string, string, number]>(
    'INSERT INTO room_affiliations (room_id, jid, affiliation, at) VALUES (?, ?, ?, ?)',
  );
  const roomId = (jid: string): number | undefined => byJid.get(jid.toLowerCase())?.conversation_id;
  // The room's row, its affiliations and any draft go with the conversation (ON DELETE CASCADE).
  const dropEmpty = db.prepare<[number, number]>(
    'DELETE FROM conversations WHERE id = ? AND NOT EXISTS (SELECT 1 FROM messages WHERE conversation_id = ?)',
  );

  const repo: RoomRepo = {
    upsert(jid, o, now = clock.now()) {
      const room = jid.toLowerCase();
      return db
        .transaction(() => {
          conv.run(room, now, now);
          const id = convId.get(room)!.id;
          insert.run(id, room, o.name ?? null, o.nick ?? null);
          return toRoom(byConv.get(id)!);
        })
        .immediate();
    },
    get: (jid) => {
      const r = byJid.get(jid.toLowerCase());
      return r ? toRoom(r) : undefined;
    },
    byConversation(conversationId) {
      const n = parseId(conversationId);
      const r = n === null ? undefined : byConv.get(n);
      return r ? toRoom(r) : undefined;
    },
    list: () => all.all().map(toRoom),
    setJoined: (jid, at) => void joined.run(at, jid.toLowerCase()),
    setLeft: (jid, at) => void left.run(at, jid.toLowerCase()),
    setConfig(jid, c, at) {
      return db
        .transaction(() => {
          const r = byJid.get(jid.toLowerCase());
          if (!r) return { announcement: false, unsafe: false };
          const changed = { announcement: (r.announcement === 1) !== c.announcement, unsafe: r.unsafe !== c.unsafe };
          if (changed.announcement || changed.unsafe) {
            const since = c.unsafe === null ? null : (r.unsafe_at ?? at);
            config.run(c.announcement ? 1 : 0, c.unsafe, since, r.conversation_id);
          }
          return changed;
        })
        .immediate();
    },
    recordAffiliation(room, person, affiliation, at) {
      const id = roomId(room);
      if (id === undefined) return false;
      const who = person.toLowerCase();
      const last = lastOf.get(id, who)?.affiliation;
      // Never recorded and not a member: nothing to remember.
      if (last === affiliation || (last === undefined && !MEMBER.has(affiliation))) return false;
      add.run(id, who, affiliation, at);
      return true;
    },
    changes(room) {
      const id = roomId(room);
      return id === undefined ? [] : history.all(id);
    },
    members(room) {
      const last = new Map<string, StoredAffiliation>();
      for (const c of repo.changes(room)) last.set(c.jid, c.affiliation);
      return [...last]
        .filter(([, a]) => MEMBER.has(a))
        .map(([jid, affiliation]) => ({ jid, affiliation }))
        .sort((a, b) => a.jid.localeCompare(b.jid));
    },
    forgetUnmade(jid) {
      const id = roomId(jid);
      return id !== undefined && dropEmpty.run(id, id).changes > 0;
    },
  };
  return repo;
}
