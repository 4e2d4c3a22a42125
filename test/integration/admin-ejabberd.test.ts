/**
 * clinic-admin provision, disable, lease and rooms against ejabberd (issue 19 item 1): the real CLI in a
 * child process with `--ejabberd-api`, driving a real ejabberd 23.01 started from
 * deploy/ejabberd/ejabberd.yml (its loopback API listener and clinic-admin's api_permissions as
 * deployed). One node for the whole file. Accounts are checked by signing in over the app's own
 * transport, the directory by reading a roster, the lease by the app's own lease storage
 * (main/xmpp/lease-storage.ts), a care-team room (`rooms`) by its disco#info and who may join it.
 * The passwords the CLI writes are read from its file, never printed.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { xml } from '@xmpp/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLease, writeLease } from '../../main/xmpp/lease-storage';
import { startEjabberd, type EjabberdServer } from '../support/ejabberd';
import { freePort } from '../support/loopback';
import { joinRoom, mucPerson, roomFeatures } from '../support/muc-support';
import { rawConnection, waitFor } from '../support/xmpp-support';

const run = promisify(execFile);
const BIN = 'admin/bin/clinic-admin.mjs';
/** Each case starts CLI processes (Node + tsx): a hang guard, not a speed limit. */
const SPAWNS = 180_000;
const ALICE = 'alice@clinic.test';
const ALICE_PW = 'alice-own-password-1';
const BOB = 'bob@clinic.test';
const CAROL = 'carol@clinic.test';

let server: EjabberdServer;
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

const api = () => ['--ejabberd-api', server.apiUrl];
const provision = (csv: string, ...more: string[]) => cli(['provision', csv, ...api(), ...more]);
const described = () => `ejabberd (${server.apiUrl})`;

function passwords(file: string): Map<string, string> {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  return new Map(lines.map((l) => l.split(' ') as [string, string]));
}

async function signIn(jid: string, password: string): Promise<void> {
  const c = rawConnection(server, jid, password, 'admin-ejabberd');
  await c.start();
  await c.stop();
}

interface RosterItem {
  jid: string;
  name: string;
  groups: string[];
}

/** The account's roster as the server sends it (shared-roster items included), sorted by JID. */
async function roster(jid: string, password: string): Promise<RosterItem[]> {
  const c = rawConnection(server, jid, password, 'roster');
  await c.start();
  try {
    const res = await c.iq(xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })));
    return (res.getChild('query')?.getChildren('item') ?? [])
      .map((i) => ({
        jid: i.attrs.jid as string,
        name: i.attrs.name as string,
        groups: i
          .getChildren('group')
          .map((g) => g.text())
          .sort(),
      }))
      .sort((a, b) => a.jid.localeCompare(b.jid));
  } finally {
    await c.stop();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clinic-admin-ejabberd-'));
  // Alice's account exists before the first provisioning, with a password she already uses.
  server = await startEjabberd({ users: [{ jid: ALICE, password: ALICE_PW, name: 'Alice' }] });
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

describe('clinic-admin provision --ejabberd-api', () => {
  it(
    'creates the missing accounts, leaves an existing one alone, and colleagues appear with role group and name',
    async () => {
      writeFileSync(path('users.csv'), CSV);
      const r = await provision(path('users.csv'), '--passwords-out', path('first.txt'));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`exists ${ALICE}\ncreated ${BOB}\ncreated ${CAROL}\n`);
      expect(r.stdout).toContain(
        `directory written: 4 groups (shared-roster groups of clinic.test on ${described()}).`,
      );
      expect(r.stdout).toContain('ejabberd applies it at once');
      expect(r.stdout).toContain('2 created, 1 existed.');

      expect(statSync(path('first.txt')).mode & 0o777).toBe(0o600);
      const pw = passwords(path('first.txt'));
      expect([...pw.keys()]).toEqual([BOB, CAROL]);
      for (const p of pw.values()) {
        expect(p).toMatch(/^[A-Za-z0-9_-]{24}$/);
        expect(`${r.stdout}${r.stderr}`).not.toContain(p);
      }
      await signIn(BOB, pw.get(BOB)!);
      await signIn(CAROL, pw.get(CAROL)!);
      await signIn(ALICE, ALICE_PW); // left alone: `register` would have refused, never replaced it

      // What the Prosody path gives (admin-provision.test.ts): everyone under their role group with
      // the file's name; a team's members also see each other under the team.
      expect(await roster(BOB, pw.get(BOB)!)).toEqual([
        { jid: ALICE, name: 'Dr Alice Moreau', groups: ['Physicians'] },
        { jid: CAROL, name: 'Carol Diaz', groups: ['Clinic'] },
      ]);
      expect(await roster(ALICE, ALICE_PW)).toEqual([
        { jid: BOB, name: 'Bob Tran', groups: ['Reception'] },
        { jid: CAROL, name: 'Carol Diaz', groups: ['Clinic', 'Ward 1'] },
      ]);
    },
    SPAWNS,
  );

  it(
    'run again with a changed file: creates nothing, and the directory is replaced (role moved, team gone)',
    async () => {
      const pw = passwords(path('first.txt'));
      writeFileSync(path('changed.csv'), [`${ALICE},Dr Alice Moreau,physician,`, `${BOB},Bob Tran,nurse,`].join('\n'));
      const r = await provision(path('changed.csv'), '--passwords-out', path('second.txt'));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`exists ${ALICE}\nexists ${BOB}\n`);
      expect(r.stdout).toContain('Nothing created: all 2 accounts existed. No passwords file was written.');
      expect(existsSync(path('second.txt'))).toBe(false);
      // Carol left the file: out of the directory (her account stays); Bob is a nurse now.
      expect(await roster(ALICE, ALICE_PW)).toEqual([{ jid: BOB, name: 'Bob Tran', groups: ['Nurses'] }]);
      expect(await roster(CAROL, pw.get(CAROL)!)).toEqual([
        { jid: ALICE, name: 'Dr Alice Moreau', groups: ['Physicians'] },
        { jid: BOB, name: 'Bob Tran', groups: ['Nurses'] },
      ]);
      // Back to the first file for the cases below.
      expect((await provision(path('users.csv'), '--passwords-out', path('third.txt'))).code).toBe(0);
    },
    SPAWNS,
  );

  it(
    'refuses a bad file as a whole (exit 2, nothing created); a name ejabberd refuses: exit 1 naming it, nothing lost',
    async () => {
      writeFileSync(path('bad.csv'), ['dave@clinic.test,Dave Li,nurse,', 'hal@elsewhere.test,Hal,,'].join('\n'));
      const r = await provision(path('bad.csv'), '--passwords-out', path('bad-pw.txt'));
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `line 2: hal@elsewhere.test: the server does not serve elsewhere.test (it serves clinic.test)`,
      );
      expect(r.stderr).toContain('Nothing was changed.');
      expect(existsSync(path('bad-pw.txt'))).toBe(false);
      const dave = await cli(['lease', 'show', 'dave@clinic.test', ...api()]);
      expect(dave.code).toBe(1);
      expect(dave.stderr).toContain(`No such account: dave@clinic.test on ${described()}`);

      // A name ejabberd's nodeprep refuses (a private-use character) though it looks like an
      // address: check_account cannot tell, register refuses it. Exit 1 naming it; the account
      // made before it keeps its password in the file; the directory is not changed.
      writeFileSync(path('odd.csv'), `${CSV}\ndave@clinic.test,Dave Li,nurse,\ne\uE000@clinic.test,E,nurse,\n`);
      const odd = await provision(path('odd.csv'), '--passwords-out', path('odd-pw.txt'));
      expect(odd.code).toBe(1);
      expect(odd.stderr).toContain('ejabberd could not create e\uE000@clinic.test');
      expect(odd.stderr).toContain('Malformed username');
      expect(odd.stderr).toContain(
        `1 account(s) were created before it; their passwords are in ${path('odd-pw.txt')}.`,
      );
      expect(odd.stderr).toContain('The directory was not changed.');
      const davePw = passwords(path('odd-pw.txt')).get('dave@clinic.test')!;
      await signIn('dave@clinic.test', davePw);
      expect((await roster(BOB, passwords(path('first.txt')).get(BOB)!)).map((i) => i.jid)).toEqual([ALICE, CAROL]);
    },
    SPAWNS,
  );
});

describe('clinic-admin lease --ejabberd-api', () => {
  it(
    'shows a lease the app stored, revokes it so the account reads none, and says so when there is none',
    async () => {
      const pw = passwords(path('first.txt'));
      const lease = Buffer.alloc(32, 7);
      const c = rawConnection(server, BOB, pw.get(BOB)!, 'workstation');
      await c.start();
      await writeLease(c, lease);
      await c.stop();

      const before = await cli(['lease', 'show', BOB, ...api()]);
      expect(before.code, before.stderr).toBe(0);
      expect(before.stdout).toContain(`${BOB} has an offline lease on ${described()}`);
      expect(before.stdout).not.toContain(lease.toString('base64'));

      const revoke = await cli(['lease', 'revoke', BOB, ...api()]);
      expect(revoke.code, revoke.stderr).toBe(0);
      expect(revoke.stdout).toContain(`Revoked the offline lease of ${BOB} on ${described()}.`);
      const reader = rawConnection(server, BOB, pw.get(BOB)!, 'lease-reader');
      await reader.start();
      expect(await readLease(reader)).toBeNull();
      await reader.stop();

      const after = await cli(['lease', 'show', BOB, ...api()]);
      expect(after.stdout).toContain(`${BOB} has no offline lease on ${described()}`);
      const again = await cli(['lease', 'revoke', BOB, ...api()]);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain(`${BOB} had no offline lease on ${described()}; nothing was changed.`);
    },
    SPAWNS,
  );
});

describe('clinic-admin rooms --ejabberd-api', () => {
  const room = 'ward-1@conference.clinic.test';
  const POLICY_FEATURES = ['muc_membersonly', 'muc_nonanonymous', 'muc_persistent', 'muc_hidden', 'urn:xmpp:mam:2'];
  const rooms = (...args: string[]) => cli(['rooms', ...args, ...api()]);

  it(
    'creates a care-team room from a group with the safe options, and syncs it when the directory changes',
    async () => {
      const pw = passwords(path('first.txt'));
      const r = await rooms('create', 'ward-1', '--group', 'Ward 1', '--owner', ALICE);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(
        `Created ${room} "Ward 1" on conference.clinic.test on ${described()}: members-only, non-anonymous, persistent, unlisted, archived.`,
      );
      expect(r.stdout).toContain(`  + owner ${ALICE}\n  + member ${CAROL}\n`);
      expect(r.stdout).toContain(`${room}: 1 member, 1 owner, from the directory group "Ward 1".`);

      // As the room shows itself to a member; an outsider is kept out.
      const carol = await mucPerson(server, CAROL, pw.get(CAROL)!);
      const bob = await mucPerson(server, BOB, pw.get(BOB)!);
      try {
        expect(await roomFeatures(carol, room)).toEqual(expect.arrayContaining(POLICY_FEATURES));
        expect((await joinRoom(carol, room, 'Carol')).ok).toBe(true);
        expect(await joinRoom(bob, room, 'Bob')).toEqual({ ok: false, condition: 'registration-required' });
      } finally {
        await Promise.all([carol.stop(), bob.stop()]);
      }

      const exists = await rooms('create', 'ward-1', '--group', 'Ward 1');
      expect(exists.code).toBe(1);
      expect(exists.stderr).toContain(`${room} already exists (made from the group "Ward 1")`);
      const unknown = await rooms('create', 'ward-2', '--group', 'Ward 9');
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('No group "Ward 9" in the directory');
      // No announcement rooms on ejabberd (they are deploy/prosody's mod_muc_clinic_policy): refused, no room made.
      const announcement = await rooms(
        'create',
        'ward-1-news',
        '--group',
        'Ward 1',
        '--owner',
        ALICE,
        '--announcement',
      );
      expect(announcement.code).toBe(1);
      expect(announcement.stderr).toContain(`${described()}`);
      expect(announcement.stderr).toContain('cannot make announcement rooms (only owners post)');
      expect(announcement.stderr).toContain('Nothing was changed.');
      expect((await rooms('list')).stdout).not.toContain('ward-1-news');

      // Bob joins Ward 1 and Carol leaves it.
      writeFileSync(
        path('moved.csv'),
        [`${ALICE},Dr Alice Moreau,physician,Ward 1`, `${BOB},Bob Tran,reception,Ward 1`, `${CAROL},Carol Diaz,,`].join(
          '\n',
        ),
      );
      expect((await provision(path('moved.csv'), '--passwords-out', path('moved-pw.txt'))).code).toBe(0);
      const list = await rooms('list');
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).toContain(`  ${room} "Ward 1": 1 member, 1 owner; group "Ward 1", 1 to add, 1 to remove\n`);
      const sync = await rooms('sync');
      expect(sync.code, sync.stderr).toBe(0);
      expect(sync.stdout).toContain(
        `${room} (group "Ward 1"):\n  + member ${BOB}\n  - removed ${CAROL} (was member)\n  now 1 member, 1 owner.\n`,
      );
      const again = await rooms('list');
      expect(again.stdout).toContain(`  ${room} "Ward 1": 1 member, 1 owner; group "Ward 1", in sync\n`);
      // Back to the first file for the cases below.
      expect((await provision(path('users.csv'), '--passwords-out', path('fourth.txt'))).code).toBe(0);
    },
    SPAWNS,
  );
});

describe('clinic-admin disable --ejabberd-api', () => {
  it(
    'ends the signed-in session and refuses every new sign-in with AUTH_FAILED; the others still sign in',
    async () => {
      const pw = passwords(path('first.txt'));
      const carol = rawConnection(server, CAROL, pw.get(CAROL)!, 'live');
      await carol.start();
      expect(carol.isReady()).toBe(true);
      const r = await cli(['disable', CAROL, ...api()]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`Disabled ${CAROL} on ${described()}: its password was replaced`);
      expect(r.stdout).toContain('Signed-in sessions: 1 signed-in session(s) ended (kick_user).');
      await waitFor('the live session ended', () => !carol.isReady());
      await carol.stop();
      await expect(rawConnection(server, CAROL, pw.get(CAROL)!, 'again').start()).rejects.toMatchObject({
        code: 'AUTH_FAILED',
      });
      await signIn(BOB, pw.get(BOB)!);
      await signIn(ALICE, ALICE_PW);
      // Disabled, not deleted: the account is still there for lease show.
      expect((await cli(['lease', 'show', CAROL, ...api()])).code).toBe(0);
    },
    SPAWNS,
  );

  it(
    'an unknown account, an unreachable server or a bad option: a clear message and a non-zero exit',
    async () => {
      for (const jid of ['nobody@clinic.test', 'alice@elsewhere.test']) {
        const r = await cli(['disable', jid, ...api()]);
        expect(r.code, jid).toBe(1);
        expect(r.stderr).toContain(`No such account: ${jid} on ${described()}`);
        expect(r.stdout).toBe('');
      }
      const lease = await cli(['lease', 'revoke', 'nobody@clinic.test', ...api()]);
      expect(lease.code).toBe(1);
      expect(lease.stderr).toContain(`No such account: nobody@clinic.test on ${described()}`);

      const closed = `http://127.0.0.1:${await freePort()}/api`;
      for (const args of [
        ['disable', BOB],
        ['lease', 'show', BOB],
        ['provision', path('users.csv'), '--passwords-out', path('never.txt')],
      ]) {
        const r = await cli([...args, '--ejabberd-api', closed]);
        expect(r.code, args[0]).toBe(1);
        expect(r.stderr).toContain(`Cannot reach ejabberd's HTTP API at ${closed} (ECONNREFUSED)`);
        expect(r.stderr).toContain('Nothing was changed.');
      }
      expect(existsSync(path('never.txt'))).toBe(false);
      await signIn(BOB, passwords(path('first.txt')).get(BOB)!); // still enabled

      const both = await cli(['disable', BOB, ...api(), '--prosody-config', '/etc/prosody/prosody.cfg.lua']);
      expect(both.code).toBe(2);
      expect(both.stderr).toContain('not both');
      const badUrl = await cli(['disable', BOB, '--ejabberd-api', 'ftp://127.0.0.1/api']);
      expect(badUrl.code).toBe(2);
      expect(badUrl.stderr).toContain('--ejabberd-api must be an http:// or https:// URL');
    },
    SPAWNS,
  );
});
