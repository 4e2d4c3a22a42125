/**
 * Care-team rooms on the clinic's server (issue 18 item 1): the MUC component of
 * deploy/prosody/prosody.cfg.lua, with mod_muc_clinic_policy from deploy/prosody/modules, on a
 * real Prosody started from that file. Only an admin creates rooms; a room is members-only,
 * non-anonymous, persistent, unlisted and archived; its member list is its affiliation list;
 * nobody — member, owner or admin — can weaken it; it and its archive survive a restart.
 */
import { xml } from '@xmpp/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  affiliated,
  configureRoom,
  createRoom,
  joinRoom,
  MUC_USER_NS,
  mucPerson,
  refusedWith,
  roomArchiveBodies,
  roomFeatures,
  setAffiliations,
  type MucPerson,
} from '../support/muc-support';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { waitFor } from '../support/xmpp-support';

const ADMIN = 'it-admin@clinic.test';
const ALICE = 'alice@clinic.test';
const BOB = 'bob@clinic.test';
const EVE = 'eve@clinic.test';
const pw = (jid: string) => `${jid.split('@')[0]}-password-1`;

/** What every care-team room must advertise (XEP-0045 §15.2 disco features, XEP-0313 for rooms). */
const POLICY_FEATURES = ['muc_membersonly', 'muc_nonanonymous', 'muc_persistent', 'muc_hidden', 'urn:xmpp:mam:2'];

describe('care-team rooms on Prosody (deploy/prosody)', () => {
  let server: ProsodyServer;
  let admin: MucPerson;
  let alice: MucPerson;
  let bob: MucPerson;
  let eve: MucPerson;
  let room: string;

  async function connectAll(): Promise<void> {
    const people = await Promise.all([ADMIN, ALICE, BOB, EVE].map((jid) => mucPerson(server, jid, pw(jid))));
    [admin, alice, bob, eve] = people as [MucPerson, MucPerson, MucPerson, MucPerson];
  }

  beforeAll(async () => {
    server = await startProsody({
      users: [ADMIN, ALICE, BOB, EVE].map((jid) => ({ jid, password: pw(jid), name: jid })),
      admins: [ADMIN],
    });
    room = `care-team@${server.rooms}`;
    await connectAll();
  });
  afterAll(async () => {
    await Promise.all([admin, alice, bob, eve].map((p) => p?.stop()));
    await server?.stop();
  });

  it('only an admin creates a room; it is members-only, non-anonymous, persistent, unlisted and archived', async () => {
    // A colleague who is not an admin cannot create one.
    expect(await joinRoom(eve, `eves-room@${server.rooms}`, 'Eve')).toEqual({ ok: false, condition: 'not-allowed' });

    await createRoom(admin, room, 'IT', [ALICE, BOB]);
    const features = await roomFeatures(alice, room);
    expect(features).toEqual(expect.arrayContaining(POLICY_FEATURES));
    expect(features).not.toContain('muc_open');
    expect(features).not.toContain('muc_semianonymous');
    expect(features).not.toContain('muc_public');
    expect(await affiliated(admin, room, 'member')).toEqual([ALICE, BOB]);
    // IT created it and can manage it (admins own every room) but is not on its list: the list is
    // whose key each message is encrypted to.
    expect(await affiliated(admin, room, 'owner')).toEqual([]);
  });

  it('the member list is the affiliation list: an outsider is refused, members join and see real JIDs', async () => {
    expect(await joinRoom(eve, room, 'Eve')).toEqual({ ok: false, condition: 'registration-required' });

    const a = await joinRoom(alice, room, 'Alice');
    expect(a.ok).toBe(true);
    // 100: every occupant can see every occupant's real JID.
    expect(a.ok && a.codes).toContain('100');
    const from = bob.seen.length;
    expect((await joinRoom(bob, room, 'Bob')).ok).toBe(true);
    const aliceSeen = await waitFor('alice in the room, as bob sees her', () =>
      bob.seen.slice(from).find((el) => el.is('presence') && el.attrs.from === `${room}/Alice`),
    );
    expect(aliceSeen.getChild('x', MUC_USER_NS)?.getChild('item')?.attrs.jid).toMatch(new RegExp(`^${ALICE}/`));
  });

  it('nobody weakens the room: a member is forbidden, an owner and the admin are refused by policy', async () => {
    // A member cannot configure at all (XEP-0045: owners only), nor invite an outsider in; a
    // weakening form is refused by the policy before that.
    expect(await refusedWith(configureRoom(alice, room, { 'muc#roomconfig_roomname': 'Mine' }))).toBe('forbidden');
    expect(await refusedWith(configureRoom(alice, room, { 'muc#roomconfig_membersonly': '0' }))).toBe('not-allowed');
    await alice.conn.send(xml('message', { to: room }, xml('x', { xmlns: MUC_USER_NS }, xml('invite', { to: EVE }))));
    await setAffiliations(admin, room, { [BOB]: 'owner' });
    const weakening: Record<string, string>[] = [
      { 'muc#roomconfig_membersonly': '0' },
      { 'muc#roomconfig_membersonly': 'false' },
      { 'muc#roomconfig_whois': 'moderators' },
      { 'muc#roomconfig_publicroom': '1' },
      { 'muc#roomconfig_persistentroom': '0' },
      { '{http://prosody.im/protocol/muc}roomconfig_allowmemberinvites': '1' },
      { 'muc#roomconfig_enablearchiving': '0' },
      // A harmless field beside a weakening one: the whole form is refused.
      { 'muc#roomconfig_roomname': 'Ward 1', 'muc#roomconfig_membersonly': '0' },
    ];
    for (const fields of weakening) {
      expect(await refusedWith(configureRoom(bob, room, fields)), JSON.stringify(fields)).toBe('not-allowed');
      expect(await refusedWith(configureRoom(admin, room, fields)), JSON.stringify(fields)).toBe('not-allowed');
    }
    // Changes within the policy still work.
    expect(
      await refusedWith(
        configureRoom(bob, room, { 'muc#roomconfig_roomname': 'Ward 1', 'muc#roomconfig_membersonly': '1' }),
      ),
    ).toBe('accepted');

    expect(await roomFeatures(eve, room)).toEqual(expect.arrayContaining(POLICY_FEATURES));
    expect(await affiliated(admin, room, 'member')).toEqual([ALICE]);
    expect(await joinRoom(eve, room, 'Eve')).toEqual({ ok: false, condition: 'registration-required' });
  });

  it('room messages are archived; the room, its members and its archive survive a restart', async () => {
    await alice.conn.send(xml('message', { to: room, type: 'groupchat' }, xml('body', {}, 'room archive check')));
    await waitFor('bob receives the room message', () =>
      bob.seen.find((el) => el.is('message') && el.attrs.from === `${room}/Alice` && el.getChildText('body')),
    );
    expect(await roomArchiveBodies(bob, room)).toEqual(['room archive check']);
    // An outsider cannot read the archive of a members-only room.
    expect(await refusedWith(roomArchiveBodies(eve, room))).toBe('forbidden');

    await Promise.all([admin, alice, bob, eve].map((p) => p.stop()));
    await server.restart();
    await connectAll();
    expect(await roomFeatures(bob, room)).toEqual(expect.arrayContaining(POLICY_FEATURES));
    expect(await affiliated(admin, room, 'member')).toEqual([ALICE]);
    expect(await affiliated(admin, room, 'owner')).toEqual([BOB]);
    expect(await joinRoom(eve, room, 'Eve')).toEqual({ ok: false, condition: 'registration-required' });
    expect((await joinRoom(alice, room, 'Alice')).ok).toBe(true);
    expect(await roomArchiveBodies(alice, room)).toEqual(['room archive check']);
  });
});
