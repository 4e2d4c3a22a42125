/**
 * "Read by" for the sender in care-team rooms (issue 18 §4; docs/protocol.md "Read by"). Members'
 * XEP-0333 displayed markers move each member's mark (store.roomReads) forward; a message of ours
 * was read by every member whose mark is at or after it. A marker counts only when the room says
 * who sent it — the occupant's real JID (the room is non-anonymous), or the real JID the room's
 * archive kept — and that JID is a member at the time and not us; a marker naming an id the room
 * never gave a message we hold is ignored (XEP-0333 §7: "Chat Markers for unknown messages MUST be
 * ignored").
 */
import type { Message } from '../../common/contract/domain';
import { membersAt, recordedChanges, type AffiliationChange } from '../crypto/room-membership';
import type { Store } from '../store';
import type { MessagePosition, RoomReadMark } from '../store/repos/room-reads';
import type { MessagingContext } from './context';

/** At most this many of our messages are sent to the renderer again for one marker. */
const REEMIT_LIMIT = 100;

/** A mark covers a message at or before it in the conversation's order (sent_at, id). */
const covers = (mark: MessagePosition, m: MessagePosition): boolean =>
  mark.sentAt > m.sentAt || (mark.sentAt === m.sentAt && mark.id >= m.id);

/** Who read a message of ours: the members besides us when it was written whose mark covers it. */
export function readByOf(
  m: MessagePosition,
  audience: ReadonlySet<string>,
  marks: readonly RoomReadMark[],
): { jids: string[]; of: number } {
  const jids = marks.filter((k) => audience.has(k.jid) && covers(k, m)).map((k) => k.jid);
  return { jids: [...new Set(jids)].sort(), of: audience.size };
}

/** Whether a message is ours and out on the wire (a queued or failed one was read by nobody). */
const sentByUs = (m: Message): boolean =>
  m.direction === 'out' && (m.state === 'sent' || m.state === 'delivered' || m.state === 'read');

/**
 * The messages with `readBy` on each of our sent messages in a care-team room; anything else as
 * it was. One read of the room's marks and member history per conversation.
 */
export function withReadBy(store: Store, ownJid: string, messages: readonly Message[]): Message[] {
  const rooms = new Map<string, { marks: RoomReadMark[]; changes: AffiliationChange[] } | null>();
  const roomOf = (conversationId: string) => {
    if (!rooms.has(conversationId)) {
      const r = store.rooms.byConversation(conversationId);
      rooms.set(
        conversationId,
        r
          ? { marks: store.roomReads.marks(conversationId), changes: recordedChanges(store.rooms.changes(r.jid)) }
          : null,
      );
    }
    return rooms.get(conversationId)!;
  };
  return messages.map((m) => {
    if (!sentByUs(m)) return m;
    const room = roomOf(m.conversationId);
    if (!room) return m;
    const audience = membersAt(room.changes, new Date(m.sentAt));
    audience.delete(ownJid);
    return { ...m, readBy: readByOf({ sentAt: m.sentAt, id: Number(m.id) }, audience, room.marks) };
  });
}

export function createRoomReads(ctx: MessagingContext) {
  const { store, clock, logger } = ctx.opts;

  /**
   * A member's displayed marker naming the room's stanza-id `id`: `jid` is who the room says sent
   * it, `at` when (now for a live one, the archive's stamp for a kept one). Answers the ids of our
   * messages it newly covers (to show again), or none when it changed nothing.
   */
  function apply(room: string, jid: string | null, id: string, at: number): string[] {
    const r = store.rooms.get(room);
    if (!r || !jid || jid === ctx.ownJid) return [];
    // Only a member's marker counts (as the room's list stood then): not IT's, not a removed member's.
    if (!membersAt(recordedChanges(store.rooms.changes(room)), new Date(at)).has(jid)) {
      logger.warn('xmpp: room marker from a non-member ignored');
      return [];
    }
    const to = store.roomReads.byRoomStanzaId(r.conversationId, id);
    if (!to) return []; // an id we hold no message for: ignored
    const moved = store.roomReads.record(r.conversationId, jid, to, clock.now());
    return moved ? store.roomReads.ownBetween(r.conversationId, moved.from, to, REEMIT_LIMIT) : [];
  }

  /** Shows again the messages whose "Read by" changed (ctx.emitMessage adds it). */
  function emit(ids: Iterable<string>): void {
    for (const id of ids) {
      const m = store.messages.get(id);
      if (m) ctx.emitMessage(m, false);
    }
  }

  return {
    apply,
    emit,
    /** A live marker: applied and shown at once. */
    live(room: string, jid: string | null, id: string): void {
      emit(apply(room, jid, id, clock.now()));
    },
  };
}

export type RoomReads = ReturnType<typeof createRoomReads>;
