/**
 * Staff-created care-team rooms (issue 18 §1, within policy): when the clinic's policy allows it
 * (staffMayCreateRooms) and the server does (deploy/prosody: restrict_room_creation = "local"), a
 * workstation makes a room the way `clinic-admin rooms create` does, with room-setup.ts's safe
 * configuration: first presence (status 201), the owner form while the room is still locked, its
 * disco#info checked for members-only / non-anonymous / persistent / unlisted / archived (a room
 * that does not keep them is destroyed again), then one affiliation per chosen colleague. The
 * creator stays owner (mod_muc_clinic_policy keeps a non-admin creator). We then leave and ask for
 * our rooms again (rooms.ts `connected`), so the room is joined by the one path every room takes;
 * the colleagues' workstations learn of it from the server's room-list notice.
 */
import { randomBytes } from 'node:crypto';
import { xml, type XmlElement } from '@xmpp/client';
import { AppError } from '../../common/result';
import type { MessagingContext } from './context';
import {
  createRoomPresence,
  findRoomService,
  leaveRoomPresence,
  NS_MUC_OWNER,
  offeredFields,
  readJoinAnswer,
  readRoomInfo,
  ROOM_LOCALPART_RE,
  roomConfigQuery,
  roomInfoQuery,
  safeRoomConfig,
  setAffiliationIq,
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

const conditionOf = (err: unknown): string | null =>
  (err as { name?: string } | null)?.name === 'StanzaError'
    ? ((err as { condition?: string }).condition ?? null)
    : null;

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

  const ask = async (c: XmppConnection, el: XmlElement, what: string): Promise<XmlElement> => {
    try {
      return await c.iq(el);
    } catch (err) {
      throw new AppError('CONFLICT', `The clinic server refused to ${what} (${conditionOf(err) ?? 'no answer'}).`);
    }
  };

  /** Creates, configures, checks and fills the room; the caller leaves it. */
  async function make(c: XmppConnection, room: string, name: string, members: string[]): Promise<void> {
    const form = await ask(c, roomConfigQuery(room), 'show the room settings');
    await ask(c, safeRoomConfig(room, offeredFields(form), { name, description: '' }), 'apply the room settings');
    const info = readRoomInfo(await ask(c, roomInfoQuery(room), 'describe the room'));
    if (info.missing.length) {
      // Best effort: the refusal below is what the person is told either way.
      await c
        .iq(xml('iq', { type: 'set', to: room }, xml('query', { xmlns: NS_MUC_OWNER }, xml('destroy'))))
        .catch(() => undefined);
      throw new AppError(
        'CONFLICT',
        `The clinic server made the room without: ${info.missing.join(', ')}. It was removed.`,
      );
    }
    for (const jid of members) await ask(c, setAffiliationIq(room, jid, 'member'), 'add a member');
  }

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
      const joined = answer(room, nick, false);
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
      try {
        await make(c, room, name, members);
      } finally {
        const left = answer(room, nick, true);
        await c.send(leaveRoomPresence(room, nick));
        await left;
      }
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
    /** True when `el` is a presence of a room being made (never the directory's). */
    onPresence(el: XmlElement): boolean {
      const f = making.get(bare(el.attrs.from));
      if (!f) return false;
      f(el);
      return true;
    },
  };
}

export type RoomMaker = ReturnType<typeof createRoomMaker>;
