/**
 * A care-team room's settings (issue 18 §4, §5): what the room's disco#info says (announcement room,
 * still members-only and non-anonymous: main/xmpp/room-config.ts), which stanzas from a room say
 * its configuration changed, who may post at a given time (main/crypto/room-membership.ts), and how
 * the store keeps it (migration 0015, rooms.setConfig, the inbox row). Pure logic and a real
 * SQLCipher file; the reaction over a real server is test/integration/rooms-settings.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xml } from '@xmpp/client';
import { afterEach, describe, expect, it } from 'vitest';
import { affiliationsAt, mayPostAt, type AffiliationChange } from '../../main/crypto/room-membership';
import { openStore } from '../../main/store';
import { migrations, runMigrations } from '../../main/store/migrations';
import { openDb } from '../../main/store/open-db';
import {
  ANNOUNCEMENT_FEATURE,
  configChangeNotice,
  problemsFrom,
  problemsText,
  readRoomConfig,
} from '../../main/xmpp/room-config';
import { MUC_NS } from '../../main/xmpp/room-stanzas';
import { auditSentence } from '../../renderer/src/lib/audit-words';
import { clinicModulesPath, readProductionConfig, renderTestConfig, testModulesPath } from '../support/prosody-config';

const ROOM = 'care-team@rooms.clinic.example';
const RITA = 'rita@clinic.example';
const PAUL = 'paul@clinic.example';

const dirs: string[] = [];
const tmpFile = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'room-settings-'));
  dirs.push(d);
  return join(d, 'cache.db');
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const info = (...features: string[]) =>
  xml(
    'iq',
    { type: 'result', from: ROOM },
    xml(
      'query',
      { xmlns: 'http://jabber.org/protocol/disco#info' },
      xml('identity', { category: 'conference', type: 'text' }),
      ...features.map((f) => xml('feature', { var: f })),
    ),
  );
const SAFE = ['http://jabber.org/protocol/muc', 'muc_membersonly', 'muc_nonanonymous', 'muc_persistent', 'muc_hidden'];

const withCodes = (name: 'message' | 'presence', attrs: Record<string, string>, codes: string[]) =>
  xml(name, attrs, xml('x', { xmlns: MUC_NS.user }, ...codes.map((code) => xml('status', { code }))));

describe('what a room says about itself (disco#info)', () => {
  it('a members-only, non-anonymous room is safe; the announcement feature makes it an announcement room', () => {
    expect(readRoomConfig(info(...SAFE))).toEqual({ announcement: false, problems: [] });
    expect(readRoomConfig(info(...SAFE, ANNOUNCEMENT_FEATURE))).toEqual({ announcement: true, problems: [] });
  });

  it('a room that is open or hides real JIDs is unsafe, also when it says both words', () => {
    const without = (f: string) => SAFE.filter((x) => x !== f);
    expect(readRoomConfig(info(...without('muc_membersonly'), 'muc_open')).problems).toEqual(['open']);
    expect(readRoomConfig(info(...without('muc_nonanonymous'), 'muc_semianonymous')).problems).toEqual(['anonymous']);
    expect(readRoomConfig(info(...SAFE, 'muc_open')).problems).toEqual(['open']);
    expect(readRoomConfig(info(...SAFE, 'muc_anonymous')).problems).toEqual(['anonymous']);
    // An answer without a query (or an empty one) keeps nothing.
    expect(readRoomConfig(xml('iq', { type: 'result' })).problems).toEqual(['open', 'anonymous']);
    expect(problemsText(['open', 'anonymous'])).toBe('open,anonymous');
    expect(problemsText([])).toBeNull();
    expect(problemsFrom('open,anonymous,bogus')).toEqual(['open', 'anonymous']);
    expect(problemsFrom(null)).toEqual([]);
  });
});

describe('which stanzas say the configuration changed', () => {
  it('a groupchat notice from the room itself with 104 or 170–174', () => {
    for (const code of ['104', '170', '171', '172', '173', '174'])
      expect(configChangeNotice(withCodes('message', { from: ROOM, type: 'groupchat' }, [code]))).toBe(ROOM);
    expect(configChangeNotice(withCodes('message', { from: ROOM.toUpperCase(), type: 'groupchat' }, ['104']))).toBe(
      ROOM,
    );
  });

  it('not from an occupant’s message, not another type, not other codes, not without muc#user', () => {
    expect(configChangeNotice(withCodes('message', { from: `${ROOM}/nina`, type: 'groupchat' }, ['104']))).toBeNull();
    expect(configChangeNotice(withCodes('message', { from: ROOM, type: 'chat' }, ['104']))).toBeNull();
    expect(configChangeNotice(withCodes('message', { from: ROOM, type: 'groupchat' }, ['110', '201']))).toBeNull();
    expect(configChangeNotice(xml('message', { from: ROOM, type: 'groupchat' }, xml('status', { code: '104' })))).toBe(
      null,
    );
    expect(configChangeNotice(withCodes('message', { from: 'rooms.clinic.example', type: 'groupchat' }, ['104']))).toBe(
      null,
    );
  });

  it('an occupant’s presence only with the anonymity codes (170 comes with every join)', () => {
    expect(configChangeNotice(withCodes('presence', { from: `${ROOM}/rita` }, ['110', '173']))).toBe(ROOM);
    expect(configChangeNotice(withCodes('presence', { from: `${ROOM}/rita` }, ['110', '100', '170']))).toBeNull();
    expect(configChangeNotice(withCodes('presence', { from: ROOM }, ['173']))).toBeNull();
    expect(configChangeNotice(withCodes('presence', { from: `${ROOM}/rita`, type: 'error' }, ['173']))).toBeNull();
  });
});

describe('who may post when (announcement rooms)', () => {
  const changes: AffiliationChange[] = [
    { jid: PAUL, affiliation: 'owner', at: new Date(1_000) },
    { jid: RITA, affiliation: 'member', at: new Date(1_000) },
    { jid: RITA, affiliation: 'owner', at: new Date(5_000) },
    { jid: PAUL, affiliation: 'member', at: new Date(5_000) },
  ];

  it('in an announcement room only who was an owner at that time; elsewhere every member', () => {
    expect(mayPostAt(changes, PAUL, new Date(4_999), true)).toBe(true);
    expect(mayPostAt(changes, RITA, new Date(4_999), true)).toBe(false);
    expect(mayPostAt(changes, RITA, new Date(5_000), true)).toBe(true);
    expect(mayPostAt(changes, PAUL.toUpperCase(), new Date(5_000), true)).toBe(false);
    expect(mayPostAt(changes, RITA, new Date(4_999), false)).toBe(true);
    // Nobody on the list (a server admin): never, in either kind of room.
    expect(mayPostAt(changes, 'it@clinic.example', new Date(9_000), true)).toBe(false);
    expect(mayPostAt(changes, 'it@clinic.example', new Date(9_000), false)).toBe(false);
    expect(affiliationsAt(changes, new Date(500)).size).toBe(0);
  });
});

describe('room settings in the store', () => {
  it('migration 15 adds the settings to existing rooms: not an announcement room, not unsafe', () => {
    const db = openDb({ file: tmpFile(), key: randomBytes(32) });
    runMigrations(db, migrations, 14);
    db.prepare('INSERT INTO conversations (peer_jid, created_at, last_at) VALUES (?, 1, 1)').run(ROOM);
    db.prepare("INSERT INTO rooms (conversation_id, jid, name, nick) VALUES (1, ?, 'Care team', 'rita')").run(ROOM);
    expect(runMigrations(db, migrations, 15)).toBe(15);
    expect(db.prepare('SELECT jid, name, announcement, unsafe, unsafe_at FROM rooms').get()).toEqual({
      jid: ROOM,
      name: 'Care team',
      announcement: 0,
      unsafe: null,
      unsafe_at: null,
    });
    expect(() => db.prepare('UPDATE rooms SET announcement = 2').run()).toThrow(/CHECK/);
    db.close();
  });

  it('setConfig says what changed, keeps since when it is unsafe, and the inbox row shows it', async () => {
    const store = openStore({ file: tmpFile(), key: randomBytes(32), worker: false });
    try {
      const room = store.rooms.upsert(ROOM, { name: 'Announcements', nick: 'rita' }, 1_000);
      expect(room).toMatchObject({ announcement: false, unsafe: null, unsafeAt: null });
      expect(store.rooms.setConfig(ROOM, { announcement: false, unsafe: null }, 2_000)).toEqual({
        announcement: false,
        unsafe: false,
      });
      expect(store.rooms.setConfig(ROOM, { announcement: true, unsafe: null }, 2_000)).toEqual({
        announcement: true,
        unsafe: false,
      });
      expect(store.rooms.setConfig(ROOM, { announcement: true, unsafe: 'anonymous' }, 3_000)).toEqual({
        announcement: false,
        unsafe: true,
      });
      expect(store.rooms.setConfig(ROOM, { announcement: true, unsafe: 'open,anonymous' }, 4_000).unsafe).toBe(true);
      expect(store.rooms.get(ROOM)).toMatchObject({ announcement: true, unsafe: 'open,anonymous', unsafeAt: 3_000 });
      expect(store.conversations.summary(room.conversationId)?.room).toMatchObject({
        announcement: true,
        unsafe: ['open', 'anonymous'],
      });
      // Safe again: the row says so, and a later break starts its own time.
      expect(store.rooms.setConfig(ROOM, { announcement: true, unsafe: null }, 5_000).unsafe).toBe(true);
      expect(store.rooms.get(ROOM)).toMatchObject({ unsafe: null, unsafeAt: null });
      expect(store.conversations.summary(room.conversationId)?.room?.unsafe).toBeUndefined();
      store.rooms.setConfig(ROOM, { announcement: false, unsafe: 'open' }, 6_000);
      expect(store.rooms.get(ROOM)).toMatchObject({ announcement: false, unsafe: 'open', unsafeAt: 6_000 });
      expect(store.conversations.summary(room.conversationId)?.room?.announcement).toBeUndefined();
      // A room the store does not know: nothing.
      expect(store.rooms.setConfig('other@rooms.clinic.example', { announcement: true, unsafe: 'open' }, 1)).toEqual({
        announcement: false,
        unsafe: false,
      });
    } finally {
      await store.close();
    }
  });
});

describe('room settings in the audit log, in words', () => {
  const nameOf = (jid: string) => jid;
  it('says what an unsafe room no longer keeps, when it is safe again, and announcement rooms', () => {
    expect(
      auditSentence(
        { type: 'room-policy', detail: { room: ROOM, change: 'unsafe', problems: 'open,anonymous' } },
        nameOf,
      ),
    ).toBe(
      `Stopped sending to ${ROOM} and accepting its messages: people who are not on its member list can join it and it no longer shows who wrote each message`,
    );
    expect(auditSentence({ type: 'room-policy', detail: { room: ROOM, change: 'safe' } }, nameOf)).toContain(
      'keeps the clinic’s rules again',
    );
    expect(
      auditSentence(
        { type: 'room-policy', detail: { room: ROOM, change: 'announcement', announcement: true } },
        nameOf,
      ),
    ).toBe(`Care-team room ${ROOM} is an announcement room: only its owners post`);
    expect(
      auditSentence(
        { type: 'room-policy', detail: { room: ROOM, change: 'announcement', announcement: false } },
        nameOf,
      ),
    ).toContain('no longer an announcement room');
  });
});

describe('the test-only hostile room module (test/support/prosody-modules)', () => {
  const site = {
    domain: 'clinic.test',
    interfaces: ['127.0.0.1'],
    c2sPort: 15222,
    directTlsPort: 15223,
    httpPort: 15280,
    httpsPort: 15281,
    dataPath: '/tmp/x/data',
    certificates: '/tmp/x/certs',
    groupsFile: '/tmp/x/groups.txt',
    pidfile: '/tmp/x/p.pid',
    logFile: '/tmp/x/p.log',
    componentPort: 15347,
    componentSecret: 'test-component-secret',
  };

  it('is loaded on the rooms component only when a test asks; production and deploy/ never name it', () => {
    const prod = readProductionConfig();
    expect(prod).not.toContain('muc_test_hostile_room');
    expect(existsSync(join(clinicModulesPath, 'mod_muc_test_hostile_room.lua'))).toBe(false);
    expect(existsSync(join(testModulesPath, 'mod_muc_test_hostile_room.lua'))).toBe(true);
    expect(renderTestConfig(prod, site, { runAsRoot: true })).not.toContain('muc_test_hostile_room');
    const hostile = renderTestConfig(prod, site, { runAsRoot: true, mucModules: ['muc_test_hostile_room'] });
    const muc = hostile.slice(hostile.indexOf('Component "rooms.clinic.test" "muc"'));
    expect(muc).toMatch(/^\tmodules_enabled = \{ "muc_test_hostile_room"; "muc_mam";/m);
    expect(hostile).toContain(
      `plugin_paths = { ${JSON.stringify(clinicModulesPath)}; ${JSON.stringify(testModulesPath)} } -- test variant`,
    );
  });
});
