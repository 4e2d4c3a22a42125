/**
 * RoomService for Prosody 0.12 (deploy/prosody/): XEP-0045 over XMPP as the server's admin account
 * (`admins` in prosody.cfg.lua, the only accounts `restrict_room_creation` lets create rooms),
 * signed in with the app's hardened transport (TLS required, the clinic CA, SCRAM only) like
 * `wipe --send`. Chosen over prosodyctl: Prosody 0.12's prosodyctl has no room commands, and its
 * admin shell (mod_admin_shell, not loaded by deploy/prosody) would run Lua in the server.
 *
 * - the service is the domain's disco item with identity category `conference` (findRoomService, as
 *   the workstation finds it);
 * - every room is listed by mod_muc_clinic_policy's admin-only node (the rooms are unlisted);
 * - a room is created by the first presence (status 201), configured with room-setup.ts's safe
 *   form while still locked, then left: an admin owns every room (component_admins_as_room_owners)
 *   without being on its list (mod_muc_clinic_policy drops the creator entry of an admin);
 * - one affiliation per request (Prosody 0.12 applies only the first item of a request);
 * - an announcement room (only owners post) is mod_muc_clinic_policy's own field of the same form,
 *   submitted with the safe configuration; the room's disco#info then says so.
 */
import { xml, type XmlElement } from '@xmpp/client';
import {
  affiliationQuery,
  ALL_ROOMS_NODE,
  ANNOUNCEMENT_FIELD,
  createRoomPresence,
  destroyRoomIq,
  findRoomService,
  leaveRoomPresence,
  offeredFields,
  readAffiliations,
  readJoinAnswer,
  readRoomInfo,
  roomConfigQuery,
  roomInfoQuery,
  safeRoomConfig,
  setAffiliationIq,
  stanzaErrorCondition,
  type PresenceAnswer,
  type RoomAffiliation,
} from '../../main/xmpp/room-setup';
import { NS_DISCO_ITEMS } from '../../main/xmpp/disco';
import { readRoomConfig } from '../../main/xmpp/room-config';
import { CliError } from '../errors';
import { openAdminSession, type SendTarget } from '../send';
import { RoomExists, type RoomService } from './room-service';

const ANSWER_TIMEOUT_MS = 20_000;
/** The nick the admin account holds a room under for the moment it creates it. */
const NICK = 'clinic-admin';

export async function prosodyRooms(as: string, password: string, target: SendTarget): Promise<RoomService> {
  const waiting = new Set<(el: XmlElement) => void>();
  const { conn, via, domain } = await openAdminSession(
    as,
    password,
    target,
    (el) => {
      for (const f of waiting) f(el);
    },
    'nothing was changed',
  );
  let service: string | null;
  try {
    service = await findRoomService((el) => conn.iq(el), domain);
  } catch (err) {
    await conn.stop();
    throw err;
  }
  if (!service) {
    await conn.stop();
    throw new CliError(
      `The XMPP server at ${via} has no care-team room service for ${domain} (a MUC component, deploy/prosody/prosody.cfg.lua); nothing was changed.`,
    );
  }
  const muc = service;
  const description = `${muc} on Prosody via ${via} as ${as}`;

  /** The room's answer to our presence to room/nick. */
  const answerTo = (room: string): Promise<PresenceAnswer> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(check);
        reject(new CliError(`${room} did not answer within ${ANSWER_TIMEOUT_MS / 1000} s; nothing was changed.`));
      }, ANSWER_TIMEOUT_MS);
      timer.unref();
      const check = (el: XmlElement) => {
        const answer = readJoinAnswer(el, room, NICK);
        if (!answer) return;
        clearTimeout(timer);
        waiting.delete(check);
        resolve(answer);
      };
      waiting.add(check);
    });

  /** An IQ whose refusal names the room and what was refused. */
  const ask = async (el: XmlElement, what: string): Promise<XmlElement> => {
    try {
      return await conn.iq(el);
    } catch (err) {
      const condition = stanzaErrorCondition(err);
      if (condition === 'forbidden' || condition === 'not-allowed')
        throw new CliError(
          `${muc} refused to let ${as} ${what} (${condition}): is it in the server's admins (prosody.cfg.lua, docs/deploy/server.md)?`,
        );
      if (condition) throw new CliError(`${muc} refused to ${what} (${condition}).`);
      throw new CliError(
        `No answer from ${via} when trying to ${what}; the connection may have dropped. Run it again.`,
      );
    }
  };

  return {
    service: muc,
    description,
    tellsMembers: true,
    announcements: true,
    async listRooms() {
      const res = await ask(
        xml('iq', { type: 'get', to: muc }, xml('query', { xmlns: NS_DISCO_ITEMS, node: ALL_ROOMS_NODE })),
        'list the rooms',
      );
      return (res.getChild('query', NS_DISCO_ITEMS)?.getChildren('item') ?? [])
        .map((i) => String(i.attrs.jid ?? '').toLowerCase())
        .filter((j) => j.endsWith(`@${muc}`))
        .sort();
    },
    async room(jid) {
      try {
        const res = await conn.iq(roomInfoQuery(jid));
        return { jid, ...readRoomInfo(res), announcement: readRoomConfig(res).announcement };
      } catch (err) {
        const condition = stanzaErrorCondition(err);
        // gone: a destroyed room's tombstone, which an admin may create again.
        if (condition === 'item-not-found' || condition === 'gone') return null;
        if (condition) throw new CliError(`${muc} refused to describe ${jid} (${condition}).`);
        throw new CliError(`No answer from ${via} about ${jid}; the connection may have dropped. Run it again.`);
      }
    },
    async affiliations(jid) {
      const out = new Map<string, Exclude<RoomAffiliation, 'none'>>();
      for (const affiliation of ['owner', 'admin', 'member', 'outcast'] as const)
        for (const item of readAffiliations(
          await ask(affiliationQuery(jid, affiliation), `read the ${affiliation}s of ${jid}`),
        ))
          out.set(item.jid, affiliation);
      return out;
    },
    async create(jid, o) {
      const answered = answerTo(jid);
      answered.catch(() => undefined); // awaited below, once the presence is out
      await conn.send(createRoomPresence(jid, NICK));
      const answer = await answered;
      if (!answer.ok)
        throw new CliError(
          answer.condition === 'not-allowed'
            ? `${muc} does not let ${as} create rooms: only the server's admins do (admins in prosody.cfg.lua, docs/deploy/server.md). Nothing was changed.`
            : `${muc} refused to create ${jid} (${answer.condition}). Nothing was changed.`,
        );
      try {
        if (!answer.created) throw new RoomExists(jid);
        const offered = offeredFields(await ask(roomConfigQuery(jid), `read the configuration form of ${jid}`));
        const announcement = o.announcement === true;
        if (announcement && !offered.has(ANNOUNCEMENT_FIELD)) {
          // Not configured yet: destroyed again, so no room is left behind.
          await ask(destroyRoomIq(jid), `remove ${jid} again`);
          throw new CliError(
            `${muc} cannot make announcement rooms: its room form has no "Announcement room" setting (is mod_muc_clinic_policy loaded? deploy/prosody/README.md). ${jid} was not kept; nothing was changed.`,
          );
        }
        await ask(safeRoomConfig(jid, offered, { ...o, announcement }), `configure ${jid}`);
      } finally {
        await conn.send(leaveRoomPresence(jid, NICK));
      }
    },
    async setAffiliation(jid, account, affiliation) {
      await ask(setAffiliationIq(jid, account, affiliation), `make ${account} ${affiliation} of ${jid}`);
    },
    close: () => conn.stop(),
  };
}
