/**
 * `clinic-admin rooms list|create|sync` (issue 18 §1): care-team rooms made from the directory's
 * groups. `create` makes a room with the safe configuration (main/xmpp/room-setup.ts: members-only,
 * non-anonymous, persistent, unlisted, archived) and sets its member list (its affiliation list) to
 * the group's members, with optional owners; the room's description names the group
 * (`Directory group: <group>`), which is how `sync` and `list` find it again. `sync` brings the
 * member list of one room or of every linked room back to its group: new group members become
 * members, members who left the group are removed (the app stops encrypting to them from the next
 * message), owners and outcasts are left as they are unless `--owner` names the owners.
 *
 * The directory is the server's (ServerAdmin.readDirectory: Prosody's groups file, ejabberd's
 * shared-roster groups); the rooms are the MUC service's (RoomService: XMPP as Prosody's admin
 * account, ejabberd's HTTP API).
 */
import { ROOM_LOCALPART_RE, type RoomAffiliation } from '../../main/xmpp/room-setup';
import { CliError, usageError } from '../errors';
import type { CliIo } from '../io';
import { readXmppPassword } from '../passphrase';
import { parseBareJid, parseSendOptions, type SendOptions } from '../send-options';
import { ejabberdRooms } from '../server/ejabberd-rooms';
import { openServer, type ServerOptions } from '../server/open';
import { DEFAULT_PROSODY_CONFIG } from '../server/prosody';
import { prosodyRooms } from '../server/prosody-rooms';
import { RoomExists, type RoomService, type RoomState } from '../server/room-service';
import type { DirectoryGroup, ServerAdmin } from '../server/server-admin';

export const ROOMS_USAGE = `Usage: clinic-admin rooms list                                       [server options]
       clinic-admin rooms create <room> --group <group> [--name <text>] [--owner <jid>]… [--announcement]
                                                                           [server options]
       clinic-admin rooms sync [<room>] [--owner <jid>]…                  [server options]

Care-team rooms made from the directory's groups (the teams and roles of users.csv).
  list    every room: its name, its group, its members, and what sync would change
  create  makes the room <room> (a name such as ward-1, or ward-1@rooms.clinic.example) with the
          safe configuration: members-only, non-anonymous, persistent, unlisted, archived. Its
          member list is the group's members; --owner (repeatable) makes accounts owners (they
          may manage the room's members in the app). The room's name is --name, or the group's.
          --announcement makes an announcement room: only its owners post (give --owner), the
          other members read. Prosody only (deploy/prosody's mod_muc_clinic_policy); refused on
          ejabberd.
  sync    brings the member list of <room>, or of every room made from a group, back to the
          group: adds its new members, removes those who left it (their workstations stop
          receiving the room's messages from the next one). Owners stay, unless --owner names
          them: then exactly those are owners.
A workstation that is signed in joins a room it was added to at once on Prosody (the server tells
it), else at its next sign-in.

Server options (run on the server, as for provision):
  --prosody-config <file>  Prosody (default ${DEFAULT_PROSODY_CONFIG}): the directory is its
                           groups_file, as provision last wrote it (read as root, with sudo)
  --as <admin-jid>         Prosody: the account in the server's admins (prosody.cfg.lua) that
                           makes and manages rooms; its password is asked at the terminal (not
                           shown) or read from CLINIC_ADMIN_XMPP_PASSWORD
  --server, --tls, --ca    Prosody: where to connect, as for wipe --send
  --ejabberd-api <url>     ejabberd instead: the directory and the rooms through its HTTP API
                           (no --as; deploy/ejabberd/README.md)`;

/** What `rooms` writes in a room's description to remember its group. */
export const GROUP_LINK = 'Directory group: ';
const groupOf = (r: RoomState): string | null =>
  r.description?.startsWith(GROUP_LINK) ? r.description.slice(GROUP_LINK.length).trim() : null;

export interface RoomsOptions extends ServerOptions, Omit<SendOptions, 'send'> {
  action: string | undefined;
  room: string | undefined;
  group: string | undefined;
  name: string | undefined;
  owners: string[] | undefined;
  /** `create`: an announcement room (only owners post). */
  announcement?: boolean;
}

type Listed = Exclude<RoomAffiliation, 'none'>;
export interface Change {
  jid: string;
  affiliation: RoomAffiliation;
  was: RoomAffiliation;
}

/**
 * The affiliation changes that make `current` follow the group: its members become members (an
 * outcast stays out), members outside it are removed; owners and admins stay, unless `owners` is
 * given: then exactly those are owners, and a former owner becomes a member if in the group.
 */
export function planMembers(
  current: ReadonlyMap<string, Listed>,
  groupMembers: readonly string[],
  owners?: readonly string[],
): Change[] {
  const inGroup = new Set(groupMembers);
  const want = new Map<string, RoomAffiliation>();
  if (owners) {
    for (const jid of owners) want.set(jid, 'owner');
    for (const [jid, a] of current)
      if (a === 'owner' && !want.has(jid)) want.set(jid, inGroup.has(jid) ? 'member' : 'none');
  }
  for (const jid of groupMembers) if (!want.has(jid) && !current.has(jid)) want.set(jid, 'member');
  for (const [jid, a] of current) if (a === 'member' && !inGroup.has(jid) && !want.has(jid)) want.set(jid, 'none');
  const changes: Change[] = [];
  for (const [jid, affiliation] of want) {
    const was = current.get(jid) ?? 'none';
    if (was !== affiliation) changes.push({ jid, affiliation, was });
  }
  // Additions first, then removals; each list in address order.
  const order = (c: Change) => (c.affiliation === 'none' ? 1 : 0);
  return changes.sort((a, b) => order(a) - order(b) || (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0));
}

const describeChange = (c: Change): string =>
  c.affiliation === 'none'
    ? `  - removed ${c.jid} (was ${c.was})`
    : `  + ${c.affiliation} ${c.jid}${c.was === 'none' ? '' : ` (was ${c.was})`}`;

function counts(affs: ReadonlyMap<string, Listed>): string {
  const n = (a: Listed) => [...affs.values()].filter((x) => x === a).length;
  const parts = [`${n('member')} member${n('member') === 1 ? '' : 's'}`];
  if (n('owner')) parts.push(`${n('owner')} owner${n('owner') === 1 ? '' : 's'}`);
  if (n('admin')) parts.push(`${n('admin')} admin${n('admin') === 1 ? '' : 's'}`);
  if (n('outcast')) parts.push(`${n('outcast')} kept out`);
  return parts.join(', ');
}

function applied(affs: Map<string, Listed>, changes: Change[]): Map<string, Listed> {
  const out = new Map(affs);
  for (const c of changes) {
    if (c.affiliation === 'none') out.delete(c.jid);
    else out.set(c.jid, c.affiliation);
  }
  return out;
}

/** `<room>` as given: a local part (checked before anything is asked), or a bare JID whose service is checked once known. */
function parseRoom(text: string): { local: string; service: string | null } {
  const t = text.trim().toLowerCase();
  const at = t.indexOf('@');
  const local = at < 0 ? t : t.slice(0, at);
  const service = at < 0 ? null : t.slice(at + 1);
  if (!ROOM_LOCALPART_RE.test(local) || (service !== null && !/^[a-z0-9.-]+$/.test(service)))
    throw usageError(
      `"${text}" is not a room name: use lower-case letters, digits, . _ and - (at most 64, starting and ending with a letter or digit), e.g. ward-1, optionally @ the room service.`,
    );
  return { local, service };
}

function roomJid(room: { local: string; service: string | null }, rooms: RoomService): string {
  if (room.service !== null && room.service !== rooms.service)
    throw usageError(`${room.local}@${room.service} is not on the care-team room service ${rooms.service}.`);
  return `${room.local}@${rooms.service}`;
}

function findGroup(groups: DirectoryGroup[], name: string, where: string): DirectoryGroup {
  const g = groups.find((x) => x.name === name);
  if (g) return g;
  const close = groups.find((x) => x.name.toLowerCase() === name.toLowerCase());
  const known = groups.map((x) => `"${x.name}"`).join(', ') || 'none';
  throw new CliError(
    `No group "${name}" in the directory (${where})${close ? `; did you mean "${close.name}"?` : `. Its groups: ${known}.`} Nothing was changed.`,
  );
}

async function openRooms(io: CliIo, opts: RoomsOptions, server: ServerAdmin): Promise<RoomService> {
  if (opts.ejabberdApi !== undefined) {
    if (opts.as !== undefined || opts.server !== undefined || opts.tls !== undefined || opts.ca !== undefined)
      throw usageError('--as, --server, --tls and --ca are for Prosody; with --ejabberd-api the API does it all.');
    return ejabberdRooms(opts.ejabberdApi, server.domains);
  }
  const sending = parseSendOptions({ ...opts, send: true })!;
  const domain = sending.as.split('@')[1] ?? '';
  if (!server.domains.includes(domain))
    throw usageError(
      `--as ${sending.as}: ${server.description} does not serve ${domain} (it serves ${server.domains.join(', ')}).`,
    );
  return prosodyRooms(sending.as, await readXmppPassword(io, sending.as), sending.target);
}

export async function rooms(io: CliIo, opts: RoomsOptions): Promise<void> {
  const action = opts.action;
  if (action !== 'list' && action !== 'create' && action !== 'sync')
    throw usageError('rooms needs what to do: clinic-admin rooms list|create|sync.');
  const room = opts.room === undefined ? null : parseRoom(opts.room);
  if (action === 'create' && room === null)
    throw usageError('rooms create needs the room: rooms create <room> --group <group>.');
  if (action === 'list' && room !== null) throw usageError('rooms list takes no room.');
  if (action === 'create' && !opts.group)
    throw usageError('rooms create needs --group <group>: the directory group whose members it gets.');
  if (action !== 'create' && (opts.group !== undefined || opts.name !== undefined))
    throw usageError(`--group and --name go with rooms create (a room keeps the group it was made from).`);
  if (action !== 'create' && opts.owners !== undefined && room === null)
    throw usageError('--owner with rooms sync needs the room: rooms sync <room> --owner <jid>.');
  if (action === 'list' && opts.owners !== undefined)
    throw usageError('--owner goes with rooms create or rooms sync <room>.');
  if (opts.announcement && action !== 'create')
    throw usageError(
      '--announcement goes with rooms create; an existing room is made one in its configuration form (deploy/prosody/README.md).',
    );
  if (opts.announcement && opts.owners === undefined)
    throw usageError('rooms create --announcement needs --owner <jid>: only the owners post in an announcement room.');
  const name = opts.name?.trim() ?? opts.group?.trim() ?? '';
  if (action === 'create' && (name === '' || name.length > 100 || /\p{Cc}/u.test(name)))
    throw usageError('--name must be 1 to 100 characters without control characters.');
  if (opts.ejabberdApi === undefined && opts.as === undefined)
    throw usageError(
      "rooms on Prosody needs --as <admin-jid>: the account in the server's admins (prosody.cfg.lua) that makes and manages rooms. On ejabberd give --ejabberd-api <url>.",
    );
  const owners = opts.owners?.map((o) => parseBareJid(o, '--owner'));

  const server = await openServer(opts);
  for (const o of owners ?? [])
    if (!server.domains.includes(o.split('@')[1] ?? '') || !(await server.userExists(o)))
      throw new CliError(`--owner ${o}: no such account on ${server.description}. Nothing was changed.`);
  const groups = await server.readDirectory();
  const where = server.description;
  const group = action === 'create' ? findGroup(groups, opts.group!.trim(), where) : null;

  const service = await openRooms(io, opts, server);
  try {
    if (opts.announcement && !service.announcements)
      throw new CliError(
        `${service.description} cannot make announcement rooms (only owners post): that is a setting of deploy/prosody's mod_muc_clinic_policy, which ejabberd does not have. Nothing was changed.`,
      );
    if (action === 'create')
      return await create(
        io,
        service,
        roomJid(room!, service),
        group!,
        { name, announcement: opts.announcement === true },
        owners ?? [],
      );
    if (action === 'list') return await list(io, service, groups);
    return await sync(io, service, groups, room === null ? null : roomJid(room, service), owners, where);
  } finally {
    await service.close();
  }
}

const joinHint = (service: RoomService): string =>
  service.tellsMembers
    ? 'Members’ workstations that are signed in join it now; the others at their next sign-in.'
    : 'Members’ workstations join it at their next sign-in.';

async function create(
  io: CliIo,
  service: RoomService,
  jid: string,
  group: DirectoryGroup,
  { name, announcement }: { name: string; announcement: boolean },
  owners: string[],
): Promise<void> {
  const existing = await service.room(jid);
  const exists = () => {
    const linked = existing && groupOf(existing);
    return new CliError(
      `${jid} already exists${linked ? ` (made from the group "${linked}")` : ''}: nothing was changed. Use rooms sync to update its members, or choose another name.`,
    );
  };
  if (existing) throw exists();
  try {
    await service.create(jid, { name, description: `${GROUP_LINK}${group.name}`, announcement });
  } catch (err) {
    if (err instanceof RoomExists) throw exists();
    throw err;
  }
  const made = await service.room(jid);
  if (!made) throw new CliError(`${jid} was not there after it was created, on ${service.description}.`);
  if (made.missing.length)
    throw new CliError(
      `${jid} was created but does not keep the clinic's room policy: not ${made.missing.join(', ')}. No members were added; check the server's room settings (deploy/prosody/README.md › Care-team rooms).`,
    );
  if (announcement && !made.announcement)
    throw new CliError(
      `${jid} was created but is not an announcement room (its disco#info does not say so). No members were added; check that mod_muc_clinic_policy is loaded (deploy/prosody/README.md).`,
    );
  io.stdout(
    `Created ${jid} "${name}" on ${service.description}: members-only, non-anonymous, persistent, unlisted, archived${announcement ? '; an announcement room: only its owners post' : ''}.`,
  );
  const changes = planMembers(
    new Map(),
    group.members.map((m) => m.jid),
    owners,
  );
  for (const c of changes) {
    await service.setAffiliation(jid, c.jid, c.affiliation);
    io.stdout(describeChange(c));
  }
  const affs = await service.affiliations(jid);
  io.stdout(`${jid}: ${counts(affs)}, from the directory group "${group.name}".`);
  io.stdout(joinHint(service));
}

async function list(io: CliIo, service: RoomService, groups: DirectoryGroup[]): Promise<void> {
  const jids = await service.listRooms();
  if (jids.length === 0) {
    io.stdout(`No care-team rooms on ${service.description}.`);
    return;
  }
  io.stdout(`${jids.length} care-team room${jids.length === 1 ? '' : 's'} on ${service.description}:`);
  let pending = 0;
  for (const jid of jids) {
    const r = await service.room(jid);
    if (!r) continue;
    const affs = await service.affiliations(jid);
    const linked = groupOf(r);
    const g = linked === null ? undefined : groups.find((x) => x.name === linked);
    let state: string;
    if (linked === null) state = 'not made from a group (sync leaves it alone)';
    else if (!g) state = `group "${linked}" is no longer in the directory`;
    else {
      const changes = planMembers(
        affs,
        g.members.map((m) => m.jid),
      );
      const add = changes.filter((c) => c.affiliation !== 'none').length;
      const remove = changes.length - add;
      if (changes.length) pending++;
      state = `group "${linked}", ${changes.length === 0 ? 'in sync' : `${add} to add, ${remove} to remove`}`;
    }
    const unsafe = r.missing.length ? `; NOT ${r.missing.join(', ')}` : '';
    const kind = r.announcement ? '; announcements (only owners post)' : '';
    io.stdout(`  ${jid} "${r.name ?? ''}": ${counts(affs)}; ${state}${kind}${unsafe}`);
  }
  if (pending)
    io.stdout(
      `${pending === 1 ? '1 room differs from its group' : `${pending} rooms differ from their groups`}: clinic-admin rooms sync.`,
    );
}

async function sync(
  io: CliIo,
  service: RoomService,
  groups: DirectoryGroup[],
  only: string | null,
  owners: string[] | undefined,
  where: string,
): Promise<void> {
  const jids = only === null ? await service.listRooms() : [only];
  const problems: string[] = [];
  let synced = 0;
  let added = 0;
  let removed = 0;
  for (const jid of jids) {
    const r = await service.room(jid);
    if (!r) {
      problems.push(`${jid}: no such room on ${service.description}.`);
      continue;
    }
    const linked = groupOf(r);
    if (linked === null) {
      if (only !== null) problems.push(`${jid} was not made from a group (rooms create --group): nothing to sync.`);
      continue;
    }
    const g = groups.find((x) => x.name === linked);
    if (!g) {
      problems.push(
        `${jid}: its group "${linked}" is no longer in the directory (${where}); its members were left as they are.`,
      );
      continue;
    }
    if (r.missing.length) {
      problems.push(
        `${jid} does not keep the clinic's room policy (not ${r.missing.join(', ')}); its members were left as they are.`,
      );
      continue;
    }
    const affs = await service.affiliations(jid);
    const changes = planMembers(
      affs,
      g.members.map((m) => m.jid),
      owners,
    );
    synced++;
    if (changes.length === 0) {
      io.stdout(`${jid} (group "${g.name}"): in sync, ${counts(affs)}.`);
      continue;
    }
    io.stdout(`${jid} (group "${g.name}"):`);
    for (const c of changes) {
      await service.setAffiliation(jid, c.jid, c.affiliation);
      io.stdout(describeChange(c));
      if (c.affiliation === 'none') removed++;
      else if (c.was === 'none') added++;
    }
    io.stdout(`  now ${counts(applied(affs, changes))}.`);
  }
  io.stdout(
    `Synced ${synced} room${synced === 1 ? '' : 's'} on ${service.description}: ${added} added, ${removed} removed.` +
      (added ? ` ${joinHint(service)}` : ''),
  );
  if (problems.length) throw new CliError(problems.join('\n'));
}
