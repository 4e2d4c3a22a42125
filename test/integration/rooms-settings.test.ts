/**
 * A care-team room's settings over a real Prosody (issue 18 §4 announcement rooms, §5 a room that
 * turns itself open or anonymous), with three workstations (receptionist, physician, nurse) on
 * their real stores and keys.
 *
 * Announcement room: deploy/prosody's mod_muc_clinic_policy refuses a post from anyone but an
 * owner; the workstations know the room is one (its disco#info), refuse to send unless they are an
 * owner, and refuse a non-owner's message on receipt — shown here with a server that passes such a
 * post on anyway.
 *
 * A hostile room: the production policy module refuses every weakening configuration, so these
 * tests also load the TEST-ONLY module test/support/prosody-modules/mod_muc_test_hostile_room.lua on
 * the MUC component. A configuration form carrying its marker field is applied by mod_muc itself,
 * past the policy: the room really becomes semi-anonymous or open and Prosody announces it (status
 * 173, 104; 172 and 104 on the way back); "silent" changes it without a word, for the re-read before
 * each send; and a groupchat message carrying its <let-through/> element skips the announcement
 * check (a server that does not enforce it). What is checked is each workstation's reaction.
 */
import { randomUUID } from 'node:crypto';
import { xml } from '@xmpp/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityAsContact, loadIdentity, type Identity } from '../../main/crypto';
import { signcryptForRoom } from '../../main/crypto/room-message';
import { IDENTITY_SETTING } from '../../main/xmpp/account-key';
import { ANNOUNCEMENT_FEATURE } from '../../main/xmpp/room-config';
import { ANNOUNCEMENT_FIELD } from '../../main/xmpp/room-setup';
import { NS } from '../../main/xmpp/stanzas';
import {
  configureRoom,
  createRoom,
  joinRoom,
  mucPerson,
  refusedWith,
  roomFeatures,
  setAffiliations,
  type MucPerson,
} from '../support/muc-support';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { auditTypes, makeClient, messagesWith, waitFor, type TestClient } from '../support/xmpp-support';

const ADMIN = 'it-admin@clinic.test';
const RITA = 'rita@clinic.test'; // receptionist: a member
const PAUL = 'paul@clinic.test'; // physician: the announcement room's owner
const NINA = 'nina@clinic.test'; // nurse: a member
const pw = (jid: string) => `${jid.split('@')[0]}-password-1`;
const NAMES: Record<string, string> = {
  [RITA]: 'Rita Reyes',
  [PAUL]: 'Paul Park',
  [NINA]: 'Nina Novak',
  [ADMIN]: 'IT',
};
/** mod_muc_test_hostile_room (test only): the marker field and element. */
const HOSTILE_FIELD = '{urn:clinic-messenger:test}hostile';
const TEST_NS = 'urn:clinic-messenger:test';
const STANZAS_NS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

const identityOf = (c: TestClient): Promise<Identity> =>
  loadIdentity(c.store.getSetting<{ armoredSecretKey: string }>(IDENTITY_SETTING)!.armoredSecretKey);
const rejections = (c: TestClient, reason: string) =>
  auditTypes(c).filter((a) => a.type === 'message-rejected' && a.detail.reason === reason);
/** The room's room-policy audit entries, newest first. */
const policyAudit = (c: TestClient, room: string) =>
  auditTypes(c).filter((a) => a.type === 'room-policy' && a.detail.room === room);

describe('care-team room settings, live', () => {
  let server: ProsodyServer;
  let admin: MucPerson;
  let news: string; // the announcement room
  let care: string; // an ordinary room that the hostile server will weaken
  let rita: TestClient;
  let paul: TestClient;
  let nina: TestClient;
  const raws: MucPerson[] = [];

  const conv = (c: TestClient, room: string) => c.store.rooms.get(room)!.conversationId;
  const inRoom = (c: TestClient, room: string) => messagesWith(c, room);
  /** A message signed by `from`'s real key and encrypted to the three members, as their app would. */
  async function signedBy(from: TestClient, room: string, body: string): Promise<string> {
    const keys = await Promise.all([rita, paul, nina].map(async (c) => identityAsContact(await identityOf(c))));
    const out = await signcryptForRoom({
      identity: await identityOf(from),
      room,
      members: [rita, paul, nina].map((c, i) => ({ jid: c.jid, key: c === from ? null : keys[i]! })),
      body,
      now: new Date(),
    });
    return out.base64;
  }
  const roomPost = (room: string, base64: string, ...extra: ReturnType<typeof xml>[]) => {
    const id = randomUUID();
    return xml(
      'message',
      { to: room, type: 'groupchat', id },
      xml('openpgp', { xmlns: NS.ox }, base64),
      xml('origin-id', { xmlns: NS.sid, id }),
      ...extra,
    );
  };
  async function rawIn(jid: string, room: string, nick: string): Promise<MucPerson> {
    const p = await mucPerson(server, jid, pw(jid), `raw-${randomUUID().slice(0, 8)}`);
    raws.push(p);
    expect((await joinRoom(p, room, nick)).ok).toBe(true);
    return p;
  }
  /** IT, as a server that does not keep the clinic's policy would let it (the test-only module). */
  const weaken = (room: string, fields: Record<string, string>, how: '1' | 'silent' = '1') =>
    configureRoom(admin, room, { [HOSTILE_FIELD]: how, ...fields });

  beforeAll(async () => {
    server = await startProsody({
      users: [ADMIN, RITA, PAUL, NINA].map((jid) => ({ jid, password: pw(jid), name: NAMES[jid]! })),
      admins: [ADMIN],
      mucTestModules: ['muc_test_hostile_room'],
    });
    news = `news@${server.rooms}`;
    care = `care-team@${server.rooms}`;
    admin = await mucPerson(server, ADMIN, pw(ADMIN));
    await createRoom(admin, news, 'IT', [RITA, NINA]);
    await setAffiliations(admin, news, { [PAUL]: 'owner' });
    await configureRoom(admin, news, { [ANNOUNCEMENT_FIELD]: '1' });
    await createRoom(admin, care, 'IT', [RITA, PAUL, NINA]);
    [rita, paul, nina] = (await Promise.all([RITA, PAUL, NINA].map((jid) => makeClient(server, jid, pw(jid))))) as [
      TestClient,
      TestClient,
      TestClient,
    ];
    for (const c of [rita, paul, nina]) await c.messaging.inspect.settled();
    for (const c of [rita, paul, nina])
      for (const room of [news, care])
        await waitFor(`${c.jid} in ${room}`, () => c.store.rooms.get(room)?.joinedAt != null);
  });
  afterAll(async () => {
    await Promise.all([admin, ...raws].filter(Boolean).map((p) => p.stop()));
    await Promise.all([rita, paul, nina].filter(Boolean).map((c) => c.close()));
    await server?.stop();
  });

  describe('an announcement room', () => {
    it('the server: only an owner posts; a member’s post is refused, a read marker passes; members cannot change it', async () => {
      expect(await roomFeatures(admin, news)).toContain(ANNOUNCEMENT_FEATURE);
      expect(await roomFeatures(admin, care)).not.toContain(ANNOUNCEMENT_FEATURE);
      const ritaRaw = await rawIn(RITA, news, 'rita-raw');
      const post = roomPost(news, 'QUJD');
      await ritaRaw.conn.send(post);
      const bounce = await waitFor('the room refuses the post', () =>
        ritaRaw.seen.find((el) => el.is('message') && el.attrs.type === 'error' && el.attrs.id === post.attrs.id),
      );
      expect(bounce.getChild('error')?.getChild('forbidden', STANZAS_NS)).toBeDefined();
      // A chat marker alone is not a post: the room passes it on (here: back to its sender).
      const id = randomUUID();
      await ritaRaw.conn.send(
        xml(
          'message',
          { to: news, type: 'groupchat', id },
          xml('displayed', { xmlns: 'urn:xmpp:chat-markers:0', id: 'some-stanza-id' }),
        ),
      );
      await waitFor('the marker comes back', () =>
        ritaRaw.seen.find((el) => el.is('message') && el.attrs.type === 'groupchat' && el.attrs.id === id),
      );
      // Only owners configure a room (XEP-0045), and members are not owners.
      expect(await refusedWith(configureRoom(ritaRaw, news, { [ANNOUNCEMENT_FIELD]: '0' }))).toBe('forbidden');
      expect(await roomFeatures(admin, news)).toContain(ANNOUNCEMENT_FEATURE);
    });

    it('every workstation knows it; a member’s send is refused before anything is stored, the owner’s arrives', async () => {
      for (const c of [rita, paul, nina]) {
        expect(c.store.rooms.get(news)).toMatchObject({ announcement: true, unsafe: null });
        expect(c.store.conversations.summary(conv(c, news))?.room?.announcement).toBe(true);
        expect(policyAudit(c, news).map((a) => a.detail)).toEqual([
          { room: news, change: 'announcement', announcement: true },
        ]);
      }
      const before = inRoom(rita, news).length;
      const err = await rita.messaging.send(conv(rita, news), 'Can I swap shifts?').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ROOM_OWNERS_ONLY' });
      expect(inRoom(rita, news)).toHaveLength(before);

      const sent = await paul.messaging.send(conv(paul, news), 'The clinic closes at 2 pm on Friday.');
      for (const c of [rita, nina]) {
        const got = await waitFor(`${c.jid} receives it`, () =>
          inRoom(c, news).find((m) => m.originId === sent.originId && m.body),
        );
        expect(got).toMatchObject({ senderJid: PAUL, direction: 'in', body: 'The clinic closes at 2 pm on Friday.' });
      }
    });

    it('a member’s post that the server passes on anyway is refused on every workstation (not-owner) and audited', async () => {
      const ritaRaw = raws[0]!;
      const base64 = await signedBy(rita, news, 'All staff: free lunch today.');
      // mod_muc_test_hostile_room broadcasts (and archives) it without the announcement check.
      await ritaRaw.conn.send(roomPost(news, base64, xml('let-through', { xmlns: TEST_NS })));
      for (const c of [paul, nina]) {
        const refused = await waitFor(`${c.jid} refuses it`, () => rejections(c, 'not-owner')[0]);
        expect(refused.detail).toMatchObject({ peer: news, from: RITA, direction: 'in' });
        expect(inRoom(c, news).some((m) => m.body === 'All staff: free lunch today.')).toBe(false);
      }
    });

    it('IT turns it off and on again: every workstation learns it live (status 104); the member posts only meanwhile', async () => {
      await configureRoom(admin, news, { [ANNOUNCEMENT_FIELD]: '0' });
      for (const c of [rita, paul, nina])
        await waitFor(`${c.jid} learns it is open to every member`, () => !c.store.rooms.get(news)!.announcement);
      const sent = await rita.messaging.send(conv(rita, news), 'Thanks, noted.');
      await waitFor('paul receives it', () => inRoom(paul, news).find((m) => m.originId === sent.originId && m.body));
      expect(policyAudit(rita, news)[0]?.detail).toEqual({
        room: news,
        change: 'announcement',
        announcement: false,
      });

      await configureRoom(admin, news, { [ANNOUNCEMENT_FIELD]: '1' });
      await waitFor('rita learns it is an announcement room again', () => rita.store.rooms.get(news)!.announcement);
      const err = await rita.messaging.send(conv(rita, news), 'One more thing.').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ROOM_OWNERS_ONLY' });
    });
    it('a post the room refuses although the settings read just before allowed it is marked failed, with the reason', async () => {
      await configureRoom(admin, news, { [ANNOUNCEMENT_FIELD]: '0' });
      await waitFor('rita learns it is open to every member', () => !rita.store.rooms.get(news)!.announcement);
      // An announcement room again, unannounced, and the next read of its disco#info leaves it out:
      // Rita's attempt reads "not an announcement room", sends, and the room bounces it <forbidden/>.
      await configureRoom(admin, news, {
        [HOSTILE_FIELD]: 'silent',
        [ANNOUNCEMENT_FIELD]: '1',
        '{urn:clinic-messenger:test}hide-announcement': '1',
      });
      const queued = await rita.messaging.send(conv(rita, news), 'Is the staff meeting still on?');
      const failed = await waitFor('it fails', () => {
        const m = rita.store.messages.get(queued.id);
        return m?.state === 'failed' && m;
      });
      expect(failed.failure).toBe('ROOM_OWNERS_ONLY');
      expect(rita.store.rooms.get(news)!.announcement).toBe(true);
      expect(inRoom(paul, news).some((m) => m.originId === queued.originId)).toBe(false);
    });
  });

  describe('a room that turns itself anonymous or open', () => {
    it('made semi-anonymous (status 173): every workstation marks it unsafe, refuses to send and refuses its messages', async () => {
      // Paul's second connection is in the room before the change: Rita knows its real JID.
      const paulRaw = await rawIn(PAUL, care, 'paul-2');
      await waitFor('the room is usable', () => rita.store.rooms.get(care)?.unsafe === null);
      await weaken(care, { 'muc#roomconfig_whois': 'moderators' });
      for (const c of [rita, paul, nina]) {
        await waitFor(`${c.jid} marks it unsafe`, () => c.store.rooms.get(care)?.unsafe === 'anonymous');
        expect(policyAudit(c, care)[0]?.detail).toEqual({ room: care, change: 'unsafe', problems: 'anonymous' });
        expect(c.store.conversations.summary(conv(c, care))?.room?.unsafe).toEqual(['anonymous']);
      }
      const before = inRoom(rita, care).length;
      const err = await rita.messaging.send(conv(rita, care), 'Bed 4 needs a wound check.').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ROOM_UNSAFE' });
      expect((err as Error).message).toContain('no longer shows who wrote each message');
      expect(inRoom(rita, care)).toHaveLength(before);
      // A member's properly signed message through the now anonymous room: refused all the same.
      await paulRaw.conn.send(roomPost(care, await signedBy(paul, care, 'Patient in bed 2 is diabetic.')));
      for (const c of [rita, nina]) {
        const refused = await waitFor(`${c.jid} refuses it`, () => rejections(c, 'room-unsafe')[0]);
        expect(refused.detail).toMatchObject({ peer: care, from: PAUL });
        expect(inRoom(c, care).some((m) => m.body === 'Patient in bed 2 is diabetic.')).toBe(false);
      }
    });

    it('changed back (status 172): safe again, audited, and sending goes on', async () => {
      await weaken(care, { 'muc#roomconfig_whois': 'anyone' });
      for (const c of [rita, paul, nina]) {
        await waitFor(`${c.jid} marks it safe`, () => c.store.rooms.get(care)?.unsafe === null);
        expect(policyAudit(c, care)[0]?.detail).toEqual({ room: care, change: 'safe' });
      }
      const sent = await rita.messaging.send(conv(rita, care), 'Bed 4 needs a wound check.');
      for (const c of [paul, nina])
        await waitFor(`${c.jid} receives it`, () =>
          inRoom(c, care).find((m) => m.originId === sent.originId && m.body),
        );
    });

    it('made open (status 104) and closed again: unsafe, then safe', async () => {
      await weaken(care, { 'muc#roomconfig_membersonly': '0' });
      await waitFor('nina marks it open', () => nina.store.rooms.get(care)?.unsafe === 'open');
      const err = await nina.messaging.send(conv(nina, care), 'Anyone there?').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ROOM_UNSAFE' });
      await weaken(care, { 'muc#roomconfig_membersonly': '1' });
      await waitFor('nina marks it safe', () => nina.store.rooms.get(care)?.unsafe === null);
    });

    it('a change nobody announced is found by the next send attempt: the message fails; fixed, Retry sends it', async () => {
      await weaken(care, { 'muc#roomconfig_whois': 'moderators' }, 'silent');
      expect(await roomFeatures(admin, care)).toContain('muc_semianonymous');
      const queued = await rita.messaging.send(conv(rita, care), 'Lab results are back for bed 6.');
      const failed = await waitFor('it fails', () => {
        const m = rita.store.messages.get(queued.id);
        return m?.state === 'failed' && m;
      });
      expect(failed.failure).toBe('ROOM_UNSAFE');
      expect(rita.store.rooms.get(care)?.unsafe).toBe('anonymous');

      await weaken(care, { 'muc#roomconfig_whois': 'anyone' }, 'silent');
      await rita.messaging.retry(queued.id);
      await waitFor('paul receives it', () => inRoom(paul, care).find((m) => m.originId === queued.originId && m.body));
      expect(rita.store.rooms.get(care)?.unsafe).toBeNull();
    });

    it('unsafe at sign-in: not joined; once fixed, the next send joins it and goes out', async () => {
      await nina.messaging.stop();
      await weaken(care, { 'muc#roomconfig_whois': 'moderators' }, 'silent');
      await nina.restart();
      await nina.messaging.inspect.settled();
      expect(nina.store.rooms.get(care)?.unsafe).toBe('anonymous');
      await weaken(care, { 'muc#roomconfig_whois': 'anyone' }, 'silent');
      // The stored state says unsafe; the send reads the room again, joins it and sends.
      const sent = await nina.messaging.send(conv(nina, care), 'Back on the ward.');
      await waitFor('rita receives it', () => inRoom(rita, care).find((m) => m.originId === sent.originId && m.body));
      expect(nina.store.rooms.get(care)?.unsafe).toBeNull();
    });
  });
});
