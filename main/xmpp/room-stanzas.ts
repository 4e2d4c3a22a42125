/**
 * Care-team room stanzas (issue 18; XEP-0045 with docs/protocol.md "Care-team rooms"): what we
 * send to a room and the small readers for what a room sends us. The room's real-JID and
 * affiliation information is what the receive check (main/crypto/room-message.ts) rests on, so
 * the readers take it only from the room itself and refuse anything they do not understand.
 */
import { xml, type XmlElement } from '@xmpp/client';
import { normalizeBareJid } from '../crypto/keys';
import { parseXmppDateTime } from '../crypto/time';
import type { AffiliationChange, RoomAffiliation } from '../crypto/room-membership';
import { bare, FALLBACK_BODY, NS } from './stanzas';

export const MUC_NS = {
  muc: 'http://jabber.org/protocol/muc', // XEP-0045 §7.2 join
  user: 'http://jabber.org/protocol/muc#user',
  admin: 'http://jabber.org/protocol/muc#admin',
} as const;

const AFFILIATIONS: ReadonlySet<string> = new Set(['owner', 'admin', 'member', 'none', 'outcast']);
const MAX_NICK = 256;

/** A room message: the same OX envelope as one-to-one (archived: store hint, EME, fallback body), type groupchat. */
export function roomMessageStanza(room: string, originId: string, base64: string): XmlElement {
  return xml(
    'message',
    { to: normalizeBareJid(room), type: 'groupchat', id: originId },
    xml('openpgp', { xmlns: NS.ox }, base64),
    xml('store', { xmlns: NS.hints }),
    xml('encryption', { xmlns: NS.eme, namespace: NS.ox }),
    xml('body', {}, FALLBACK_BODY),
    xml('origin-id', { xmlns: NS.sid, id: originId }),
    xml('markable', { xmlns: NS.markers }),
  );
}

/** Joins `room` as `nick` without the room's own history (catch-up reads the room's archive). */
export const joinRoomPresence = (room: string, nick: string): XmlElement =>
  xml(
    'presence',
    { to: `${normalizeBareJid(room)}/${nick}` },
    xml('x', { xmlns: MUC_NS.muc }, xml('history', { maxstanzas: '0' })),
  );

/** XEP-0045 §9.5: the list of one affiliation (members may read it in members-only, non-anonymous rooms). */
export const affiliationListQuery = (room: string, affiliation: 'owner' | 'admin' | 'member'): XmlElement =>
  xml(
    'iq',
    { type: 'get', to: normalizeBareJid(room) },
    xml('query', { xmlns: MUC_NS.admin }, xml('item', { affiliation })),
  );

/** The bare JIDs of an affiliation-list result; items that are not a bare JID are skipped. */
export function readAffiliationList(result: XmlElement): { jid: string; affiliation: RoomAffiliation }[] {
  const out: { jid: string; affiliation: RoomAffiliation }[] = [];
  for (const item of result.getChild('query', MUC_NS.admin)?.getChildren('item') ?? []) {
    const affiliation = String(item.attrs.affiliation ?? '');
    if (!AFFILIATIONS.has(affiliation)) continue;
    try {
      out.push({ jid: normalizeBareJid(item.attrs.jid ?? ''), affiliation: affiliation as RoomAffiliation });
    } catch {
      /* not a bare JID: not a member we can encrypt to or check */
    }
  }
  return out;
}

/** The current member list as affiliation changes at `at` (for membersAt). */
export const listAsChanges = (list: { jid: string; affiliation: RoomAffiliation }[], at: Date): AffiliationChange[] =>
  list.map((m) => ({ ...m, at }));

/** An occupant's presence as the room sent it (XEP-0045 §7.2.3–7.2.4, §9.4 status codes). */
export interface OccupantPresence {
  room: string;
  nick: string;
  /** The occupant's real bare JID (non-anonymous room); null when the room did not give one. */
  realJid: string | null;
  affiliation: RoomAffiliation | null;
  /** Status 110: this presence is about us. */
  self: boolean;
  /** The occupant left, was kicked or removed (type unavailable). */
  gone: boolean;
  codes: string[];
}

/** Reads a presence from room/nick carrying muc#user; null for anything else. */
export function readOccupantPresence(el: XmlElement): OccupantPresence | null {
  if (!el.is('presence') || el.attrs.type === 'error') return null;
  const from = String(el.attrs.from ?? '');
  const slash = from.indexOf('/');
  if (slash < 0) return null;
  const nick = from.slice(slash + 1);
  if (!nick || nick.length > MAX_NICK) return null;
  const x = el.getChild('x', MUC_NS.user);
  if (!x) return null;
  let room: string;
  try {
    room = normalizeBareJid(from.slice(0, slash));
  } catch {
    return null;
  }
  const items = x.getChildren('item');
  const item = items.length === 1 ? items[0]! : null;
  let realJid: string | null = null;
  try {
    realJid = item?.attrs.jid ? normalizeBareJid(item.attrs.jid) : null;
  } catch {
    realJid = null;
  }
  const aff = item?.attrs.affiliation;
  const codes = x.getChildren('status').map((s) => String(s.attrs.code));
  return {
    room,
    nick,
    realJid,
    affiliation: aff && AFFILIATIONS.has(aff) ? (aff as RoomAffiliation) : null,
    self: codes.includes('110'),
    gone: el.attrs.type === 'unavailable',
    codes,
  };
}

/** An id we use as a key (origin-id): present and at most 128 characters, else none. */
const validId = (id: unknown): string | null => (typeof id === 'string' && id && id.length <= 128 ? id : null);

/** A groupchat message from an occupant: the room, the sender's nick, the OX payload. */
export interface RoomMessageIn {
  room: string;
  nick: string;
  base64: string;
  originId: string | null;
  /** XEP-0359 stanza-id the room stamped (by = the room), for dedupe and archive paging. */
  stanzaId: string | null;
}

/**
 * Reads a groupchat message carrying exactly one <openpgp/>; null for anything else (the room's
 * own messages, subject changes, plaintext, a private message through the room).
 */
export function readRoomMessage(el: XmlElement): RoomMessageIn | null {
  if (!el.is('message') || el.attrs.type !== 'groupchat') return null;
  const from = String(el.attrs.from ?? '');
  const slash = from.indexOf('/');
  const nick = slash < 0 ? '' : from.slice(slash + 1);
  if (!nick || nick.length > MAX_NICK) return null;
  const ox = el.getChildren('openpgp', NS.ox);
  if (ox.length !== 1) return null;
  const room = bare(from);
  const originIds = el.getChildren('origin-id', NS.sid);
  const stanzaIds = el.getChildren('stanza-id', NS.sid).filter((s) => bare(s.attrs.by) === room && s.attrs.id);
  return {
    room,
    nick,
    base64: ox[0]!.getText(),
    originId: originIds.length === 1 ? validId(originIds[0]!.attrs.id) : null,
    stanzaId: stanzaIds.length ? String(stanzaIds[0]!.attrs.id) : null,
  };
}

/** A room message from the room's archive (XEP-0313 on the room): the sender's real JID and the archive's time. */
export interface ArchivedRoomMessage extends RoomMessageIn {
  /**
   * The sender's real bare JID as the room archived it: Prosody's mod_muc_mam stores it in a
   * muc#user <item jid=…/> of every message of a non-anonymous room. Null when absent or unclear.
   */
  realJid: string | null;
  /** The archive's <delay/> stamp: when the room received the message. Null when missing or unparsable. */
  stamp: Date | null;
  /** The archive id (RSM paging). */
  archiveId: string;
}

/**
 * Who sent an archived room stanza and when the room got it: the single muc#user <item jid=…/>
 * Prosody's mod_muc_mam keeps in a non-anonymous room (null when absent, several or unclear), and
 * the archive's single <delay/> stamp (null when missing or unparsable).
 */
export function archivedSender(
  forwarded: XmlElement | undefined,
  inner: XmlElement,
): { realJid: string | null; stamp: Date | null } {
  const items = inner.getChild('x', MUC_NS.user)?.getChildren('item') ?? [];
  let realJid: string | null = null;
  try {
    realJid = items.length === 1 && items[0]!.attrs.jid ? normalizeBareJid(items[0]!.attrs.jid) : null;
  } catch {
    realJid = null;
  }
  const delay = forwarded?.getChildren('delay', NS.delay) ?? [];
  const stamp = delay.length === 1 ? parseXmppDateTime(String(delay[0]!.attrs.stamp ?? '')) : null;
  return { realJid, stamp };
}

/**
 * Reads one result of OUR archive query (`queryid`) to `room`: the result must come from the
 * room itself; the forwarded message must be a groupchat OX message of that room.
 */
export function readRoomArchiveResult(el: XmlElement, room: string, queryid: string): ArchivedRoomMessage | null {
  if (!el.is('message') || String(el.attrs.from ?? '').toLowerCase() !== room.toLowerCase()) return null;
  const result = el.getChild('result', NS.mam);
  if (!result || result.attrs.queryid !== queryid || !validId(result.attrs.id)) return null;
  const forwarded = result.getChild('forwarded', NS.forward);
  const inner = forwarded?.getChild('message');
  if (!inner) return null;
  const msg = readRoomMessage(inner);
  if (!msg || msg.room !== room.toLowerCase()) return null;
  const { realJid, stamp } = archivedSender(forwarded, inner);
  return {
    ...msg,
    stanzaId: msg.stanzaId ?? String(result.attrs.id),
    realJid,
    stamp,
    archiveId: String(result.attrs.id),
  };
}

/**
 * Who is behind each nick in the rooms we are in, from the rooms' presences only. A nick whose
 * presence gave no real JID maps to null: its messages are refused (anonymous-occupant).
 */
export function createOccupantMap() {
  const byRoom = new Map<string, Map<string, string | null>>();
  return {
    apply(p: OccupantPresence): void {
      const nicks = byRoom.get(p.room) ?? new Map<string, string | null>();
      byRoom.set(p.room, nicks);
      if (p.gone) nicks.delete(p.nick);
      else nicks.set(p.nick, p.realJid);
    },
    realJidOf(room: string, nick: string): string | null {
      return byRoom.get(room.toLowerCase())?.get(nick) ?? null;
    },
  };
}
