/**
 * Catch-up from a care-team room's archive (issue 18 item 3; XEP-0313 on the room, Prosody's
 * mod_muc_mam). After each join, the room's messages since the last archive id we finished (the
 * first time: since our first join, so nothing from before we were a member is asked for) go
 * through the one receive path (receive.ts) in pages: the same dedup, the same decrypt service
 * (its worker pool while the session setup runs), one transaction per page with the pointer.
 *
 * Each result must be an answer to our query, from the room itself (readRoomArchiveResult). The
 * sender is the real JID the archive kept; membership is checked at the archive's stamp (whole
 * seconds on Prosody: the end of that second), against the member changes this workstation
 * recorded. A message whose sender was added while we were away is refused as `not-member`: we
 * cannot know when they were added.
 */
import { randomUUID } from 'node:crypto';
import type { XmlElement } from '@xmpp/client';
import { membersAt } from '../crypto/room-membership';
import type { MessagingContext } from './context';
import type { Pending, Receiver } from './receive';
import type { RoomPolicy } from './room-policy';
import { readRoomArchiveMarker, type ArchivedRoomMarker } from './room-markers';
import type { RoomReads } from './room-reads';
import { readRoomArchiveResult, type ArchivedRoomMessage } from './room-stanzas';
import { bare, mamQuery, NS } from './stanzas';
import type { XmppConnection } from './transport/connection';

const PAGE = 100;
const MAX_PAGES = 1000;

/** Where a room's catch-up stands: the last archive id finished, else the time to start from. */
interface Pointer {
  after: string | null;
  start: number;
}

const settingKey = (room: string) => `room-archive:${room}`;

/**
 * A page's displayed markers, after its messages are stored (a marker names one of them, or an
 * earlier one): "Read by" moves for the messages of ours they newly cover (room-reads.ts).
 */
function applyMarkers(
  reads: Pick<RoomReads, 'apply' | 'emit'>,
  now: number,
  room: string,
  markers: readonly ArchivedRoomMarker[],
): void {
  const shown = new Set<string>();
  for (const m of markers) {
    const at = Math.min(m.stamp?.getTime() ?? now, now);
    // The archive's stamps have whole seconds: a member at the end of that second counts.
    for (const id of reads.apply(room, m.realJid, m.id, at + 999)) shown.add(id);
  }
  reads.emit(shown);
}

/**
 * `policy`: the room's settings (room-policy.ts): in an announcement room, only an owner's message is taken.
 * `reads`: members' displayed markers the archive kept move "Read by" (room-reads.ts).
 */
export function createRoomArchive(
  ctx: MessagingContext,
  receiver: Receiver,
  policy?: Pick<RoomPolicy, 'refusal'>,
  reads?: Pick<RoomReads, 'apply' | 'emit'>,
) {
  const { store, clock, logger } = ctx.opts;
  const collectors = new Map<string, (el: XmlElement) => void>();

  /** An archive result from one of our rooms (taken before the account's own catch-up sees it). */
  function accept(el: XmlElement): boolean {
    const result = el.getChild('result', NS.mam);
    if (!result || !store.rooms.get(bare(el.attrs.from))) return false;
    collectors.get(String(result.attrs.queryid ?? ''))?.(el);
    return true;
  }

  function toPending(room: string, r: ArchivedRoomMessage): Pending | null {
    const now = clock.now();
    const stamp = r.stamp && r.stamp.getTime() <= now ? r.stamp : new Date(now);
    const changes = store.rooms.changes(room).map((c) => ({ ...c, at: new Date(c.at) }));
    const at = new Date(stamp.getTime() + 999);
    const member = r.realJid !== null && membersAt(changes, at).has(r.realJid);
    const refused =
      r.realJid === null
        ? 'anonymous-occupant'
        : !member
          ? 'not-member'
          : (policy?.refusal(room, r.realJid, changes, at) ?? null);
    return receiver.prepare({
      peer: room,
      direction: r.realJid === ctx.ownJid ? 'out' : 'in',
      base64: r.base64,
      originId: r.originId,
      stanzaId: r.archiveId,
      serverStamp: stamp,
      live: false,
      room: { sender: r.realJid, refused },
    });
  }

  async function page(c: XmppConnection, room: string, pointer: Pointer) {
    const queryId = randomUUID();
    const results: ArchivedRoomMessage[] = [];
    const markers: ArchivedRoomMarker[] = [];
    let last: string | null = null;
    collectors.set(queryId, (el) => {
      const r = readRoomArchiveResult(el, room, queryId);
      // A member's displayed marker (XEP-0333 markers are archived too): applied once the page is stored.
      const marker = r ? null : readRoomArchiveMarker(el, room, queryId);
      if (marker) markers.push(marker);
      if (r) results.push(r);
      const id = r?.archiveId ?? marker?.archiveId;
      if (id) last = id;
    });
    try {
      const start = pointer.after ? undefined : new Date(pointer.start).toISOString();
      const iq = mamQuery(queryId, pointer.after, PAGE, start);
      iq.attrs.to = room;
      const res = await c.iq(iq, 120_000);
      const complete = res.getChild('fin', NS.mam)?.attrs.complete === 'true' || last === null;
      return { results, markers, last: last as string | null, complete };
    } finally {
      collectors.delete(queryId);
    }
  }

  /** Catches up one room; resolves with how many messages were stored. */
  async function catchUp(c: XmppConnection, room: string): Promise<number> {
    const r = store.rooms.get(room);
    if (!r) return 0;
    let pointer = store.getSetting<Pointer>(settingKey(room)) ?? { after: null, start: r.joinedAt ?? clock.now() };
    store.setSetting(settingKey(room), pointer);
    let stored = 0;
    for (let n = 0; n < MAX_PAGES; n++) {
      const { results, markers, last, complete } = await page(c, room, pointer);
      const pending = results.map((x) => toPending(room, x)).filter((p): p is Pending => p !== null);
      let moved = false;
      const { received } = await receiver.commit(pending, (firstInternal) => {
        // An internal failure (the decrypt pool died): the pointer stays, the next sign-in retries.
        if (firstInternal !== null || last === null) return;
        pointer = { after: last, start: pointer.start };
        store.setSetting(settingKey(room), pointer);
        moved = true;
      });
      if (pending.length === 0 && last !== null) {
        pointer = { after: last, start: pointer.start };
        store.setSetting(settingKey(room), pointer);
        moved = true;
      }
      stored += received.length;
      receiver.announce(received, false);
      if (reads) applyMarkers(reads, clock.now(), room, markers);
      if (complete || !moved) break;
    }
    logger.info('xmpp: room catch-up finished', { stored });
    return stored;
  }

  return { accept, catchUp };
}

export type RoomArchive = ReturnType<typeof createRoomArchive>;
