/**
 * ServerAdmin for Prosody 0.12 (deploy/prosody/): everything goes through
 * `prosodyctl --config <file>` on the server itself, with argument arrays (no shell) and passwords
 * on prosodyctl's standard input, never on its command line. Prosody 0.12's prosodyctl has no
 * `user list` and no account switch (both came later), hence:
 *  - an account exists when `passwd` with no input says it cannot read a password (rather than
 *    "That user does not exist"); nothing is changed by asking;
 *  - `adduser` refuses an existing account ("That user already exists") and is used instead of
 *    `register`, which silently replaces an existing account's password;
 *  - disabling replaces the password with a random one nobody sees (admin/README.md › disable), and
 *    ends live sessions through the admin shell when the running server has mod_admin_shell.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CliError } from '../errors';
import { readSmallText } from '../files';
import { useWriteAheadLog } from './prosody-journal';
import { deleteLease, hasLease, prosodySqliteFile } from './prosody-lease';
import { NoSuchAccount, type DirectoryGroup, type ServerAdmin, type StagedDirectory } from './server-admin';

export const DEFAULT_PROSODY_CONFIG = '/etc/prosody/prosody.cfg.lua';
const CTL_TIMEOUT_MS = 60_000;

interface CtlOutput {
  code: number | null;
  /** stdout and stderr without the dependency banner, prompts and terminal codes. */
  text: string;
}

interface CtlResult extends CtlOutput {
  /** Tries before this one that found the server's store busy (prosodyctl below). */
  lockedTries: number;
}

/** prosodyctl's words without what it prints around them (the lua-unbound banner, password prompts). */
export function cleanCtlOutput(raw: string): string {
  return (
    raw
      .replace(/\*{10,}[\s\S]*?\*{10,}/g, '')
      // eslint-disable-next-line no-control-regex -- the terminal codes prosodyctl puts around its prompts
      .replace(/\x1b\[[0-9;]*m/g, '')
      .replace(/(Enter new|Retype new) password: ?/g, '')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !/^sasl\s+warn\s+Iteration count/.test(l))
      .join('\n')
  );
}

function prosodyctlOnce(config: string, args: string[], input: string): Promise<CtlOutput> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('prosodyctl', ['--config', config, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let raw = '';
    child.stdout.on('data', (d: Buffer) => (raw += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (raw += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), CTL_TIMEOUT_MS);
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        err.code === 'ENOENT'
          ? new CliError('prosodyctl was not found: run clinic-admin on the Prosody server (as root, with sudo).')
          : new CliError(`Cannot run prosodyctl (${err.code ?? err.message}).`),
      );
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, text: cleanCtlOutput(raw) });
    });
    child.stdin.on('error', () => {}); // prosodyctl may exit before reading (e.g. "already exists")
    child.stdin.end(input);
  });
}

/**
 * prosodyctl's output when it could not use the server's SQLite store because the running server
 * held it: SQLite's "database is locked", or a transaction whose COMMIT failed (LuaDBI reports no
 * reason, so Prosody's util/sql.lua logs "Error in SQL transaction: commit failed" and the store
 * "Unable to read from database … : commit failed"). Either way that transaction changed nothing.
 */
export function storeWasBusy(text: string): boolean {
  return text.includes('database is locked') || text.includes('Error in SQL transaction: commit failed');
}
/** Waits between tries while the store is busy: about 30 s in all. */
const BUSY_WAITS_MS = [100, 200, 400, 800, 1_000, ...Array<number>(27).fill(1_000)];

/**
 * prosodyctl, tried again while the server's SQLite store is busy. prosodyctl opens the same file
 * as the running server, without a busy timeout: when the server is writing (a message being
 * archived), prosodyctl's read or commit fails at once (storeWasBusy), and then it says "That user
 * does not exist" about an account that does. Trying again is safe for `passwd` and `register`:
 * the same password is set again. `adduser` and `deluser` may have done their work on a try that
 * then failed on another statement, so the next try finds the account there or gone; `lockedTries`
 * lets the caller tell (seen with `adduser`). Seen on a server archiving messages without a pause:
 * 29 of 30 `deluser` runs in a row failed so (test/integration/admin-prosody-busy.test.ts). A CI run
 * of that test then saw an existing account reported missing with no "database is locked" in the
 * output; the "commit failed" form is the one util/sql.lua prints then.
 */
export async function prosodyctl(config: string, args: string[], input = ''): Promise<CtlResult> {
  for (let lockedTries = 0; ; lockedTries++) {
    const r = await prosodyctlOnce(config, args, input);
    if (!storeWasBusy(r.text)) return { ...r, lockedTries };
    const wait = BUSY_WAITS_MS[lockedTries];
    if (wait === undefined)
      throw new CliError(
        `prosodyctl ${args[0] ?? ''} could not finish: Prosody's database stayed locked for about 30 s (the running server kept writing to it). Run the same command again.`,
      );
    await new Promise((r) => setTimeout(r, wait));
  }
}

const failed = (what: string, r: CtlResult) =>
  new CliError(`prosodyctl could not ${what}: ${r.text.replace(/\n/g, '; ') || `exit code ${r.code}`}`);

/** The settings clinic-admin needs from a Prosody configuration file (Lua, read as text). */
export function readProsodyConfig(file: string): { domains: string[]; groupsFile: string | null } {
  const text = readSmallText(file, 'a Prosody configuration', 1024 * 1024);
  const domains = [...text.matchAll(/^\s*VirtualHost\s+["']([^"']+)["']/gm)].map((m) => m[1]!.toLowerCase());
  const groups = /^\s*groups_file\s*=\s*["']([^"']+)["']/m.exec(text)?.[1];
  // Prosody resolves a relative groups_file against the configuration file's folder.
  return { domains, groupsFile: groups === undefined ? null : resolve(dirname(file), groups) };
}

/** mod_groups' file: `[+Name]` for a public group, `[Name]` for a team, then `jid=display name`. */
export function renderGroupsFile(groups: DirectoryGroup[]): string {
  return groups
    .map((g) => [`[${g.public ? '+' : ''}${g.name}]`, ...g.members.map((m) => `${m.jid}=${m.name}`), ''].join('\n'))
    .map((block) => `${block}\n`)
    .join('');
}

/**
 * mod_groups' file read back as Prosody reads it (mod_groups.lua): a `[Name]` line starts a group,
 * `[+Name]` a public one; any other line is `jid=display name` (or just a JID) of the current group.
 * Members before any group header belong to no group here (Prosody's "default" group).
 */
export function parseGroupsFile(text: string): DirectoryGroup[] {
  const groups = new Map<string, DirectoryGroup>();
  let current: DirectoryGroup | null = null;
  for (const line of text.split(/\r?\n/)) {
    const header = /^\s*\[(.*)\]\s*$/.exec(line);
    if (header) {
      const pub = header[1]!.startsWith('+');
      const name = header[1]!.replace(/^\+/, '');
      current = groups.get(name) ?? { name, public: pub, members: [] };
      current.public ||= pub;
      groups.set(name, current);
      continue;
    }
    const eq = line.indexOf('=');
    const jid = (eq < 0 ? line : line.slice(0, eq)).trim().split(/\s+/)[0]!.toLowerCase();
    if (!current || jid === '' || current.members.some((m) => m.jid === jid)) continue;
    current.members.push({ jid, name: eq < 0 ? jid : line.slice(eq + 1).trim() || jid });
  }
  return [...groups.values()];
}

/** Debian's Prosody runs as group prosody: a groups file it cannot read is an empty directory. */
async function prosodyGid(): Promise<number | null> {
  try {
    const { stdout } = await promisify(execFile)('getent', ['group', 'prosody']);
    const gid = Number(stdout.split(':')[2]);
    return Number.isInteger(gid) ? gid : null;
  } catch {
    return null;
  }
}

export function prosodyAdmin(config: string): ServerAdmin {
  const { domains, groupsFile } = readProsodyConfig(config);
  if (domains.length === 0) throw new CliError(`${config} has no VirtualHost: is it a Prosody configuration?`);
  const ctl = (args: string[], input = '') => prosodyctl(config, args, input);
  const userExists = async (jid: string): Promise<boolean> => {
    const r = await ctl(['passwd', jid]); // no input: it cannot change anything
    if (r.text.includes('That user does not exist')) return false;
    if (r.text.includes('No password - cancelled')) return true;
    throw failed(`look up ${jid}`, r);
  };
  return {
    description: `Prosody (${config})`,
    domains,
    userExists,
    async createUser(jid, password) {
      // Looked up first: under a busy store, adduser's own check can fail and it then writes anyway.
      if (await userExists(jid)) return 'exists';
      const input = `${password}\n${password}\n`;
      const r = await ctl(['adduser', jid], input);
      if (r.code === 0) return 'created';
      if (!r.text.includes('That user already exists')) throw failed(`create ${jid}`, r);
      if (!r.lockedTries) return 'exists';
      // It did not exist a moment ago: a try that met the busy store created it before failing.
      // Set the password, so that the one clinic-admin writes to the passwords file is the account's.
      const set = await ctl(['passwd', jid], input);
      if (set.code !== 0) throw failed(`set the first password of ${jid}`, set);
      return 'created';
    },
    async disableUser(jid) {
      const secret = randomBytes(32).toString('base64url');
      const r = await ctl(['passwd', jid], `${secret}\n${secret}\n`);
      if (r.text.includes('That user does not exist')) throw new NoSuchAccount(jid);
      if (r.code !== 0) throw failed(`change the password of ${jid}`, r);
      // The admin shell only answers on a running server that loads mod_admin_shell.
      const shell = await ctl(['shell', 'c2s', 'close', jid]);
      const closed = /Total: (\d+) sessions? closed/.exec(shell.text)?.[1];
      return {
        done: `its password was replaced with a random one that nobody was shown (Prosody 0.12 has no account switch); every new sign-in is refused. Its archive, contacts and keys on the server are kept.`,
        sessions:
          closed !== undefined
            ? `${closed} signed-in session(s) ended through the admin shell.`
            : 'not ended: the running server has no admin shell (mod_admin_shell), or is not running. A session signed in now stays until it disconnects; "sudo systemctl restart prosody" ends it.',
        undo: `sudo prosodyctl --config ${config} passwd ${jid}, then hand over the new password.`,
      };
    },
    // The offline lease lives in mod_private's rows of the SQLite store (prosody-lease.ts).
    hasLease: (jid) => Promise.resolve().then(() => hasLease(prosodySqliteFile(config), jid)),
    revokeLease: (jid) => Promise.resolve().then(() => deleteLease(prosodySqliteFile(config), jid)),
    async stageDirectory(groups): Promise<StagedDirectory> {
      if (groupsFile === null)
        throw new CliError(`${config} has no groups_file: the directory has nowhere to go (deploy/prosody/README.md).`);
      const gid = await prosodyGid();
      const staged = `${groupsFile}.clinic-admin-${randomBytes(6).toString('hex')}`;
      try {
        writeFileSync(staged, renderGroupsFile(groups), { flag: 'wx', mode: gid === null ? 0o644 : 0o640 });
        chmodSync(staged, gid === null ? 0o644 : 0o640); // whatever the umask took away
        if (gid !== null) chownSync(staged, -1, gid);
      } catch (err) {
        rmSync(staged, { force: true });
        throw new CliError(
          `Cannot write the groups file next to ${groupsFile} (${(err as NodeJS.ErrnoException).code ?? 'error'}).`,
        );
      }
      return {
        written: 'groups file written',
        where: groupsFile,
        applyHint:
          'Restart Prosody to apply it (sudo systemctl restart prosody): mod_groups reads the file only when it starts.',
        commit: () => renameSync(staged, groupsFile),
        discard: () => rmSync(staged, { force: true }),
      };
    },
    // Its SQLite file in WAL mode: an archived message costs one sync per commit, not three.
    prepareStore: () =>
      Promise.resolve().then(() => {
        const file = prosodySqliteFile(config);
        return useWriteAheadLog(file) === 'switched'
          ? `Prosody's store ${file} now uses SQLite's write-ahead log (kept in the file; the server follows it at once).`
          : `Prosody's store ${file} uses SQLite's write-ahead log.`;
      }),
    // The file as provision last wrote it; Prosody serves it from its next restart.
    readDirectory: () =>
      Promise.resolve().then(() => {
        if (groupsFile === null)
          throw new CliError(`${config} has no groups_file: there is no directory to read (deploy/prosody/README.md).`);
        return parseGroupsFile(readSmallText(groupsFile, 'a groups file', 16 * 1024 * 1024));
      }),
  };
}
