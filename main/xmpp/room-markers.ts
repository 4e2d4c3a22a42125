/**
 * XEP-0333 displayed markers in care-team rooms (issue 18 §4; docs/protocol.md "Read by"): what we
 * send when the person has read a room, and the readers for the markers other members send —
 * live from the room, or kept in the room's archive. XEP-0333 §8 "Usage within MUC": a marker names
 * the message by the stanza-id the ROOM gave it (XEP-0359, `by` = the room), never by an id an
 * occupant chose. Who sent a marker is decided by the caller from the room's own information (the
 * occupant's real JID); nothing in the marker itself is trusted for that.
 */
import { xml, type XmlElement } from '@xmpp/client';
import { normalizeBareJid } from '../crypto/keys';
import { archivedSender } from './room-stanzas';
import { bare, NS } from './stanzas';

/** Ids longer than this are none of ours (Prosody's stanza-ids are ~16 characters). */
const MAX_ID = 128;
const MAX_NICK = 256;

/**
 * "Read up to here" to the room: a groupchat message with only the marker. No store hint: XEP-0333
 * asks for markers to be archived (Prosody's MUC archives them), so a member who was away learns
 * who read their messages from the room's archive.
 */
export const roomDisplayedMarker = (room: string, stanzaId: string): XmlElement =>
  xml(
    'message',
    { to: normalizeBareJid(room), type: 'groupchat' },
    xml('displayed', { xmlns: NS.markers, id: stanzaId }),
  );

/** The one <displayed/> of a groupchat message that carries nothing else of ours; its id, or null. */
function displayedId(el: XmlElement): string | null {
  if (!el.is('message') || el.attrs.type !== 'groupchat' || el.getChild('openpgp', NS.ox)) return null;
  const markers = el.getChildren('displayed', NS.markers);
  const id = markers.length === 1 ? markers[0]!.attrs.id : undefined;
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_ID ? id : null;
}

/** A live displayed marker from an occupant: the room, the occupant's nick, the room's stanza-id it names. */
export interface RoomMarkerIn {
  room: string;
  nick: string;
  id: string;
}

export function readRoomMarker(el: XmlElement): RoomMarkerIn | null {
  const id = displayedId(el);
  if (!id) return null;
  const from = String(el.attrs.from ?? '');
  const slash = from.indexOf('/');
  const nick = slash < 0 ? '' : from.slice(slash + 1);
  if (!nick || nick.length > MAX_NICK) return null;
  return { room: bare(from), nick, id };
}

/** A displayed marker the room's archive kept: the real JID the archive recorded and when. */
export interface ArchivedRoomMarker {
  realJid: string | null;
  id: string;
  /** The archive's <delay/> stamp; null when missing or unparsable. */
  stamp: Date | null;
  archiveId: string;
}

/**
 * One result of OUR archive query (`queryid`) to `room` that forwards a member's displayed marker
 * (as readRoomArchiveResult does for messages: from the room itself, the sender's real JID from
 * the single muc#user item Prosody's mod_muc_mam stores).
 */
export function readRoomArchiveMarker(el: XmlElement, room: string, queryid: string): ArchivedRoomMarker | null {
  if (!el.is('message') || String(el.attrs.from ?? '').toLowerCase() !== room.toLowerCase()) return null;
  const result = el.getChild('result', NS.mam);
  const archiveId = result?.attrs.id;
  if (!result || result.attrs.queryid !== queryid || !archiveId || archiveId.length > MAX_ID) return null;
  const forwarded = result.getChild('forwarded', NS.forward);
  const inner = forwarded?.getChild('message');
  const id = inner ? displayedId(inner) : null;
  if (!inner || !id || bare(inner.attrs.from) !== room.toLowerCase()) return null;
  const { realJid, stamp } = archivedSender(forwarded, inner);
  return { realJid, id, stamp, archiveId: String(archiveId) };
}
