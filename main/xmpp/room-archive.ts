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
import { membersAt, recordedChanges } from '../crypto/room-membership';
import { pastRetention, retentionCutoff } from '../policy/retention';
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

/** Archive queries waiting for their results: query id → where each result goes. */
type Collectors = Map<string, (el: XmlElement) => void>;

/**
 * One catch-up run of one room: the member changes as this workstation knows them (read once per
 * run: nothing changes a room's members while its archive is read), each sender's key parsed once
 * (PROTOCOL.md "Speed"), and each result's predecessor for the archive-order rule (receive.ts
 * `follows`).
 */
function startRun(
  ctx: MessagingContext,
  receiver: Receiver,
  room: string,
  policy: Pick<RoomPolicy, 'refusal'> | undefined,
) {
  const { store, clock } = ctx.opts;
  const changes = recordedChanges(store.rooms.changes(room));
  const keys = new Map<string, ReturnType<Receiver['senderKey']>>();
  let follows: { originId: string | null; stanzaId: string | null } | undefined;
  return (r: ArchivedRoomMessage): Pending | null => {
    const now = clock.now();
    const stamp = r.stamp && r.stamp.getTime() <= now ? r.stamp : new Date(now);
    const at = new Date(stamp.getTime() + 999);
    const member = r.realJid !== null && membersAt(changes, at).has(r.realJid);
    const refused =
      r.realJid === null
        ? 'anonymous-occupant'
        : !member
          ? 'not-member'
          : (policy?.refusal(room, r.realJid, changes, at) ?? null);
    const item = {
      peer: room,
      direction: r.realJid === ctx.ownJid ? ('out' as const) : ('in' as const),
      base64: r.base64,
      originId: r.originId,
      stanzaId: r.archiveId,
      serverStamp: stamp,
      live: false,
      room: { sender: r.realJid, refused },
      ...(follows ? { follows } : {}),
    };
    follows = { originId: r.originId, stanzaId: r.archiveId };
    return receiver.prepare(item, {
      senderKey: (it) => {
        const k = `${it.direction}:${it.room?.sender ?? it.peer}`;
        let key = keys.get(k);
        if (!key) keys.set(k, (key = receiver.senderKey(it)));
        return key;
      },
    });
  };
}

/**
 * One page of the room's archive. Each result goes into the decrypt pool as it arrives, while
 * the rest of the page streams in (as the account's own catch-up does).
 */
async function fetchPage(
  collectors: Collectors,
  c: XmppConnection,
  room: string,
  after: string | null,
  start: number,
  begin: (r: ArchivedRoomMessage) => Pending | null,
) {
  const queryId = randomUUID();
  const pending: Pending[] = [];
  const markers: ArchivedRoomMarker[] = [];
  let last: string | null = null;
  collectors.set(queryId, (el) => {
    const r = readRoomArchiveResult(el, room, queryId);
    // A member's displayed marker (XEP-0333 markers are archived too): applied once the page is stored.
    const marker = r ? null : readRoomArchiveMarker(el, room, queryId);
    if (marker) {
      last = marker.archiveId;
      markers.push(marker);
    }
    if (!r) return;
    last = r.archiveId;
    const p = begin(r);
    if (p) pending.push(p);
  });
  try {
    const iq = mamQuery(queryId, after, PAGE, after ? undefined : new Date(start).toISOString());
    iq.attrs.to = room;
    const res = await c.iq(iq, 120_000);
    const complete = res.getChild('fin', NS.mam)?.attrs.complete === 'true' || last === null;
    return { pending, markers, last: last as string | null, complete };
  } finally {
    collectors.delete(queryId);
  }
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
  const collectors: Collectors = new Map();

  /** An archive result from one of our rooms (taken before the account's own catch-up sees it). */
  function accept(el: XmlElement): boolean {
    const result = el.getChild('result', NS.mam);
    if (!result || !store.rooms.get(bare(el.attrs.from))) return false;
    collectors.get(String(result.attrs.queryid ?? ''))?.(el);
    return true;
  }

  /** Catches up one room; resolves with how many messages were stored. */
  async function catchUp(c: XmppConnection, room: string): Promise<number> {
    const r = store.rooms.get(room);
    if (!r) return 0;
    let pointer = store.getSetting<Pointer>(settingKey(room)) ?? { after: null, start: r.joinedAt ?? clock.now() };
    store.setSetting(settingKey(room), pointer);
    const run = startRun(ctx, receiver, room, policy);
    // Retention (main/session/retention.ts): the room's archive still holds what this workstation
    // purged; nothing from before the cutoff is asked for or stored again (the pointer moves past it).
    const cutoff = retentionCutoff(ctx.opts.policy.retentionDays, clock.now());
    const begin = (m: ArchivedRoomMessage) => (pastRetention(cutoff, m.stamp) ? null : run(m));
    const since = () => Math.max(pointer.start, cutoff ?? 0);
    const fetch = (after: string | null) => fetchPage(collectors, c, room, after, since(), begin);
    let stored = 0;
    let current = await fetch(pointer.after);
    for (let n = 1; ; n++) {
      const { pending, markers, last, complete } = current;
      // Ask for the next page at once: it streams into the pool while this one is stored.
      let next = !complete && last !== null && n < MAX_PAGES ? fetch(last) : null;
      // Awaited below, or dropped when this page stops the run: only an early rejection must not go unhandled.
      next?.catch(() => undefined);
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
      if (!moved) next = null;
      if (!next) break;
      current = await next;
    }
    logger.info('xmpp: room catch-up finished', { stored });
    return stored;
  }

  return { accept, catchUp };
}

export type RoomArchive = ReturnType<typeof createRoomArchive>;
