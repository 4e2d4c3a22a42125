/**
 * Care-team rooms in the session (issue 18; docs/protocol.md "Care-team rooms"). At every fresh
 * sign-in the workstation asks the MUC service which rooms list it as a member (the node
 * MY_ROOMS_NODE of deploy/prosody's mod_muc_clinic_policy: the rooms are unlisted), reads each
 * room's member list (its affiliation list) and joins. From then on:
 *
 * - occupants' presences tell us the real JID behind each nick (the rooms are non-anonymous) and
 *   prompt a new read of the member list when an affiliation changes; the member list is only ever
 *   the room's affiliation list, never an occupant's presence (a server admin shows as owner);
 * - a groupchat message goes through the one receive path (receive.ts) with its real sender: it is
 *   refused unless that JID is a member now (as this workstation knows it) and signed by their
 *   pinned key, and its inner <to/> names the room only; our own reflected messages are checked
 *   against what we stored (an altered reflection is refused); a private message through the room
 *   is refused; every refusal is audited;
 * - sending encrypts once to every current member's pinned key (room-message.ts); a member whose
 *   key changed or who has no usable key stops the send (never a plaintext fallback);
 * - the room's settings (room-policy.ts): a room that no longer keeps the clinic's policy gets
 *   nothing and nothing from it is accepted; in an announcement room only owners post.
 */
import { xml, type XmlElement } from '@xmpp/client';
import type { Message } from '../../common/contract/domain';
import { AppError } from '../../common/result';
import { identityAsContact, type Identity } from '../crypto';
import { membersAt, recordedChanges } from '../crypto/room-membership';
import { RoomRecipientsError, signcryptForRoom, type RoomMember } from '../crypto/room-message';
import { errorName } from '../log';
import type { MessagingContext } from './context';
import { NS_DISCO_ITEMS } from './disco';
import type { OxItem, Receiver } from './receive';
import { createRoomArchive, type RoomArchive } from './room-archive';
import { readRoomMarker } from './room-markers';
import { createRoomReads, type RoomReads } from './room-reads';
import { configChangeNotice } from './room-config';
import { createRoomPolicy, type RoomPolicy } from './room-policy';
import { findRoomService } from './room-setup';
import {
  affiliationListQuery,
  createOccupantMap,
  joinRoomPresence,
  readAffiliationList,
  readOccupantPresence,
  readRoomMessage,
  type RoomMessageIn,
} from './room-stanzas';
import { bare, NS } from './stanzas';
import type { XmppConnection } from './transport/connection';

/** The service's node listing the rooms whose member list names the requester (mod_muc_clinic_policy.lua). */
export const MY_ROOMS_NODE = 'urn:clinic-messenger:rooms:member';
const JOIN_TIMEOUT_MS = 15_000;

type Step = () => Promise<void>;

interface State {
  ctx: MessagingContext;
  receiver: Receiver;
  occupants: ReturnType<typeof createOccupantMap>;
  /** Joins waiting for the room's answer: room → resolve(true: in, false: refused). */
  joining: Map<string, (ok: boolean) => void>;
  service: string | null;
  archive: RoomArchive;
  /** Members' displayed markers: "Read by" on our messages (room-reads.ts). */
  reads: RoomReads;
  policy: RoomPolicy;
  /** The rooms we are an occupant of in this session (our own presence, status 110). */
  present: Set<string>;
  /** The room list being read (`connected`), so that readings do not overlap. */
  listing: Promise<void>;
}

/** The room's recorded affiliation changes, for membersAt / mayPostAt. */
const changesOf = (s: State, room: string) => recordedChanges(s.ctx.opts.store.rooms.changes(room));

const isMember = (s: State, room: string, jid: string, at: number): boolean =>
  membersAt(changesOf(s, room), new Date(at)).has(jid);

/** Reads the room's member list now and records what changed (audited on this workstation). */
async function refreshMembers(s: State, c: XmppConnection, room: string): Promise<void> {
  const { store, audit, clock } = s.ctx.opts;
  const list: ReturnType<typeof readAffiliationList> = [];
  for (const affiliation of ['owner', 'admin', 'member'] as const)
    list.push(...readAffiliationList(await c.iq(affiliationListQuery(room, affiliation))));
  const at = clock.now();
  const listed = new Set(list.map((m) => m.jid));
  const conversationId = store.rooms.get(room)?.conversationId;
  store.transaction(() => {
    for (const m of list)
      if (store.rooms.recordAffiliation(room, m.jid, m.affiliation, at))
        audit.append('room-membership', { room, jid: m.jid, change: 'added', affiliation: m.affiliation });
    for (const m of store.rooms.members(room))
      if (!listed.has(m.jid) && store.rooms.recordAffiliation(room, m.jid, 'none', at))
        audit.append('room-membership', { room, jid: m.jid, change: 'removed', affiliation: 'none' });
  });
  if (conversationId) s.ctx.emitConversation(conversationId);
}

/** We are no longer in the room: removed by the clinic. */
function leftRoom(s: State, room: string, change: 'removed'): void {
  const { store, audit, clock } = s.ctx.opts;
  const r = store.rooms.get(room);
  if (!r || r.leftAt !== null) return;
  store.transaction(() => {
    store.rooms.setLeft(room, clock.now());
    if (change === 'removed') store.rooms.recordAffiliation(room, s.ctx.ownJid, 'none', clock.now());
    audit.append('room-membership', { room, jid: s.ctx.ownJid, change });
  });
  s.ctx.emitConversation(r.conversationId);
}

/**
 * Joins the room; false when it does not keep the clinic's policy (recorded and audited by
 * room-policy.ts): such a room is not joined, since outsiders could see us there.
 */
async function join(s: State, c: XmppConnection, room: string): Promise<boolean> {
  const { store, audit, clock } = s.ctx.opts;
  if ((await s.policy.recheck(c, room)).problems.length) return false;
  await refreshMembers(s, c, room);
  const answered = new Promise<boolean>((resolve) => {
    s.joining.set(room, resolve);
    s.ctx.net.setTimeout(() => resolve(false), JOIN_TIMEOUT_MS);
  });
  await c.send(joinRoomPresence(room, store.rooms.get(room)?.nick ?? s.ctx.ownJid.split('@')[0]!));
  const ok = await answered;
  s.joining.delete(room);
  if (!ok) throw new AppError('NOT_CONNECTED', 'The room did not let us in.', { room });
  const before = store.rooms.get(room);
  store.rooms.setJoined(room, clock.now());
  if (before?.joinedAt === null || before?.leftAt !== null)
    audit.append('room-membership', { room, jid: s.ctx.ownJid, change: 'joined' });
  return true;
}

/** Joins the room, then reads what it said while we were away from its archive (room-archive.ts). */
async function enter(s: State, c: XmppConnection, room: string): Promise<void> {
  const { store, logger } = s.ctx.opts;
  const conversationId = store.rooms.get(room)?.conversationId;
  const joined = await join(s, c, room).catch((err: unknown) => {
    logger.warn('xmpp: room not joined', { conversationId, error: errorName(err) });
    return false;
  });
  if (joined && store.rooms.get(room)?.leftAt === null)
    await s.archive
      .catchUp(c, room)
      .catch((err: unknown) => logger.warn('xmpp: room catch-up failed', { error: errorName(err) }));
  if (conversationId) s.ctx.emitConversation(conversationId);
}

/** Fresh session: the rooms whose member list names us, joined; rooms that dropped us, left. */
async function connected(s: State, c: XmppConnection): Promise<void> {
  const { store } = s.ctx.opts;
  s.present.clear();
  const domain = s.ctx.ownJid.slice(s.ctx.ownJid.indexOf('@') + 1);
  s.service ??= await findRoomService((el) => c.iq(el), domain);
  if (!s.service) return;
  const res = await c.iq(
    xml('iq', { type: 'get', to: s.service }, xml('query', { xmlns: NS_DISCO_ITEMS, node: MY_ROOMS_NODE })),
  );
  const items = (res.getChild('query', NS_DISCO_ITEMS)?.getChildren('item') ?? []).filter((i) =>
    bare(i.attrs.jid).endsWith(`@${s.service}`),
  );
  const listed = new Set<string>();
  for (const item of items) {
    const room = bare(item.attrs.jid);
    listed.add(room);
    const nick = store.rooms.get(room)?.nick ?? s.ctx.ownJid.split('@')[0]!;
    store.rooms.upsert(room, { name: item.attrs.name ?? null, nick });
    await enter(s, c, room);
  }
  for (const r of store.rooms.list()) if (!listed.has(r.jid)) leftRoom(s, r.jid, 'removed');
}

/** An occupant's presence (or a refused join); true when it was a room's. */
function onPresence(s: State, el: XmlElement): boolean {
  const { store, logger } = s.ctx.opts;
  const room = bare(el.attrs.from);
  if (!store.rooms.get(room)) return false;
  if (el.attrs.type === 'error') {
    s.joining.get(room)?.(false);
    return true;
  }
  const p = readOccupantPresence(el);
  if (!p) return true;
  s.occupants.apply(p);
  if (p.self) s.present[p.gone ? 'delete' : 'add'](room);
  // Status 172–174: the room's anonymity changed (room-config.ts); its settings are read again.
  if (configChangeNotice(el)) void s.policy.noticed(s.ctx.conn(), room);
  if (p.self && !p.gone) s.joining.get(room)?.(true);
  if (p.self && p.gone && (p.codes.includes('321') || p.codes.includes('301'))) leftRoom(s, room, 'removed');
  else if (p.realJid && p.affiliation && (p.codes.includes('321') || knownDiffers(s, room, p.realJid, p.affiliation))) {
    const c = s.ctx.conn();
    if (c?.isReady())
      // The member list is re-read from the room (never taken from a presence); a failure is logged, the next change reads it again.
      void refreshMembers(s, c, room).catch((err: unknown) =>
        logger.warn('xmpp: room member list not read', { error: errorName(err) }),
      );
  }
  return true;
}

/** A presence shows an affiliation our records do not: the list changed (or a server admin is in). */
function knownDiffers(s: State, room: string, jid: string, affiliation: string): boolean {
  const known = s.ctx.opts.store.rooms.members(room).find((m) => m.jid === jid)?.affiliation ?? 'none';
  return known !== affiliation;
}

const rejected = (s: State, room: string, reason: string, from: string | null): Step => {
  const { audit, logger } = s.ctx.opts;
  return () =>
    Promise.resolve().then(() => {
      audit.append('message-rejected', { messageId: null, peer: room, from, direction: 'in', reason });
      logger.warn('xmpp: room message rejected', { reason });
    });
};

/**
 * The room bounced one of our messages (its error carries our stanza id, the origin-id). A
 * `forbidden` that the room's settings now explain (it became an announcement room, we are no
 * longer an owner, it became unsafe) means nobody got it: it is marked failed with that reason,
 * even if the server's ack already marked it sent. Anything else is logged.
 */
function bounced(s: State, room: string, el: XmlElement): Step | null {
  const { store, clock, logger } = s.ctx.opts;
  const conversationId = store.rooms.get(room)?.conversationId;
  const id = typeof el.attrs.id === 'string' ? el.attrs.id : '';
  const mine = conversationId && id ? store.messages.findByOriginId(conversationId, id) : undefined;
  if (!mine || mine.direction !== 'out' || String(el.attrs.from ?? '').includes('/')) return null;
  const forbidden = el.getChild('error')?.getChild('forbidden', 'urn:ietf:params:xml:ns:xmpp-stanzas') !== undefined;
  return async () => {
    const c = s.ctx.conn();
    if (forbidden && c?.isReady())
      // Not read: the stored settings decide below, and the next send reads them again.
      await Promise.all([refreshMembers(s, c, room), s.policy.recheck(c, room)]).catch(() => undefined);
    let code: string | null = null;
    try {
      if (forbidden) s.policy.checkPost(room);
    } catch (err) {
      code = err instanceof AppError ? err.code : null;
    }
    logger.warn('xmpp: the room refused our message', { messageId: mine.id, code: code ?? 'unexplained' });
    const m = code ? store.messages.updateState(mine.id, 'failed', clock.now(), code) : undefined;
    if (m?.state === 'failed') {
      s.ctx.emitMessage(m, false);
      s.ctx.emitConversation(m.conversationId);
    }
  };
}

/**
 * A <message/> from one of our rooms, as the step that handles it in arrival order; null when the
 * stanza is not from a room of ours.
 */
function onMessage(s: State, el: XmlElement): Step | null {
  const from = String(el.attrs.from ?? '');
  const room = bare(from);
  if (!s.ctx.opts.store.rooms.get(room)) return null;
  const nothing: Step = () => Promise.resolve();
  if (el.attrs.type === 'error') return bounced(s, room, el) ?? nothing;
  // The room says its configuration changed (XEP-0045 §10.2.1): read before anything after it.
  if (configChangeNotice(el)) return () => s.policy.noticed(s.ctx.conn(), room);
  if (el.attrs.type !== 'groupchat') {
    // From room/nick and not groupchat: a private message through the room. Refused (issue 18 §5).
    const occupantSent = from.includes('/') && (el.getChild('openpgp', NS.ox) || el.getChild('body'));
    const nick = from.slice(from.indexOf('/') + 1);
    return occupantSent ? rejected(s, room, 'private-through-room', s.occupants.realJidOf(room, nick)) : nothing;
  }
  const marker = readRoomMarker(el);
  if (marker) {
    // Who sent it as the room says now (the occupant may leave before its turn comes).
    const jid = s.occupants.realJidOf(room, marker.nick);
    return () => Promise.resolve().then(() => s.reads.live(room, jid, marker.id));
  }
  const msg = readRoomMessage(el);
  if (!msg) return nothing; // a subject, the room's own notice, plaintext: nothing to store
  return () => receive(s, msg);
}

async function receive(s: State, msg: RoomMessageIn): Promise<void> {
  const { store, clock, logger } = s.ctx.opts;
  const room = msg.room;
  // A re-read of the room's settings under way (a notice, a presence): this message is judged after it.
  await s.policy.settled(room);
  const sender = s.occupants.realJidOf(room, msg.nick);
  const conversationId = store.rooms.get(room)!.conversationId;
  const own = sender === s.ctx.ownJid;
  if (own && msg.originId) {
    const mine = store.messages.findByOriginId(conversationId, msg.originId);
    if (mine) return checkReflection(s, mine, msg);
  }
  let refused: string | null = store.rooms.get(room)?.unsafe ? 'room-unsafe' : sender ? null : 'anonymous-occupant';
  if (!refused && sender && !isMember(s, room, sender, clock.now())) {
    // Perhaps added since we last read the list: read it again once, then decide.
    const c = s.ctx.conn();
    if (c?.isReady())
      await refreshMembers(s, c, room).catch((err: unknown) =>
        logger.warn('xmpp: room member list not read', { error: errorName(err) }),
      );
    if (!isMember(s, room, sender, clock.now())) refused = 'not-member';
  }
  if (!refused && sender) refused = s.policy.refusal(room, sender, changesOf(s, room), new Date(clock.now()));
  const item: OxItem = {
    peer: room,
    direction: own ? 'out' : 'in',
    base64: msg.base64,
    originId: msg.originId,
    stanzaId: msg.stanzaId,
    serverStamp: undefined,
    live: true,
    room: { sender, refused },
  };
  const pending = s.receiver.prepare(item);
  // Already stored: by the room's catch-up while it was on its way, then announced now (once).
  if (!pending) return s.receiver.announceLiveCopy(conversationId, item);
  const { received } = await s.receiver.commit([pending]);
  s.receiver.announce(received);
  if (received.length === 0) s.receiver.announceLiveCopy(conversationId, item);
}

/** The room echoed our own message: it must be exactly what we sent, signed by us, to this room. */
async function checkReflection(s: State, mine: Message, msg: RoomMessageIn): Promise<void> {
  const { store, audit, clock, logger } = s.ctx.opts;
  const identity = s.ctx.identity();
  if (!identity || mine.direction !== 'out' || mine.body === null) return;
  let same = false;
  try {
    const opened = await s.ctx.decrypt({
      senderKey: identityAsContact(identity),
      base64: msg.base64,
      ourJid: msg.room,
      now: new Date(clock.now()),
    });
    same = opened.body === mine.body && opened.to.every((j) => j === msg.room);
  } catch {
    same = false; // not ours, not readable: an altered reflection
  }
  if (same) {
    if (msg.stanzaId) store.messages.setStanzaId(mine.id, msg.stanzaId);
    return;
  }
  audit.append('message-rejected', {
    messageId: mine.id,
    peer: msg.room,
    from: s.ctx.ownJid,
    direction: 'out',
    reason: 'altered-reflection',
  });
  logger.warn('xmpp: room reflected an altered copy of our message', { messageId: mine.id });
}

const nameOf = (s: State, jid: string): string => s.ctx.opts.store.contacts.get(jid)?.displayName ?? jid;

/**
 * Before storing a message to a room: we are still a member, the room keeps the clinic's policy,
 * we may post there (announcement room: owners only) and nobody's key changed; sending is refused
 * otherwise. A room that was unsafe is read again first: it may have been fixed (and is joined then).
 */
async function checkSendable(s: State, room: string): Promise<void> {
  const { store } = s.ctx.opts;
  const r = store.rooms.get(room);
  if (!r || r.leftAt !== null)
    throw new AppError('FORBIDDEN', 'You are no longer a member of this care-team room.', { room });
  const c = s.ctx.conn();
  if (r.unsafe !== null && c?.isReady()) {
    // Not read: the stored settings still say unsafe, and checkPost refuses with them below.
    const now = await s.policy.recheck(c, room).catch(() => null);
    if (now && now.problems.length === 0 && !s.present.has(room)) await enter(s, c, room);
  }
  s.policy.checkPost(room);
  const changed = store.rooms
    .members(room)
    .filter((m) => m.jid !== s.ctx.ownJid && store.contacts.get(m.jid)?.trust === 'changed')
    .map((m) => m.jid);
  if (changed.length) throw keyChanged(s, changed);
}

const keyChanged = (s: State, jids: string[]) =>
  new AppError(
    'KEY_CHANGED',
    `The encryption key of ${jids.map((j) => nameOf(s, j)).join(', ')} changed. Compare the new fingerprint and accept it to send to this room again.`,
    { jids: jids.join(',') },
  );

/** The room message's ciphertext for the members on the room's list now (outbox-send.ts). */
async function encrypt(
  s: State,
  room: string,
  msg: Message,
  identity: Identity,
  extra: Pick<Parameters<typeof signcryptForRoom>[0], 'reply' | 'urgent' | 'attachment' | 'mentions'>,
): Promise<string> {
  const { store, clock } = s.ctx.opts;
  const c = s.ctx.conn();
  if (!c?.isReady()) throw new AppError('NOT_CONNECTED', 'Not connected.');
  await checkSendable(s, room);
  // Only an occupant may post (XEP-0045 §7.4): the server would take the stanza (its ack marks it
  // sent) and the room bounce it. After a fresh sign-in it waits, queued, until the room is joined.
  if (!s.present.has(room)) throw new AppError('NOT_CONNECTED', 'Not in the care-team room yet.', { room });
  // The member list and the room's settings as they are now: this attempt is refused if either changed.
  await Promise.all([refreshMembers(s, c, room), s.policy.recheck(c, room)]);
  s.policy.checkPost(room);
  const members: RoomMember[] = [];
  const changed: string[] = [];
  for (const m of store.rooms.members(room)) {
    if (m.jid === s.ctx.ownJid) {
      members.push({ jid: m.jid, key: null });
      continue;
    }
    const key = await s.ctx.trust.keyForSending(m.jid).catch((err: unknown) => {
      if (err instanceof AppError && err.code === 'KEY_CHANGED') changed.push(m.jid);
      return null;
    });
    members.push({ jid: m.jid, name: nameOf(s, m.jid), key });
  }
  if (changed.length) throw keyChanged(s, changed);
  try {
    const out = await signcryptForRoom({
      identity,
      room,
      members,
      body: msg.body ?? '',
      now: new Date(clock.now()),
      ...extra,
    });
    return out.base64;
  } catch (err) {
    if (err instanceof RoomRecipientsError) {
      const names = err.missing.map((m) => m.name ?? m.jid).join(', ');
      throw new AppError('KEY_UNAVAILABLE', `No usable encryption key for ${names}: nothing was sent.`, {
        jids: err.missing.map((m) => m.jid).join(','),
      });
    }
    if (err instanceof RangeError) throw new AppError('FORBIDDEN', 'You are not on this room’s member list.', { room });
    throw err;
  }
}

/** Also sets ctx.rooms: the outbox and send() reach the rooms through the context. */
export function createRooms(ctx: MessagingContext, receiver: Receiver) {
  const policy = createRoomPolicy(ctx);
  const reads = createRoomReads(ctx);
  const archive = createRoomArchive(ctx, receiver, policy, reads);
  const s: State = {
    ctx,
    receiver,
    occupants: createOccupantMap(),
    joining: new Map(),
    service: null,
    archive,
    reads,
    policy,
    present: new Set(),
    listing: Promise.resolve(),
  };
  const rooms = {
    /** One at a time: a sign-in, a room-list notice and a room we just made may all ask (room-create.ts). */
    connected: (c: XmppConnection): Promise<void> => {
      const run = s.listing.then(() => connected(s, c));
      // The caller gets `run` and its failure; the chain only waits for it to end.
      s.listing = run.catch(() => undefined);
      return run;
    },
    /**
     * A fresh session (not a resumed one, session-setup.ts): the server no longer has us in any
     * room, so nothing is posted to one until `connected` has joined it again.
     */
    sessionLost: (): void => s.present.clear(),
    onPresence: (el: XmlElement) => onPresence(s, el),
    onMessage: (el: XmlElement) => onMessage(s, el),
    /** An archive result from one of our rooms: true when taken (room-archive.ts). */
    acceptArchive: (el: XmlElement) => archive.accept(el),
    isRoom: (jid: string): boolean => ctx.opts.store.rooms.get(jid) !== undefined,
    checkSendable: (room: string) => checkSendable(s, room),
    encrypt: (room: string, msg: Message, identity: Identity, extra: Parameters<typeof encrypt>[4]) =>
      encrypt(s, room, msg, identity, extra),
  };
  ctx.rooms = rooms;
  return rooms;
}

export type Rooms = ReturnType<typeof createRooms>;
