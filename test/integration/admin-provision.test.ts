/**
 * clinic-admin provision and disable as IT runs them on the Prosody server (issue 15): the real CLI
 * in a child process driving the real Prosody the test starts, through `prosodyctl --config`.
 * Accounts are checked by signing in over the app's own transport, the directory by reading a
 * roster after Prosody restarted (mod_groups reads the groups file when it starts).
 * The passwords the CLI writes are read from its file and never printed.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { xml } from '@xmpp/client';
import Database from 'better-sqlite3-multiple-ciphers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { rawConnection, waitFor } from '../support/xmpp-support';

const run = promisify(execFile);
const BIN = 'admin/bin/clinic-admin.mjs';
/** Each case starts CLI processes (Node + tsx + prosodyctl): a hang guard, not a speed limit. */
const SPAWNS = 240_000;
const ALICE = 'alice@clinic.test';
const ALICE_PW = 'alice-own-password-1';
const BOB = 'bob@clinic.test';
const CAROL = 'carol@clinic.test';

let server: ProsodyServer;
let dir: string;
const path = (name: string) => join(dir, name);

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const provision = (csv: string, ...more: string[]) =>
  cli(['provision', csv, '--prosody-config', server.configFile, ...more]);
const disable = (jid: string) => cli(['disable', jid, '--prosody-config', server.configFile]);

/** The passwords file as jid → password. */
function passwords(file: string): Map<string, string> {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  return new Map(lines.map((l) => l.split(' ') as [string, string]));
}

/** Signs in as the app does (STARTTLS, the test CA, SCRAM); resolves when the session is up. */
async function signIn(jid: string, password: string): Promise<void> {
  const c = rawConnection(server, jid, password, 'admin-provision');
  await c.start();
  await c.stop();
}

/** Asks prosodyctl itself, independently of the CLI's adapter. */
function accountExists(jid: string): boolean {
  const r = spawnSync('prosodyctl', ['--config', server.configFile, 'passwd', jid], { input: '', encoding: 'utf8' });
  const out = `${r.stdout}${r.stderr}`;
  if (out.includes('That user does not exist')) return false;
  if (out.includes('No password - cancelled')) return true;
  throw new Error(`prosodyctl passwd ${jid} said: ${out.slice(-300)}`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clinic-provision-'));
  // Alice's account exists before the first provisioning, with a password she already uses.
  server = await startProsody({ users: [{ jid: ALICE, password: ALICE_PW, name: 'Alice' }] });
}, 120_000);
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const CSV = [
  '# the clinic, as IT keeps it',
  `${ALICE},Dr Alice Moreau,physician,Ward 1`,
  `${BOB},Bob Tran,reception,`,
  '',
  `${CAROL},Carol Diaz,,Ward 1`,
].join('\n');
const GROUPS =
  `[+Clinic]\n${CAROL}=Carol Diaz\n\n[+Physicians]\n${ALICE}=Dr Alice Moreau\n\n[+Reception]\n${BOB}=Bob Tran\n\n` +
  `[Ward 1]\n${ALICE}=Dr Alice Moreau\n${CAROL}=Carol Diaz\n\n`;
const groupsFile = () => join(server.dir, 'groups.txt');
const storeFile = () => join(server.dataDir, 'prosody.sqlite');
/** The store's journal mode, read (or set, with the server halted) apart from the CLI. */
function journalMode(set?: 'delete'): string {
  const db = new Database(storeFile(), { fileMustExist: true });
  try {
    return String(db.pragma(set ? `journal_mode = ${set}` : 'journal_mode', { simple: true })).toLowerCase();
  } finally {
    db.close();
  }
}
/** users.csv with one more person, Dave. */
function withDave(): string {
  writeFileSync(path('with-dave.csv'), `${CSV}\ndave@clinic.test,Dave Li,nurse,\n`);
  return path('with-dave.csv');
}

describe('clinic-admin provision', () => {
  it(
    'creates the missing accounts with first passwords in a 0600 file, leaves an existing one alone, writes the directory',
    async () => {
      writeFileSync(path('users.csv'), CSV);
      const r = await provision(path('users.csv'), '--passwords-out', path('first.txt'));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`exists ${ALICE}\ncreated ${BOB}\ncreated ${CAROL}\n`);
      expect(r.stdout).toContain(`groups file written: 4 groups (${groupsFile()}).`);
      expect(r.stdout).toContain('2 created, 1 existed.');
      // The test server was set up as provision leaves it (test/support/prosody.ts).
      expect(r.stdout).toContain(`Prosody's store ${storeFile()} uses SQLite's write-ahead log.`);

      expect(statSync(path('first.txt')).mode & 0o777).toBe(0o600);
      const pw = passwords(path('first.txt'));
      expect([...pw.keys()]).toEqual([BOB, CAROL]);
      for (const p of pw.values()) {
        expect(p).toMatch(/^[A-Za-z0-9_-]{24}$/);
        expect(`${r.stdout}${r.stderr}`).not.toContain(p);
      }
      await signIn(BOB, pw.get(BOB)!);
      await signIn(CAROL, pw.get(CAROL)!);
      // Left alone: the password Alice had still works (`prosodyctl register` would have replaced it).
      await signIn(ALICE, ALICE_PW);

      expect(readFileSync(groupsFile(), 'utf8')).toBe(GROUPS);
      // The directory Prosody serves from it once restarted: Bob sees everyone with their role group.
      await server.restart();
      const bob = rawConnection(server, BOB, pw.get(BOB)!, 'roster');
      await bob.start();
      const res = await bob.iq(xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })));
      await bob.stop();
      const items = (res.getChild('query')?.getChildren('item') ?? []).map((i) => ({
        jid: i.attrs.jid as string,
        name: i.attrs.name as string,
        groups: i.getChildren('group').map((g) => g.text()),
      }));
      expect(items.sort((a, b) => a.jid.localeCompare(b.jid))).toEqual([
        { jid: ALICE, name: 'Dr Alice Moreau', groups: ['Physicians'] },
        { jid: CAROL, name: 'Carol Diaz', groups: ['Clinic'] },
      ]);
    },
    SPAWNS,
  );

  it(
    'run again, creates nothing, reports each account as existing and writes no passwords file',
    async () => {
      const before = passwords(path('first.txt'));
      const r = await provision(path('users.csv'), '--passwords-out', path('second.txt'));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`exists ${ALICE}\nexists ${BOB}\nexists ${CAROL}\n`);
      expect(r.stdout).toContain('Nothing created: all 3 accounts existed. No passwords file was written.');
      expect(existsSync(path('second.txt'))).toBe(false);
      expect(readFileSync(groupsFile(), 'utf8')).toBe(GROUPS);
      await signIn(BOB, before.get(BOB)!);

      // A new person with the earlier passwords file still there: refused before anything changes.
      writeFileSync(path('more.csv'), `${CSV}\ndave@clinic.test,Dave Li,nurse,\n`);
      const again = await provision(path('more.csv'), '--passwords-out', path('first.txt'));
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(`${path('first.txt')} already exists`);
      expect(again.stderr).toContain('Nothing was changed.');
      expect(accountExists('dave@clinic.test')).toBe(false);
      expect(passwords(path('first.txt'))).toEqual(before);
      expect(readFileSync(groupsFile(), 'utf8')).toBe(GROUPS);
    },
    SPAWNS,
  );

  it(
    'refuses a bad file as a whole: exit 2, every bad line named, no account and no directory change',
    async () => {
      const bad = [
        'dave@clinic.test,Dave Li,nurse,', // fine on its own: must not be created either
        'not an address,Someone,nurse,',
        'erin@clinic.test,Erin [night],nurse,',
        'fay@clinic.test,Fay=Ward,staff,',
        'gus@clinic.test,Gus,surgeon,',
        'dave@clinic.test,Dave again,nurse,',
        'hal@elsewhere.test,Hal,,',
      ].join('\n');
      writeFileSync(path('bad.csv'), bad);
      const r = await provision(path('bad.csv'), '--passwords-out', path('bad-pw.txt'));
      expect(r.code).toBe(2);
      const f = path('bad.csv');
      expect(r.stderr).toContain(`${f} line 2: "not an address" is not an account address`);
      expect(r.stderr).toContain(`${f} line 3: erin@clinic.test: the display name must not contain = [ ]`);
      expect(r.stderr).toContain(`${f} line 4: fay@clinic.test: the display name must not contain = [ ]`);
      expect(r.stderr).toContain(`${f} line 5: gus@clinic.test: unknown role "surgeon"`);
      expect(r.stderr).toContain(`${f} line 6: dave@clinic.test is already on line 1`);
      expect(r.stderr).toContain(`${f} line 7: hal@elsewhere.test: the server does not serve elsewhere.test`);
      expect(r.stderr).toContain('Nothing was changed.');
      expect(r.stderr).not.toContain('line 1:');
      expect(r.stdout).toBe('');
      for (const jid of ['dave@clinic.test', 'erin@clinic.test', 'fay@clinic.test', 'gus@clinic.test'])
        expect(accountExists(jid), jid).toBe(false);
      expect(existsSync(path('bad-pw.txt'))).toBe(false);
      expect(readFileSync(groupsFile(), 'utf8')).toBe(GROUPS);
    },
    SPAWNS,
  );

  it(
    'exits 1 on what the server side refuses, before changing anything',
    async () => {
      // An address Prosody's nodeprep refuses (a private-use character) though it looks like one.
      writeFileSync(path('odd.csv'), `${CSV}\ndave@clinic.test,Dave Li,nurse,\ne\uE000@clinic.test,E,nurse,\n`);
      const odd = await provision(path('odd.csv'), '--passwords-out', path('odd-pw.txt'));
      expect(odd.code).toBe(1);
      expect(odd.stderr).toContain('prosodyctl could not look up e\uE000@clinic.test');
      expect(accountExists('dave@clinic.test')).toBe(false);
      expect(existsSync(path('odd-pw.txt'))).toBe(false);

      // A configuration without groups_file: the directory has nowhere to go, so no account is made.
      const noGroups = path('no-groups.cfg.lua');
      writeFileSync(noGroups, readFileSync(server.configFile, 'utf8').replace(/^groups_file = .*$/m, ''));
      writeFileSync(path('dave.csv'), `${CSV}\ndave@clinic.test,Dave Li,nurse,\n`);
      const r = await cli([
        'provision',
        path('dave.csv'),
        '--prosody-config',
        noGroups,
        '--passwords-out',
        path('dave-pw.txt'),
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${noGroups} has no groups_file`);
      expect(accountExists('dave@clinic.test')).toBe(false);
      expect(existsSync(path('dave-pw.txt'))).toBe(false);

      const missing = await provision(path('users.csv').replace('users', 'nobody'));
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('(no such file)');
      expect(readFileSync(groupsFile(), 'utf8')).toBe(GROUPS);
      expect(readdirSync(server.dir).filter((f) => f.includes('.clinic-admin-'))).toEqual([]);
    },
    SPAWNS,
  );

  it(
    "puts Prosody's SQLite store in WAL mode while the server runs, and the server goes on with it; other storage is a warning",
    async () => {
      // The store as Prosody 0.12 leaves it: SQLite's default rollback journal.
      await server.halt();
      journalMode('delete');
      await server.restart();
      expect(journalMode()).toBe('delete');

      const r = await provision(path('users.csv'), '--passwords-out', path('wal-pw.txt'));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`Prosody's store ${storeFile()} now uses SQLite's write-ahead log`);
      expect(journalMode()).toBe('wal');
      // The running server writes through it: a new account, a sign-in, and after a restart too.
      expect(
        (
          await cli([
            'provision',
            withDave(),
            '--prosody-config',
            server.configFile,
            '--passwords-out',
            path('dave-wal.txt'),
          ])
        ).code,
      ).toBe(0);
      await signIn('dave@clinic.test', passwords(path('dave-wal.txt')).get('dave@clinic.test')!);
      await server.restart();
      await signIn('dave@clinic.test', passwords(path('dave-wal.txt')).get('dave@clinic.test')!);
      expect(journalMode()).toBe('wal');

      // Run again: said, not changed.
      const again = await provision(path('users.csv'), '--passwords-out', path('wal-pw-2.txt'));
      expect(again.stdout).toContain(`Prosody's store ${storeFile()} uses SQLite's write-ahead log.`);

      // A configuration whose storage is not SQLite: the accounts and the directory are made, the
      // store step is a warning, and the exit status stays 0.
      const internal = path('internal.cfg.lua');
      writeFileSync(
        internal,
        readFileSync(server.configFile, 'utf8').replace(/^storage = .*$/m, 'storage = "internal"'),
      );
      const other = await cli([
        'provision',
        path('users.csv'),
        '--prosody-config',
        internal,
        '--passwords-out',
        path('internal-pw.txt'),
      ]);
      expect(other.code, other.stderr).toBe(0);
      expect(other.stdout).toContain(`groups file written: 4 groups (${groupsFile()}).`);
      expect(other.stderr).toContain(
        "warning: the server's store was left as it was (the accounts and the directory are done):",
      );
      expect(other.stderr).toContain(`${internal} does not keep accounts in SQLite`);
      expect(journalMode()).toBe('wal');
    },
    SPAWNS,
  );
});

describe('clinic-admin disable', () => {
  it(
    'refuses every new sign-in of the account with AUTH_FAILED; the others still sign in',
    async () => {
      const pw = passwords(path('first.txt'));
      const r = await disable(BOB);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`Disabled ${BOB} on Prosody (${server.configFile}): its password was replaced`);
      expect(r.stdout).toContain('Signed-in sessions: not ended: the running server has no admin shell');
      await expect(rawConnection(server, BOB, pw.get(BOB)!, 'after').start()).rejects.toMatchObject({
        code: 'AUTH_FAILED',
      });
      await signIn(CAROL, pw.get(CAROL)!);
      await signIn(ALICE, ALICE_PW);
      expect(accountExists(BOB)).toBe(true); // disabled, not deleted: archive and contacts stay
    },
    SPAWNS,
  );

  it(
    'says "No such account" (exit 1) for an account the server does not have, or a domain it does not serve',
    async () => {
      for (const jid of ['nobody@clinic.test', 'alice@elsewhere.test']) {
        const r = await disable(jid);
        expect(r.code, jid).toBe(1);
        expect(r.stderr).toContain(`No such account: ${jid} on Prosody (${server.configFile})`);
        expect(r.stdout).toBe('');
        expect(accountExists(jid)).toBe(false);
      }
      const bad = await disable('not a jid');
      expect(bad.code).toBe(2);
    },
    SPAWNS,
  );

  it(
    'ends the account’s live session when the running server has the admin shell',
    async () => {
      // The production config has no mod_admin_shell; this server gets it, as a clinic may add it.
      const config = readFileSync(server.configFile, 'utf8');
      writeFileSync(server.configFile, config.replace('"posix";', '"posix"; "admin_shell";'));
      await server.restart();
      const pw = passwords(path('first.txt'));
      const carol = rawConnection(server, CAROL, pw.get(CAROL)!, 'live');
      await carol.start();
      expect(carol.isReady()).toBe(true);
      const r = await disable(CAROL);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('Signed-in sessions: 1 signed-in session(s) ended through the admin shell.');
      await waitFor('the live session ended', () => !carol.isReady());
      await carol.stop();
      await expect(rawConnection(server, CAROL, pw.get(CAROL)!, 'again').start()).rejects.toMatchObject({
        code: 'AUTH_FAILED',
      });
    },
    SPAWNS,
  );
});
