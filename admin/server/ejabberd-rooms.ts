/**
 * RoomService for ejabberd 23.01 (deploy/ejabberd/): mod_muc_admin's commands over the HTTP API
 * clinic-admin already uses (ejabberd.ts; deploy/ejabberd/ejabberd.yml's api_permissions let it
 * call them from loopback only). No XMPP session and no admin account: the API makes the room
 * with its options in one call (create_room_with_opts), so no creator is ever on the list.
 * The room service is `conference.<domain>` (mod_muc's default host, as deploy/ejabberd has it).
 */
import type { RoomAffiliation } from '../../main/xmpp/room-setup';
import { CliError } from '../errors';
import { ApiRefusal, ejabberdApi, parseApiUrl } from './ejabberd';
import { RoomExists, type RoomService, type RoomState } from './room-service';

/**
 * The safe configuration in mod_muc's option names (main/xmpp/room-setup.ts says it in XEP-0045's
 * form fields): members-only, non-anonymous, persistent, unlisted, archived, no invitations by
 * members, no private messages through the room.
 */
export const EJABBERD_SAFE_OPTIONS: Readonly<Record<string, string>> = {
  members_only: 'true',
  anonymous: 'false',
  persistent: 'true',
  public: 'false',
  public_list: 'false',
  mam: 'true',
  allow_user_invites: 'false',
  allow_private_messages: 'false',
  allow_subscription: 'false',
};

/** The safe options a room's get_room_options answer lacks, in the words of room-setup.ts's readRoomInfo. */
export function missingSafeOptions(options: ReadonlyMap<string, string>): string[] {
  const is = (k: string, v: string) => options.get(k) === v;
  const missing: string[] = [];
  if (!is('members_only', 'true')) missing.push('members-only');
  if (!is('anonymous', 'false')) missing.push('non-anonymous');
  if (!is('persistent', 'true')) missing.push('persistent');
  if (!is('public', 'false')) missing.push('unlisted');
  if (!is('mam', 'true')) missing.push('archived');
  return missing;
}

const AFFILIATIONS = new Set(['owner', 'admin', 'member', 'outcast']);

export function ejabberdRooms(apiUrl: string, domains: readonly string[]): RoomService {
  const url = parseApiUrl(apiUrl);
  const call = ejabberdApi(url);
  const domain = domains[0];
  if (!domain) throw new CliError(`ejabberd serves no domain. Nothing was changed.`);
  const service = `conference.${domain}`;
  const description = `${service} on ejabberd (${url.href.replace(/\/+$/, '')})`;
  const split = (jid: string) => jid.slice(0, jid.indexOf('@'));

  const options = async (jid: string): Promise<Map<string, string> | null> => {
    let r: unknown;
    try {
      r = await call('get_room_options', { name: split(jid), service });
    } catch (err) {
      // A version that answers a room that does not exist with an error rather than {}.
      if (err instanceof ApiRefusal && /not.?found|not exist/i.test(err.apiText)) return null;
      throw err;
    }
    // 23.01 answers an object of option → value ({} for no such room); other versions a list of {name, value}.
    const entries: [string, string][] = Array.isArray(r)
      ? (r as { name?: unknown; value?: unknown }[]).map((o) => [String(o.name), String(o.value)])
      : r !== null && typeof r === 'object'
        ? Object.entries(r).map(([k, v]) => [k, String(v)])
        : [];
    return entries.length === 0 ? null : new Map(entries);
  };

  return {
    service,
    description,
    tellsMembers: false,
    // No mod_muc_clinic_policy there: `rooms create --announcement` is refused before anything changes.
    announcements: false,
    async listRooms() {
      const r = await call('muc_online_rooms', { service });
      if (!Array.isArray(r)) throw new CliError(`ejabberd's answer to muc_online_rooms is not a list.`);
      return (r as unknown[])
        .map((j) => String(j).toLowerCase())
        .filter((j) => j.endsWith(`@${service}`))
        .sort();
    },
    async room(jid): Promise<RoomState | null> {
      const o = await options(jid);
      if (!o) return null;
      return {
        jid,
        name: o.get('title') || null,
        description: o.get('description') || null,
        missing: missingSafeOptions(o),
        announcement: false,
      };
    },
    async affiliations(jid) {
      const r = await call('get_room_affiliations', { name: split(jid), service });
      const out = new Map<string, Exclude<RoomAffiliation, 'none'>>();
      for (const item of Array.isArray(r)
        ? (r as { username?: unknown; domain?: unknown; affiliation?: unknown }[])
        : []) {
        const { username, domain: host, affiliation } = item;
        if (typeof username !== 'string' || typeof host !== 'string' || typeof affiliation !== 'string') continue;
        if (!AFFILIATIONS.has(affiliation) || username === '') continue;
        out.set(`${username}@${host}`.toLowerCase(), affiliation as Exclude<RoomAffiliation, 'none'>);
      }
      return out;
    },
    async create(jid, o) {
      if (o.announcement) throw new CliError('ejabberd has no announcement rooms; nothing was changed.');
      if (await options(jid)) throw new RoomExists(jid);
      const opts = { ...EJABBERD_SAFE_OPTIONS, title: o.name, description: o.description };
      await call('create_room_with_opts', {
        name: split(jid),
        service,
        host: domain,
        options: Object.entries(opts).map(([name, value]) => ({ name, value })),
      });
    },
    async setAffiliation(jid, account, affiliation) {
      await call('set_room_affiliation', { name: split(jid), service, jid: account, affiliation });
    },
    close: () => Promise.resolve(),
  };
}
