/**
 * users.csv for `clinic-admin provision`: one person a line, `jid,display name,role,team`
 * (deploy/prosody/README.md). Role is one of ROLE_GROUPS' keys or empty, team optional. Blank lines
 * and lines starting with # are skipped. The whole file is checked before anything is changed;
 * every bad line is named. No quoting: a display name cannot contain a comma.
 */
import type { Role } from '../common/contract/domain';
import { BARE_JID_RE } from '../main/crypto/admin-command';
import { usageError } from './errors';
import { isRole, NO_ROLE_GROUP, ROLE_GROUPS, ROLES } from './roles';
import type { DirectoryGroup } from './server/server-admin';

export interface Person {
  line: number;
  jid: string;
  name: string;
  role: Role | null;
  team: string | null;
}

const MAX_ERRORS_SHOWN = 20;
/** The groups file's syntax: `[group]` headers and `jid=name` lines; `+` before a group makes it public. */
const NAME_BAD = /[=[\]\p{Cc}]/u;
const RESERVED_TEAMS = new Set([...Object.values(ROLE_GROUPS), NO_ROLE_GROUP].map((g) => g.toLowerCase()));

function checkLine(fields: string[], domains: readonly string[]): Omit<Person, 'line'> | string {
  if (fields.length < 3 || fields.length > 4)
    return `expected jid,display name,role,team (3 or 4 fields), found ${fields.length}${fields.length > 4 ? ' (a comma in a name?)' : ''}`;
  const [rawJid, rawName, rawRole, rawTeam = ''] = fields.map((f) => f.trim()) as [string, string, string, string?];
  const jid = rawJid.toLowerCase();
  // Beyond a bare JID: nodeprep refuses `:` and control characters, and `=` `[` `]` would break the
  // groups file's lines. What else nodeprep refuses (private-use characters …) prosodyctl reports.
  if (!BARE_JID_RE.test(jid) || /[:=[\]\p{Cc}]/u.test(jid) || jid.length > 320)
    return `"${rawJid}" is not an account address (name@domain, e.g. alice@clinic.example)`;
  const domain = jid.split('@')[1]!;
  if (!domains.includes(domain)) return `${jid}: the server does not serve ${domain} (it serves ${domains.join(', ')})`;
  if (rawName === '' || rawName.length > 100) return `${jid}: the display name must be 1 to 100 characters`;
  if (NAME_BAD.test(rawName)) return `${jid}: the display name must not contain = [ ] or control characters`;
  const role = rawRole.toLowerCase();
  if (role !== '' && !isRole(role)) return `${jid}: unknown role "${rawRole}" (one of ${ROLES.join(', ')}, or empty)`;
  if (rawTeam.length > 100 || NAME_BAD.test(rawTeam) || rawTeam.startsWith('+'))
    return `${jid}: the team must be at most 100 characters, without = [ ], control characters or a leading +`;
  if (RESERVED_TEAMS.has(rawTeam.toLowerCase())) return `${jid}: the team "${rawTeam}" has the name of a role group`;
  return { jid, name: rawName, role: role === '' ? null : role, team: rawTeam === '' ? null : rawTeam };
}

/** Every person in the file, or a usage error (exit 2) naming each bad line of `file`. */
export function parseUsersCsv(text: string, file: string, domains: readonly string[]): Person[] {
  const people: Person[] = [];
  const errors: string[] = [];
  const seen = new Map<string, number>();
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const line = i + 1;
      if (raw.trim() === '' || raw.trimStart().startsWith('#')) return;
      const checked = checkLine(raw.split(','), domains);
      if (typeof checked === 'string') return void errors.push(`${file} line ${line}: ${checked}`);
      const first = seen.get(checked.jid);
      if (first !== undefined)
        return void errors.push(`${file} line ${line}: ${checked.jid} is already on line ${first}`);
      seen.set(checked.jid, line);
      people.push({ line, ...checked });
    });
  if (errors.length > 0) {
    const more = errors.length > MAX_ERRORS_SHOWN ? [`… and ${errors.length - MAX_ERRORS_SHOWN} more`] : [];
    throw usageError([...errors.slice(0, MAX_ERRORS_SHOWN), ...more, 'Nothing was changed.'].join('\n'));
  }
  if (people.length === 0) throw usageError(`${file} lists nobody; nothing was changed.`);
  return people;
}

/** The directory: one public group per role in use (sorted), then the teams (sorted); members in file order. */
export function directoryGroups(people: Person[]): DirectoryGroup[] {
  const groups = new Map<string, DirectoryGroup>();
  const add = (name: string, pub: boolean, p: Person) => {
    const key = `${pub ? '+' : ''}${name}`;
    const g = groups.get(key) ?? { name, public: pub, members: [] };
    g.members.push({ jid: p.jid, name: p.name });
    groups.set(key, g);
  };
  for (const p of people) add(p.role === null ? NO_ROLE_GROUP : ROLE_GROUPS[p.role], true, p);
  for (const p of people) if (p.team !== null) add(p.team, false, p);
  const byName = (a: DirectoryGroup, b: DirectoryGroup) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const all = [...groups.values()];
  return [...all.filter((g) => g.public).sort(byName), ...all.filter((g) => !g.public).sort(byName)];
}
