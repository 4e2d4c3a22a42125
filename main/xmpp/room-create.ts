/**
 * Staff-created care-team rooms (issue 18 §1, within policy): when the clinic's policy allows it
 * (staffMayCreateRooms) and the server does (deploy/prosody: restrict_room_creation = "local"), a
 * workstation makes a room the way `clinic-admin rooms create` does, with room-setup.ts's safe
 * configuration: first presence (status 201), the owner form while the room is still locked, its
 * disco#info checked for members-only / non-anonymous / persistent / unlisted / archived, then one
 * affiliation per chosen colleague. All or nothing: when a step after the first presence fails
 * (settings refused, an unsafe room, a member refused, the connection lost), the room is destroyed
 * again, nothing of it is kept here, and the failure is audited (makeOrUndo). The
 * creator stays owner (mod_muc_clinic_policy keeps a non-admin creator). We then leave and ask for
 * our rooms again (rooms.ts `connected`), so the room is joined by the one path every room takes;
 * the colleagues' workstations learn of it from the server's room-list notice.
 */
import { randomBytes } from 'node:crypto';
import type { XmlElement } from '@xmpp/client';
import { AppError } from '../../common/result';
import type { MessagingContext } from './context';
import {
  createRoomPresence,
  destroyRoomIq,
  findRoomService,
  leaveRoomPresence,
  offeredFields,
  readJoinAnswer,
  readRoomInfo,
  ROOM_LOCALPART_RE,
  roomConfigQuery,
  roomInfoQuery,
  safeRoomConfig,
  setAffiliationIq,
  stanzaErrorCondition,
  type PresenceAnswer,
} from './room-setup';
import type { Rooms } from './rooms';
import { bare } from './stanzas';
import type { XmppConnection } from './transport/connection';

const ANSWER_TIMEOUT_MS = 15_000;
export const ROOM_NAME_MAX = 64;
export const ROOM_MEMBERS_MAX = 100;

/** The room's name as shown: trimmed, 1–64 characters, no control characters; null when not such. */
export function roomNameOf(name: string): string | null {
  const n = name.trim().replace(/\s+/g, ' ');
  // eslint-disable-next-line no-control-regex
  if (n.length === 0 || [...n].length > ROOM_NAME_MAX || /[\u0000-\u001f\u007f]/.test(n)) return null;
  return n;
}

/** A room address from its name: letters and digits of the name, then a random part (never guessed). */
export function roomLocalpart(name: string, random = randomBytes(4).toString('hex')): string {
  const slug = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  const local = `${slug || 'room'}-${random}`;
  if (!ROOM_LOCALPART_RE.test(local)) throw new Error('room address');
  return local;
}

/** How far making a room got: its settings, their check, the member list (with who was added). */
interface Progress {
  step: 'settings' | 'check' | 'members';
  added: string[];
}

/** What the steps below share: the session, the room list and the room's answers to our presences. */
interface Maker {
  ctx: MessagingContext;
  rooms: Pick<Rooms, 'connected'>;
  answer: (room: string, nick: string, leaving: boolean) => Promise<PresenceAnswer | 'left'>;
  /** Rooms made on the server and not yet finished: a failure undoes them (`building`, this session). */
  building: Set<string>;
}

/**
 * Rooms we made on the server whose undo was never confirmed (written as soon as the room exists,
 * so a lost connection or a crash leaves the entry): destroyed at the next session before the room
 * list is read (finishUndo), so such a room never comes back as one of ours.
 */
const UNMADE_SETTING = 'rooms.unmade';
const unmade = (m: Maker): string[] => m.ctx.opts.store.getSetting<string[]>(UNMADE_SETTING) ?? [];
function setUnmade(m: Maker, room: string, pending: boolean): void {
  const rest = unmade(m).filter((r) => r !== room);
  m.ctx.opts.store.setSetting(UNMADE_SETTING, pending ? [...rest, room] : rest);
}

/** An owner request; its refusal in words, with the server's condition in `details.condition`. */
async function ask(c: XmppConnection, el: XmlElement, what: string): Promise<XmlElement> {
  try {
    return await c.iq(el);
  } catch (err) {
    const condition = stanzaErrorCondition(err);
    // Neither the server's error nor its silence: the connection failed under the request.
    const lost = condition === null && (err as { name?: string } | null)?.name !== 'TimeoutError';
    if (lost)
      throw new AppError('NOT_CONNECTED', `The connection to the clinic server was lost before it could ${what}.`, {
        condition: 'disconnected',
      });
    throw new AppError('CONFLICT', `The clinic server refused to ${what} (${condition ?? 'no answer'}).`, {
      condition: condition ?? 'no-answer',
    });
  }
}

/** Configures, checks and fills the room; `done` says how far it got (for undo and the audit). */
async function make(m: Maker, c: XmppConnection, room: string, name: string, members: string[], done: Progress) {
  const form = await ask(c, roomConfigQuery(room), 'show the room settings');
  await ask(c, safeRoomConfig(room, offeredFields(form), { name, description: '' }), 'apply the room settings');
  done.step = 'check';
  const info = readRoomInfo(await ask(c, roomInfoQuery(room), 'describe the room'));
  if (info.missing.length)
    throw new AppError('CONFLICT', `The clinic server made the room without: ${info.missing.join(', ')}.`, {
      condition: 'unsafe-settings',
    });
  done.step = 'members';
  await m.ctx.opts.inspect?.beforeRoomMembers?.(room);
  for (const jid of members) {
    await ask(
      c,
      setAffiliationIq(room, jid, 'member'),
      `add ${m.ctx.opts.store.contacts.get(jid)?.displayName ?? jid}`,
    );
    done.added.push(jid);
  }
}

/** Leaves the room we made (its answer, or the timeout, ends the wait). */
async function leave(m: Maker, c: XmppConnection, room: string, nick: string): Promise<void> {
  const left = m.answer(room, nick, true);
  await c.send(leaveRoomPresence(room, nick));
  await left;
}

/**
 * Best effort, after a failure: the colleagues already added are taken off the list first (their
 * workstations hear so from the server's room-list notice), then the room is destroyed (XEP-0045
 * §10.9), which also takes us out. True when the server confirmed the destroy; otherwise we leave,
 * and a room left unconfigured goes with its last occupant.
 */
async function undo(m: Maker, c: XmppConnection, room: string, nick: string, added: string[]): Promise<boolean> {
  if (!c.isReady()) return false;
  // Best effort: a colleague left on the list of a destroyed room sees nothing of it.
  for (const jid of added) await c.iq(setAffiliationIq(room, jid, 'none')).catch(() => undefined);
  const removed = await c.iq(destroyRoomIq(room)).then(
    () => true,
    () => false,
  );
  // Best effort: the refusal says the server may still hold the room either way.
  if (!removed && c.isReady()) await leave(m, c, room, nick).catch(() => undefined);
  return removed;
}

/**
 * Nothing of an undone room is kept here: a room-list refresh under way (the server tells us at
 * once that we own the new room) may have stored it. That refresh is let finish, then the row and
 * its empty conversation go; the renderer reads its list again after the refusal.
 */
async function forget(m: Maker, c: XmppConnection, room: string): Promise<void> {
  // Only to wait for it: a failed refresh stored nothing more, and the row goes below either way.
  if (c.isReady()) await m.rooms.connected(c).catch(() => undefined);
  m.ctx.opts.store.rooms.forgetUnmade(room);
}

/**
 * Makes the room all or nothing, from the person's point of view: on a failure after the room
 * exists it is undone and forgotten, the failure audited (where it stopped, the server's
 * condition, whether the room is gone; no name), and the refusal says what happened.
 */
async function makeOrUndo(m: Maker, c: XmppConnection, room: string, nick: string, name: string, members: string[]) {
  const done: Progress = { step: 'settings', added: [] };
  setUnmade(m, room, true);
  m.building.add(room);
  try {
    await make(m, c, room, name, members, done);
  } catch (err) {
    m.building.delete(room);
    const removed = await undo(m, c, room, nick, done.added);
    if (removed) setUnmade(m, room, false);
    else undoLater(m);
    await forget(m, c, room);
    const condition = err instanceof AppError ? err.details?.condition : undefined;
    const reason = typeof condition === 'string' ? condition : 'internal';
    m.ctx.opts.audit.append('room-membership', {
      room,
      jid: m.ctx.ownJid,
      change: 'create-failed',
      step: done.step,
      reason,
      removed,
    });
    const why = err instanceof AppError ? err.message : 'Something went wrong while making it.';
    throw new AppError(
      err instanceof AppError && err.code === 'NOT_CONNECTED' ? 'NOT_CONNECTED' : 'CONFLICT',
      removed
        ? `The room was not created: ${why} Nothing of it was kept.`
        : `The room was not created: ${why} What the clinic server made of it (${room}) is removed once the connection is back; if it stays, ask IT to remove it.`,
      { room, step: done.step, reason, removed },
    );
  }
  m.building.delete(room);
  setUnmade(m, room, false);
  await leave(m, c, room, nick);
}

const UNDO_RETRY_MS = 2_000;
const UNDO_RETRIES = 30;

/**
 * An undo the connection cut short is tried again once it is back (a resumed stream too, which
 * reads no room list), every few seconds for a minute; a fresh session's finishUndo covers the rest.
 */
function undoLater(m: Maker, left = UNDO_RETRIES): void {
  m.ctx.net.setTimeout(() => {
    const c = m.ctx.conn();
    const again = () => {
      if (left > 1) undoLater(m, left - 1);
    };
    if (!c?.isReady()) return again();
    // Never rejects: its failures are caught inside.
    void (async () => {
      try {
        await finishUndo(m, c);
        if (unmade(m).some((r) => !m.building.has(r))) again();
      } catch {
        // The session ended under it (its store closed): the next session's finishUndo takes over.
      }
    })();
  }, UNDO_RETRY_MS);
}

/**
 * A fresh session, before the room list is read: each room whose undo was never confirmed is
 * destroyed now (one the server no longer has counts as done) and forgotten here, audited
 * `create-undone`. One the server will not destroy yet stays listed for the next session.
 */
async function finishUndo(m: Maker, c: XmppConnection): Promise<void> {
  for (const room of unmade(m)) {
    if (m.building.has(room)) continue;
    const gone = await c.iq(destroyRoomIq(room)).then(
      () => true,
      (err: unknown) => ['item-not-found', 'gone'].includes(stanzaErrorCondition(err) ?? ''),
    );
    if (!gone) {
      m.ctx.opts.logger.warn('xmpp: an unfinished room is not removed yet', { condition: 'refused' });
      continue;
    }
    setUnmade(m, room, false);
    m.ctx.opts.store.rooms.forgetUnmade(room);
    m.ctx.opts.audit.append('room-membership', { room, jid: m.ctx.ownJid, change: 'create-undone' });
  }
}

/** Our first presence creates the room; a refusal or an existing room ends here, nothing made. */
async function createOnServer(m: Maker, c: XmppConnection, room: string, nick: string): Promise<void> {
  const joined = m.answer(room, nick, false);
  await c.send(createRoomPresence(room, nick));
  const a = await joined;
  if (a === 'left' || !a.ok)
    throw a !== 'left' && (a.condition === 'not-allowed' || a.condition === 'forbidden')
      ? new AppError('FORBIDDEN', 'The clinic server does not let staff create rooms: ask IT.', {
          server: 'restrict_room_creation',
        })
      : new AppError(
          'CONFLICT',
          `The clinic server refused to create the room (${a === 'left' ? 'left' : a.condition}).`,
        );
  if (!a.created) throw new AppError('CONFLICT', 'A room with that address exists already.');
}

export function createRoomMaker(ctx: MessagingContext, rooms: Pick<Rooms, 'connected'>) {
  const { store, audit, policy } = ctx.opts;
  /** Rooms being made: their presences are ours (the room is not in the store yet). */
  const making = new Map<string, (el: XmlElement) => void>();

  /** The room's answer to a presence of ours; `self gone` answers a leave. */
  const answer = (room: string, nick: string, leaving: boolean): Promise<PresenceAnswer | 'left'> =>
    new Promise((resolve) => {
      ctx.net.setTimeout(() => resolve({ ok: false, condition: 'remote-server-timeout' }), ANSWER_TIMEOUT_MS);
      making.set(room, (el) => {
        if (leaving && el.attrs.type === 'unavailable' && bare(el.attrs.from) === room) return resolve('left');
        const a = readJoinAnswer(el, room, nick);
        if (a && !leaving) resolve(a);
      });
    });
  const m: Maker = { ctx, rooms, answer, building: new Set() };

  async function create(o: { name: string; members: string[] }): Promise<{ conversationId: string; room: string }> {
    if (!policy.staffMayCreateRooms)
      throw new AppError('FORBIDDEN', "Your clinic's policy does not let staff create care-team rooms.", {
        policy: 'staffMayCreateRooms',
      });
    const name = roomNameOf(o.name);
    if (!name) throw new AppError('BAD_INPUT', `A room name has 1 to ${ROOM_NAME_MAX} characters.`);
    const members = [...new Set(o.members.map((j) => bare(j)))].filter((j) => j !== ctx.ownJid);
    if (members.length > ROOM_MEMBERS_MAX) throw new AppError('BAD_INPUT', 'Too many members for one room.');
    const unknown = members.filter((j) => !store.contacts.get(j));
    if (unknown.length) throw new AppError('BAD_INPUT', 'Members are chosen from the directory.');
    const c = ctx.conn();
    if (!c?.isReady()) throw new AppError('NOT_CONNECTED', 'Rooms are created while connected.');
    const domain = ctx.ownJid.slice(ctx.ownJid.indexOf('@') + 1);
    const service = await findRoomService((el) => c.iq(el), domain);
    if (!service) throw new AppError('CONFLICT', 'The clinic server has no care-team room service.');
    const room = `${roomLocalpart(name)}@${service}`;
    const nick = ctx.ownJid.split('@')[0]!;
    try {
      await createOnServer(m, c, room, nick);
      await makeOrUndo(m, c, room, nick, name, members);
    } finally {
      making.delete(room);
    }
    audit.append('room-membership', { room, jid: ctx.ownJid, change: 'created', members: members.length });
    await rooms.connected(c);
    const conversationId = store.rooms.get(room)?.conversationId;
    if (!conversationId) throw new AppError('CONFLICT', 'The room was created but could not be joined.');
    return { conversationId, room };
  }

  return {
    create,
    /** Before the room list is read at a fresh session: rooms whose creation was never undone go now. */
    finishUndo: (c: XmppConnection) => finishUndo(m, c),
    /**
     * True when `el` is a presence of a room being made (never the directory's). Once a room-list
     * refresh stored that room (the server tells us at once that we own it), rooms.ts sees its
     * presences too: that refresh's join is answered, not left to time out.
     */
    onPresence(el: XmlElement): boolean {
      const room = bare(el.attrs.from);
      const f = making.get(room);
      if (!f) return false;
      f(el);
      return store.rooms.get(room) === undefined;
    },
  };
}

export type RoomMaker = ReturnType<typeof createRoomMaker>;
