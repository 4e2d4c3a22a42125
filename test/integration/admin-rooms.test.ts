/**
 * clinic-admin rooms as IT runs it on the Prosody server (issue 18 §1): the real CLI in a child
 * process, reading the directory from the real Prosody's groups file (`--prosody-config`) and
 * making the room over XMPP as the server's admin account (`--as`, TLS with the test CA). The room
 * is checked with raw XEP-0045 queries (test/support/muc-support.ts), and the members' workstations
 * (the app's messaging service with real stores and keys) find it at sign-in, join it and talk in
 * it. Then the directory changes and `rooms sync` follows it: the new member is added, the one who
 * left is removed and their workstation leaves the room. Every refusal has its message and exit code.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { xml } from '@xmpp/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { affiliated, joinRoom, mucPerson, refusedWith, roomFeatures, type MucPerson } from '../support/muc-support';
import { startProsody, type ProsodyServer, type ProsodyUser } from '../support/prosody';
import { renderGroupsFile } from '../support/prosody-config';
import { auditTypes, makeClient, messagesWith, waitFor, type TestClient } from '../support/xmpp-support';

const run = promisify(execFile);
const BIN = 'admin/bin/clinic-admin.mjs';
/** Each case starts CLI processes (Node + tsx + a TLS sign-in): a hang guard, not a speed limit. */
const SPAWNS = 240_000;
const IT = 'it-admin@clinic.test';
const ALICE = 'alice@clinic.test'; // physician, Ward 1, the room's owner
const BOB = 'bob@clinic.test'; // nurse, Ward 1
const DAVE = 'dave@clinic.test'; // reception, Ward 1 until the directory changes
const CAROL = 'carol@clinic.test'; // nurse, joins Ward 1 later
const pw = (jid: string) => `${jid.split('@')[0]}-password-1`;
const POLICY_FEATURES = ['muc_membersonly', 'muc_nonanonymous', 'muc_persistent', 'muc_hidden', 'urn:xmpp:mam:2'];

const USERS: ProsodyUser[] = [
  { jid: IT, password: pw(IT), name: 'Clinic IT' },
  { jid: ALICE, password: pw(ALICE), name: 'Dr Alice Moreau', role: 'physician', group: 'Ward 1' },
  { jid: BOB, password: pw(BOB), name: 'Bob Tran', role: 'nurse', group: 'Ward 1' },
  { jid: DAVE, password: pw(DAVE), name: 'Dave Diaz', role: 'reception', group: 'Ward 1' },
  { jid: CAROL, password: pw(CAROL), name: 'Carol Chen', role: 'nurse' },
];

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], password = pw(IT)): Promise<Outcome> {
  const env: NodeJS.ProcessEnv = { ...process.env, CLINIC_ADMIN_XMPP_PASSWORD: password };
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** A loopback port that was free a moment ago and is closed now: connecting is refused. */
const closedPort = () =>
  new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });

describe('clinic-admin rooms, over a real Prosody', () => {
  let server: ProsodyServer;
  let dir: string;
  let caFile: string;
  let room: string;
  let itAdmin: MucPerson;
  const clients: TestClient[] = [];
  let alice: TestClient;
  let bob: TestClient;
  let dave: TestClient;

  const where = (as = IT) => [
    '--prosody-config',
    server.configFile,
    '--as',
    as,
    '--server',
    `127.0.0.1:${server.c2sPort}`,
    '--ca',
    caFile,
  ];
  const rooms = (...args: string[]) => cli(['rooms', ...args, ...where()]);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'clinic-rooms-'));
    server = await startProsody({ users: USERS, admins: [IT] });
    caFile = join(dir, 'clinic-ca.pem');
    writeFileSync(caFile, server.caPem);
    room = `ward-1@${server.rooms}`;
    itAdmin = await mucPerson(server, IT, pw(IT), 'check');
  }, 120_000);
  afterAll(async () => {
    await itAdmin?.stop();
    await Promise.all(clients.map((c) => c.close()));
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'create: a room with the safe configuration, the group’s members and the owner; IT is on no list',
    async () => {
      const r = await rooms('create', 'ward-1', '--group', 'Ward 1', '--owner', ALICE);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(
        `Created ${room} "Ward 1" on ${server.rooms} on Prosody via 127.0.0.1:${server.c2sPort} as ${IT}: members-only, non-anonymous, persistent, unlisted, archived.`,
      );
      expect(r.stdout).toContain(`  + owner ${ALICE}\n  + member ${BOB}\n  + member ${DAVE}\n`);
      expect(r.stdout).toContain(`${room}: 2 members, 1 owner, from the directory group "Ward 1".`);
      expect(`${r.stdout}${r.stderr}`).not.toContain(pw(IT));

      expect(await roomFeatures(itAdmin, room)).toEqual(expect.arrayContaining(POLICY_FEATURES));
      expect(await affiliated(itAdmin, room, 'member')).toEqual([BOB, DAVE]);
      expect(await affiliated(itAdmin, room, 'owner')).toEqual([ALICE]);
      // Carol is not in the group: the room does not let her in.
      const carol = await mucPerson(server, CAROL, pw(CAROL));
      expect(await joinRoom(carol, room, 'Carol')).toEqual({ ok: false, condition: 'registration-required' });
      await carol.stop();
    },
    SPAWNS,
  );

  it(
    'the members’ workstations find the room at sign-in, join it and talk in it',
    async () => {
      [alice, bob, dave] = (await Promise.all([ALICE, BOB, DAVE].map((jid) => makeClient(server, jid, pw(jid))))) as [
        TestClient,
        TestClient,
        TestClient,
      ];
      clients.push(alice, bob, dave);
      for (const c of clients) await c.messaging.inspect.settled();
      for (const c of [alice, bob, dave]) {
        const r = await waitFor(
          `${c.jid} joined`,
          () => c.store.rooms.get(room)?.joinedAt != null && c.store.rooms.get(room),
        );
        expect(r.name).toBe('Ward 1');
        expect(c.store.rooms.members(room).map((m) => m.jid)).toEqual([ALICE, BOB, DAVE]);
        expect(c.store.rooms.members(room).some((m) => m.jid === IT)).toBe(false);
      }
      const conv = alice.store.rooms.get(room)!.conversationId;
      const sent = await alice.messaging.send(conv, 'Bed 4 needs a fall-risk review today.');
      for (const c of [bob, dave]) {
        const got = await waitFor(`${c.jid} receives it`, () =>
          messagesWith(c, room).find((m) => m.originId === sent.originId && m.body),
        );
        expect(got).toMatchObject({ body: 'Bed 4 needs a fall-risk review today.', senderJid: ALICE, direction: 'in' });
      }
    },
    SPAWNS,
  );

  it(
    'list, then sync after the directory changed: the new member is added, the one who left removed',
    async () => {
      const before = await rooms('list');
      expect(before.code, before.stderr).toBe(0);
      expect(before.stdout).toContain(`  ${room} "Ward 1": 2 members, 1 owner; group "Ward 1", in sync\n`);

      // provision rewrote the directory: Carol joined Ward 1, Dave left it.
      const moved = USERS.map((u) =>
        u.jid === CAROL ? { ...u, group: 'Ward 1' } : u.jid === DAVE ? { ...u, group: null } : u,
      );
      writeFileSync(join(server.dir, 'groups.txt'), renderGroupsFile(moved));
      const pending = await rooms('list');
      expect(pending.stdout).toContain(
        `  ${room} "Ward 1": 2 members, 1 owner; group "Ward 1", 1 to add, 1 to remove\n`,
      );
      expect(pending.stdout).toContain('1 room differs from its group: clinic-admin rooms sync.');

      // Carol's workstation is signed in before she is added: it is on no room's list yet.
      const carol = await makeClient(server, CAROL, pw(CAROL));
      clients.push(carol);
      await carol.messaging.inspect.settled();
      expect(carol.store.rooms.get(room)).toBeUndefined();

      const r = await rooms('sync');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(
        `${room} (group "Ward 1"):\n  + member ${CAROL}\n  - removed ${DAVE} (was member)\n  now 2 members, 1 owner.\n`,
      );
      expect(r.stdout).toContain(`Synced 1 room on ${server.rooms} on Prosody`);
      expect(r.stdout).toContain(': 1 added, 1 removed.');
      expect(await affiliated(itAdmin, room, 'member')).toEqual([BOB, CAROL]);
      expect(await affiliated(itAdmin, room, 'owner')).toEqual([ALICE]);

      // Dave's workstation leaves the room; the others record (and audit) his removal.
      await waitFor('dave is out of the room', () => dave.store.rooms.get(room)?.leftAt != null);
      await waitFor(
        'bob knows the new list',
        () =>
          bob.store.rooms
            .members(room)
            .map((m) => m.jid)
            .join() === [ALICE, BOB, CAROL].join(),
      );
      expect(
        auditTypes(bob).some(
          (a) => a.type === 'room-membership' && a.detail.jid === DAVE && a.detail.change === 'removed',
        ),
      ).toBe(true);
      // The server tells Carol's signed-in workstation that her room list changed: it joins at once.
      const joined = await waitFor(
        'carol joins without signing in again',
        () => carol.store.rooms.get(room)?.joinedAt != null && carol.store.rooms.get(room),
      );
      expect(joined.leftAt).toBeNull();
      expect(carol.store.rooms.members(room).map((m) => m.jid)).toEqual([ALICE, BOB, CAROL]);

      const again = await rooms('sync', 'ward-1');
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain(`${room} (group "Ward 1"): in sync, 2 members, 1 owner.`);
      expect(again.stdout).toContain(': 0 added, 0 removed.');
    },
    SPAWNS,
  );

  it(
    'create --announcement: an announcement room where only the owners post; the server and the workstations refuse a member’s post',
    async () => {
      const news = `ward-1-news@${server.rooms}`;
      const noOwner = await rooms('create', 'ward-1-news', '--group', 'Ward 1', '--announcement');
      expect(noOwner.code).toBe(2);
      expect(noOwner.stderr).toContain('rooms create --announcement needs --owner <jid>');
      const onSync = await rooms('sync', 'ward-1', '--announcement');
      expect(onSync.code).toBe(2);
      expect(onSync.stderr).toContain('--announcement goes with rooms create');

      const r = await rooms(
        'create',
        'ward-1-news',
        '--group',
        'Ward 1',
        '--name',
        'Ward 1 news',
        '--owner',
        ALICE,
        '--announcement',
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(
        `Created ${news} "Ward 1 news" on ${server.rooms} on Prosody via 127.0.0.1:${server.c2sPort} as ${IT}: members-only, non-anonymous, persistent, unlisted, archived; an announcement room: only its owners post.`,
      );
      expect(await roomFeatures(itAdmin, news)).toEqual(
        expect.arrayContaining([...POLICY_FEATURES, 'urn:clinic-messenger:rooms:announcement']),
      );
      expect(await affiliated(itAdmin, news, 'owner')).toEqual([ALICE]);
      expect(await affiliated(itAdmin, news, 'member')).toEqual([BOB, CAROL]);
      const listed = await rooms('list');
      expect(listed.stdout).toContain(
        `  ${news} "Ward 1 news": 2 members, 1 owner; group "Ward 1", in sync; announcements (only owners post)\n`,
      );
      expect(listed.stdout).toContain(`  ${room} "Ward 1": 2 members, 1 owner; group "Ward 1", in sync\n`);

      // The server: a member's post is refused.
      const bobRaw = await mucPerson(server, BOB, pw(BOB), 'raw');
      try {
        expect((await joinRoom(bobRaw, news, 'bob-raw')).ok).toBe(true);
        const post = xml('message', { to: news, type: 'groupchat', id: randomUUID() }, xml('body', {}, 'QUJD'));
        await bobRaw.conn.send(post);
        const bounce = await waitFor('the room refuses bob’s post', () =>
          bobRaw.seen.find((el) => el.is('message') && el.attrs.type === 'error' && el.attrs.id === post.attrs.id),
        );
        expect(bounce.getChild('error')?.getChild('forbidden', 'urn:ietf:params:xml:ns:xmpp-stanzas')).toBeDefined();
      } finally {
        await bobRaw.stop();
      }
      // The workstations (signed in: the server told them of the new room) know it; a member's
      // send is refused before anything is stored, the owner's arrives.
      for (const c of [alice, bob]) {
        await waitFor(`${c.jid} joined the announcement room`, () => c.store.rooms.get(news)?.joinedAt != null);
        await waitFor(`${c.jid} knows it is one`, () => c.store.rooms.get(news)?.announcement);
      }
      const err = await bob.messaging
        .send(bob.store.rooms.get(news)!.conversationId, 'Can I swap shifts?')
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ROOM_OWNERS_ONLY' });
      expect(messagesWith(bob, news)).toEqual([]);
      const sent = await alice.messaging.send(
        alice.store.rooms.get(news)!.conversationId,
        'Ward 1 closes at 2 pm on Friday.',
      );
      await waitFor('bob receives the announcement', () =>
        messagesWith(bob, news).find((m) => m.originId === sent.originId && m.body),
      );
    },
    SPAWNS,
  );

  it(
    'refusals: a bad room name, an unknown group, an existing room, a wrong password, no server, not an admin',
    async () => {
      const badName = await rooms('create', 'Ward 1', '--group', 'Ward 1');
      expect(badName.code).toBe(2);
      expect(badName.stderr).toContain('"Ward 1" is not a room name');

      const otherService = await rooms('create', 'ward-2@rooms.elsewhere.test', '--group', 'Ward 1');
      expect(otherService.code).toBe(2);
      expect(otherService.stderr).toContain(`is not on the care-team room service ${server.rooms}`);

      const unknown = await rooms('create', 'ward-2', '--group', 'Ward 9');
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(
        /No group "Ward 9" in the directory \(Prosody .*\)\. Its groups: .*"Ward 1".* Nothing was changed\./,
      );
      const almost = await rooms('create', 'ward-2', '--group', 'ward 1');
      expect(almost.code).toBe(1);
      expect(almost.stderr).toContain('did you mean "Ward 1"?');

      const exists = await rooms('create', 'ward-1', '--group', 'Ward 1');
      expect(exists.code).toBe(1);
      expect(exists.stderr).toContain(`${room} already exists (made from the group "Ward 1"): nothing was changed.`);

      const wrong = await cli(['rooms', 'create', 'ward-2', '--group', 'Ward 1', ...where()], 'not the password');
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain(`refused the password of ${IT}; nothing was changed.`);

      const port = await closedPort();
      const down = await cli([
        'rooms',
        'list',
        ...where().map((a) => (a === `127.0.0.1:${server.c2sPort}` ? `127.0.0.1:${port}` : a)),
      ]);
      expect(down.code).toBe(1);
      expect(down.stderr).toMatch(
        new RegExp(`Cannot reach the XMPP server at 127\\.0\\.0\\.1:${port}.*; nothing was changed\\.`),
      );

      const notAdmin = await cli(['rooms', 'create', 'ward-2', '--group', 'Ward 1', ...where(BOB)], pw(BOB));
      expect(notAdmin.code).toBe(1);
      expect(notAdmin.stderr).toContain(`does not let ${BOB} create rooms: only the server's admins do`);
      const notAdminList = await cli(['rooms', 'list', ...where(BOB)], pw(BOB));
      expect(notAdminList.code).toBe(1);
      expect(notAdminList.stderr).toContain(`refused to let ${BOB} list the rooms`);

      const noAs = await cli(['rooms', 'list', '--prosody-config', server.configFile]);
      expect(noAs.code).toBe(2);
      expect(noAs.stderr).toContain('rooms on Prosody needs --as <admin-jid>');

      // None of it made a room or changed one.
      expect(await refusedWith(roomFeatures(itAdmin, `ward-2@${server.rooms}`))).toBe('item-not-found');
      expect(await affiliated(itAdmin, room, 'member')).toEqual([BOB, CAROL]);
    },
    SPAWNS,
  );
});
