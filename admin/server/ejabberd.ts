/**
 * ServerAdmin for ejabberd 23.01 (deploy/ejabberd/): every call goes to ejabberd's HTTP API
 * (mod_http_api, the commands of ejabberd_admin and mod_admin_extra) at the URL IT names with
 * `--ejabberd-api`, on a listener the production configuration keeps on loopback for clinic-admin
 * (deploy/ejabberd/README.md › clinic-admin). Chosen over `ejabberdctl` because ejabberdctl takes a
 * new account's password on its command line (other users of the machine see it in `ps`) and
 * starts an Erlang VM for every call (about 2 s each, several per person); over HTTP a password
 * travels in the request body and a call takes milliseconds.
 *  - an account exists when `check_account` answers 0; `register` refuses an existing one (409);
 *  - disabling sets a random password nobody sees (change_password, as `ban_account` does), THEN
 *    ends the live sessions (kick_user), so a kicked client cannot sign in again in between;
 *  - the offline lease is the account's private XML (XEP-0049): private_get / private_set;
 *    ejabberd has no command that deletes it, so revoking stores the empty element, which the
 *    app reads as "no lease" (main/xmpp/lease-storage.ts) exactly like a missing one;
 *  - the directory is shared-roster groups (mod_shared_roster) on every served domain, shaped as
 *    test/support/ejabberd.ts needs them: one group per role that nobody displays, one hidden group
 *    `clinic-everyone` whose members are @all@ and which displays every role group, so everyone
 *    sees each colleague under their role's group; a team group displays itself. A colleague's
 *    name in rosters is their vCard FN (NICKNAME when they set one), which provisioning sets.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { randomBytes } from 'node:crypto';
import { CliError } from '../errors';
import { NO_ROLE_GROUP, ROLE_GROUPS } from '../roles';
import { NoSuchAccount, type DirectoryGroup, type ServerAdmin, type StagedDirectory } from './server-admin';

/** The hidden group every account is in (@all@); it displays the role groups to everyone. */
export const EVERYONE_GROUP = 'clinic-everyone';
/** The role groups, in the order clinic-everyone displays them. */
export const ROLE_GROUP_NAMES: readonly string[] = [...Object.values(ROLE_GROUPS), NO_ROLE_GROUP];
const LEASE_NS = 'urn:clinic-messenger:lease:0';
const API_TIMEOUT_MS = 30_000;

type Args = Record<string, unknown>;
export type EjabberdCall = (command: string, args: Args) => Promise<unknown>;

const reachHelp = 'is ejabberd running, with the listener for clinic-admin (deploy/ejabberd/README.md › clinic-admin)?';

/** The URL as given, checked: http(s)://host:port/path, no credentials in it. */
export function parseApiUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(`--ejabberd-api "${text}" is not a URL (e.g. http://127.0.0.1:5281/api).`, 2);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.password !== '')
    throw new CliError(
      `--ejabberd-api must be an http:// or https:// URL without a user name (e.g. http://127.0.0.1:5281/api).`,
      2,
    );
  return url;
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((ok, fail) => {
    let text = '';
    res.setEncoding('utf8');
    // A directory's answers are small; anything beyond 4 MB is not ejabberd's API and is cut.
    res.on('data', (c: string) => (text = text.length < 4 * 1024 * 1024 ? text + c : text));
    res.on('end', () => ok(text));
    res.on('error', fail);
  });
}

/** ejabberd's own words from an error answer ({"status":"error","code":…,"message":…} or a JSON string). */
function apiMessage(text: string): string {
  try {
    const body = JSON.parse(text) as unknown;
    if (typeof body === 'string') return body;
    if (body !== null && typeof body === 'object' && 'message' in body) return String(body.message);
  } catch {
    // not JSON: ejabberd's HTML error page or a proxy's; shown shortened below
  }
  return text.replace(/\s+/g, ' ').slice(0, 200);
}

/** The HTTP API at `url`: one POST per command, JSON in and out; throws CliError with ejabberd's answer. */
export function ejabberdApi(url: URL): EjabberdCall {
  const base = url.href.replace(/\/+$/, '');
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return (command, args) =>
    new Promise((ok, fail) => {
      const data = JSON.stringify(args);
      const req = send(
        `${base}/${command}`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
          timeout: API_TIMEOUT_MS,
        },
        (res) => {
          readBody(res).then((text) => {
            const status = res.statusCode ?? 0;
            if (status === 200) {
              try {
                return ok(JSON.parse(text) as unknown);
              } catch {
                return fail(
                  new CliError(`ejabberd's answer to ${command} at ${base} is not JSON: is this its HTTP API?`),
                );
              }
            }
            fail(new ApiRefusal(command, status, apiMessage(text), base));
          }, fail);
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
      req.on('error', (err: NodeJS.ErrnoException) =>
        fail(new CliError(`Cannot reach ejabberd's HTTP API at ${base} (${err.code ?? err.message}): ${reachHelp}`)),
      );
      req.end(data);
    });
}

/** A non-200 answer: the status and ejabberd's message (e.g. 409 "already registered"). */
export class ApiRefusal extends CliError {
  constructor(
    readonly command: string,
    readonly status: number,
    readonly apiText: string,
    base: string,
  ) {
    super(
      status === 401 || status === 403
        ? `ejabberd at ${base} refused the ${command} command (HTTP ${status}: ${apiText}): its api_permissions must let clinic-admin call it from this machine (deploy/ejabberd/README.md › clinic-admin).`
        : status === 404 && /endpoint not found/i.test(apiText)
          ? `ejabberd at ${base} has no ${command} command: is mod_admin_extra loaded (deploy/ejabberd/ejabberd.yml)?`
          : `ejabberd could not run ${command}: ${apiText} (HTTP ${status}).`,
    );
    this.name = 'ApiRefusal';
  }
}

const split = (jid: string) => {
  const at = jid.lastIndexOf('@');
  return { user: jid.slice(0, at), host: jid.slice(at + 1) };
};

/** Whether the private XML ejabberd returned holds a lease value (not the empty element). */
export function leaseInPrivateXml(xmlText: string): boolean {
  const el = /<lease\b[^>]*?(\/>|>([\s\S]*?)<\/lease>)/.exec(xmlText);
  if (!el) throw new CliError(`ejabberd's private storage answer has no lease element: ${xmlText.slice(0, 200)}`);
  return (el[2] ?? '').trim() !== '';
}

async function listOf(call: EjabberdCall, command: string, args: Args): Promise<string[]> {
  const r = await call(command, args);
  if (!Array.isArray(r) || r.some((x) => typeof x !== 'string'))
    throw new CliError(`ejabberd's answer to ${command} is not a list: ${JSON.stringify(r).slice(0, 200)}`);
  return r as string[];
}

/** The directory on one served domain: groups made or updated, members set, old groups removed. */
async function applyDirectory(call: EjabberdCall, host: string, groups: DirectoryGroup[]): Promise<void> {
  const existing = new Set(await listOf(call, 'srg_list', { host }));
  const wanted = new Map<string, DirectoryGroup>(
    ROLE_GROUP_NAMES.map((n) => [n, { name: n, public: true, members: [] }]),
  );
  for (const g of groups) wanted.set(g.name, g);
  for (const g of wanted.values()) {
    // srg_create replaces an existing group's options and keeps its members.
    const display = g.public ? '' : g.name;
    await call('srg_create', { group: g.name, host, label: g.name, description: g.name, display });
    const current = new Set(existing.has(g.name) ? await listOf(call, 'srg_get_members', { group: g.name, host }) : []);
    const desired = new Set(g.members.map((m) => m.jid));
    for (const jid of current)
      if (!desired.has(jid)) await call('srg_user_del', { ...split(jid), group: g.name, grouphost: host });
    for (const jid of desired)
      if (!current.has(jid)) await call('srg_user_add', { ...split(jid), group: g.name, grouphost: host });
  }
  await everyone(call, host);
  for (const name of existing)
    if (!wanted.has(name) && name !== EVERYONE_GROUP) await call('srg_delete', { group: name, host });
}

/** clinic-everyone: @all@, displaying the role groups; re-created only when it differs (srg_create drops @all@). */
async function everyone(call: EjabberdCall, host: string): Promise<void> {
  const info = await call('srg_get_info', { group: EVERYONE_GROUP, host });
  const opts = new Map(
    (Array.isArray(info) ? (info as { key?: unknown; value?: unknown }[]) : []).map((o) => [o.key, o.value]),
  );
  if (opts.get('displayed_groups') === ROLE_GROUP_NAMES.join('\n') && opts.get('all_users') === 'true') return;
  await call('srg_create', {
    group: EVERYONE_GROUP,
    host,
    label: EVERYONE_GROUP,
    description: 'every account sees the role groups (clinic-admin)',
    display: ROLE_GROUP_NAMES.join('\\n'),
  });
  await call('srg_user_add', { user: '@all@', host, group: EVERYONE_GROUP, grouphost: host });
}

/** Each person's vCard FN: the name colleagues see in their rosters (and the app's own name at first sign-in). */
async function setNames(call: EjabberdCall, groups: DirectoryGroup[]): Promise<void> {
  const names = new Map<string, string>();
  for (const g of groups) for (const m of g.members) names.set(m.jid, m.name);
  for (const [jid, name] of names) await call('set_vcard', { ...split(jid), name: 'FN', content: name });
}

/** The whole directory on every served domain; used by provision's commit and by the test launcher. */
export async function writeDirectory(call: EjabberdCall, hosts: readonly string[], groups: DirectoryGroup[]) {
  await setNames(call, groups);
  for (const host of hosts) await applyDirectory(call, host, groups);
}

/** The adapter for the ejabberd whose HTTP API is at `apiUrl`; asks it which domains it serves. */
export async function ejabberdAdmin(apiUrl: string): Promise<ServerAdmin> {
  const url = parseApiUrl(apiUrl);
  const call = ejabberdApi(url);
  const base = url.href.replace(/\/+$/, '');
  const description = `ejabberd (${base})`;
  let domains: string[];
  try {
    domains = (await listOf(call, 'registered_vhosts', {})).map((d) => d.toLowerCase());
  } catch (err) {
    throw new CliError(`${(err as Error).message} Nothing was changed.`);
  }
  if (domains.length === 0) throw new CliError(`${description} serves no domain. Nothing was changed.`);
  const exists = async (jid: string) => {
    const r = await call('check_account', split(jid));
    if (r === 0 || r === 1) return r === 0;
    throw new CliError(`ejabberd's answer to check_account ${jid} is not 0 or 1: ${JSON.stringify(r)}`);
  };
  const hasLease = async (jid: string) => {
    const r = await call('private_get', { ...split(jid), element: 'lease', ns: LEASE_NS });
    const xmlText = r !== null && typeof r === 'object' && 'res' in r ? String(r.res) : String(r);
    return leaseInPrivateXml(xmlText);
  };
  return {
    description,
    domains,
    userExists: exists,
    async createUser(jid, password) {
      try {
        await call('register', { ...split(jid), password });
        return 'created';
      } catch (err) {
        if (err instanceof ApiRefusal && err.status === 409) return 'exists';
        if (err instanceof ApiRefusal) throw new CliError(`ejabberd could not create ${jid}: ${err.apiText}`);
        throw err;
      }
    },
    async disableUser(jid) {
      if (!(await exists(jid))) throw new NoSuchAccount(jid);
      const secret = randomBytes(32).toString('base64url');
      await call('change_password', { ...split(jid), newpass: secret });
      // The password is already changed: a refused kick_user still leaves the account disabled.
      const kicked = await call('kick_user', split(jid)).catch((err: unknown) =>
        err instanceof CliError ? err : Promise.reject(err),
      );
      const n =
        kicked !== null && typeof kicked === 'object' && 'num_resources' in kicked ? kicked.num_resources : null;
      return {
        done: `its password was replaced with a random one that nobody was shown (what ejabberdctl ban_account does); every new sign-in is refused. Its archive, contacts and keys on the server are kept.`,
        sessions:
          typeof n === 'number'
            ? `${n} signed-in session(s) ended (kick_user).`
            : kicked instanceof CliError
              ? `not ended: ${kicked.message} A session signed in now stays until it disconnects; "sudo systemctl restart ejabberd" ends it.`
              : `ejabberd did not say how many were ended (kick_user answered ${JSON.stringify(kicked)}).`,
        undo: `sudo ejabberdctl change_password ${split(jid).user} ${split(jid).host} '<new password>' on the server (the password shows in its process list while it runs), then hand it over.`,
      };
    },
    hasLease,
    async revokeLease(jid) {
      if (!(await hasLease(jid))) return false;
      await call('private_set', { ...split(jid), element: `<lease xmlns='${LEASE_NS}'/>` });
      if (await hasLease(jid)) throw new CliError(`ejabberd still returns the lease of ${jid} after private_set.`);
      return true;
    },
    async stageDirectory(groups): Promise<StagedDirectory> {
      if (groups.some((g) => g.name === EVERYONE_GROUP))
        throw new CliError(
          `A team cannot be named ${EVERYONE_GROUP} on ejabberd (the hidden group every account is in). Nothing was changed.`,
          2,
        );
      for (const host of domains) await listOf(call, 'srg_list', { host }); // mod_shared_roster answers
      return {
        written: 'directory written',
        where: `shared-roster groups of ${domains.join(', ')} on ${description}`,
        applyHint:
          'ejabberd applies it at once (no restart); a colleague signed in now sees every change at their next sign-in at the latest.',
        commit: async () => {
          try {
            await writeDirectory(call, domains, groups);
          } catch (err) {
            throw new CliError(
              `${(err as Error).message} The accounts exist; the directory may be partly updated: run provision again with the same file to finish it.`,
            );
          }
        },
        discard: () => undefined,
      };
    },
    async readDirectory() {
      const groups = new Map<string, DirectoryGroup>();
      for (const host of domains)
        for (const name of await listOf(call, 'srg_list', { host })) {
          if (name === EVERYONE_GROUP) continue;
          const g = groups.get(name) ?? { name, public: ROLE_GROUP_NAMES.includes(name), members: [] };
          groups.set(name, g);
          for (const jid of await listOf(call, 'srg_get_members', { group: name, host }))
            if (!jid.startsWith('@') && !g.members.some((m) => m.jid === jid.toLowerCase()))
              g.members.push({ jid: jid.toLowerCase(), name: jid.toLowerCase() });
        }
      return [...groups.values()];
    },
  };
}
