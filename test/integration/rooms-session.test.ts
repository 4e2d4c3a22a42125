/**
 * Care-team rooms in the app's messaging service over a real Prosody (issue 18 items 2–3): three
 * workstations (receptionist, physician, nurse) with their real stores and keys. At sign-in each
 * finds the room that lists it as a member (mod_muc_clinic_policy's node), reads the member list
 * and joins. A message goes through the outbox, encrypted once to the members' pinned keys, and
 * arrives once on every member's workstation with its real sender; the sender's reflected copy is
 * not stored twice. Hostile input is refused and audited: a non-member signer (IT, who owns every
 * room by server policy but is on no member list), a member who replays another member's message
 * under a lookalike nick, a private message through the room, an altered reflection of our own
 * message. A member whose key changed blocks sending; a member without a key makes the message
 * fail (never plaintext); a workstation that was away catches up from the room's archive once;
 * a removed member gets nothing from then on.
 */
import { randomUUID } from 'node:crypto';
import { xml } from '@xmpp/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityAsContact, loadIdentity, type Identity } from '../../main/crypto';
import { signcryptForRoom } from '../../main/crypto/room-message';
import { IDENTITY_SETTING } from '../../main/xmpp/account-key';
import { readRoomMessage, roomMessageStanza } from '../../main/xmpp/room-stanzas';
import { NS } from '../../main/xmpp/stanzas';
import { makeParty } from '../support/crypto-fixtures';
import { createRoom, joinRoom, mucPerson, setAffiliations, type MucPerson } from '../support/muc-support';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { auditTypes, makeClient, messagesWith, waitFor, type TestClient } from '../support/xmpp-support';

const ADMIN = 'it-admin@clinic.test';
const RITA = 'rita@clinic.test'; // receptionist
const PAUL = 'paul@clinic.test'; // physician
const NINA = 'nina@clinic.test'; // nurse
const EVE = 'eve@clinic.test'; // a new hire who has never signed in (no key)
const pw = (jid: string) => `${jid.split('@')[0]}-password-1`;
const NAMES: Record<string, string> = {
  [RITA]: 'Rita Reyes',
  [PAUL]: 'Paul Park',
  [NINA]: 'Nina Novak',
  [EVE]: 'Eve Evans',
  [ADMIN]: 'IT',
};

const identityOf = (c: TestClient): Promise<Identity> =>
  loadIdentity(c.store.getSetting<{ armoredSecretKey: string }>(IDENTITY_SETTING)!.armoredSecretKey);
const rejections = (c: TestClient, reason: string) =>
  auditTypes(c).filter((a) => a.type === 'message-rejected' && a.detail.reason === reason);

describe('care-team rooms in the messaging service', () => {
  let server: ProsodyServer;
  let admin: MucPerson;
  let room: string;
  let rita: TestClient;
  let paul: TestClient;
  let nina: TestClient;
  const raws: MucPerson[] = [];

  const roomConv = (c: TestClient) => c.store.rooms.get(room)!.conversationId;
  const inRoom = (c: TestClient) => messagesWith(c, room);

  beforeAll(async () => {
    server = await startProsody({
      users: [ADMIN, RITA, PAUL, NINA, EVE].map((jid) => ({ jid, password: pw(jid), name: NAMES[jid]! })),
      admins: [ADMIN],
    });
    room = `care-team@${server.rooms}`;
    admin = await mucPerson(server, ADMIN, pw(ADMIN));
    await createRoom(admin, room, 'IT', [RITA, PAUL, NINA]);
    [rita, paul, nina] = (await Promise.all([RITA, PAUL, NINA].map((jid) => makeClient(server, jid, pw(jid))))) as [
      TestClient,
      TestClient,
      TestClient,
    ];
    for (const c of [rita, paul, nina]) await c.messaging.inspect.settled();
  });
  afterAll(async () => {
    await Promise.all([admin, ...raws].filter(Boolean).map((p) => p.stop()));
    await Promise.all([rita, paul, nina].filter(Boolean).map((c) => c.close()));
    await server?.stop();
  });

  it('each workstation finds the room that lists it, reads its member list and joins (audited)', async () => {
    for (const c of [rita, paul, nina]) {
      const r = await waitFor(
        `${c.jid} joined`,
        () => c.store.rooms.get(room)?.joinedAt != null && c.store.rooms.get(room),
      );
      expect(r.leftAt).toBeNull();
      expect(c.store.rooms.members(room).map((m) => m.jid)).toEqual([NINA, PAUL, RITA]);
      const joined = auditTypes(c).filter((a) => a.type === 'room-membership' && a.detail.change === 'joined');
      expect(joined.map((a) => a.detail.jid)).toEqual([c.jid]);
      // IT owns every room by server policy but is on no member list.
      expect(c.store.rooms.members(room).some((m) => m.jid === ADMIN)).toBe(false);
    }
  });

  it('a message arrives once on every member’s workstation with its real sender; the sender keeps one copy', async () => {
    const sent = await rita.messaging.send(roomConv(rita), 'Mrs Lee has arrived for her 10:30.');
    expect(sent.state).toBe('queued');
    for (const c of [paul, nina]) {
      const got = await waitFor(`${c.jid} receives it`, () => inRoom(c).find((m) => m.originId === sent.originId));
      expect(got).toMatchObject({ body: 'Mrs Lee has arrived for her 10:30.', senderJid: RITA, direction: 'in' });
      expect(auditTypes(c).some((a) => a.type === 'message-received' && a.detail.from === RITA)).toBe(true);
    }
    await waitFor('rita sees it sent', () => rita.store.messages.get(sent.id)?.state === 'sent');
    // The room reflects her message before Nina's reply (room order, handled in arrival order):
    // once the reply is here, the reflection was checked — and not stored again.
    const reply = await nina.messaging.send(roomConv(nina), 'Room 2 is ready for her.');
    await waitFor('rita gets the reply', () => inRoom(rita).find((m) => m.originId === reply.originId && m.body));
    expect(inRoom(rita).filter((m) => m.originId === sent.originId)).toHaveLength(1);
    expect(rejections(rita, 'altered-reflection')).toEqual([]);
    // Search covers rooms.
    const hits = await rita.store.background.search('arrived', { cursor: null, limit: 5 });
    expect(hits.items.map((h) => h.messageId)).toContain(sent.id);
  });

  it('a non-member signer (IT, owner by server policy) is refused and audited', async () => {
    const it = await makeParty(ADMIN);
    const before = inRoom(paul).length;
    const out = await signcryptForRoom({
      identity: it.identity,
      room,
      members: [
        { jid: ADMIN, key: null },
        { jid: PAUL, key: identityAsContact(await identityOf(paul)) },
      ],
      body: 'Please share your passwords.',
      now: new Date(),
    });
    await admin.conn.sendAcked(roomMessageStanza(room, randomUUID(), out.base64));
    const refused = await waitFor('paul refuses it', () => rejections(paul, 'not-member')[0]);
    expect(refused.detail).toMatchObject({ peer: room, from: ADMIN });
    expect(
      inRoom(paul)
        .slice(before)
        .every((m) => m.body === null && m.state === 'unverified'),
    ).toBe(true);
  });

  it('a member replaying another member’s message under a lookalike nick is refused (wrong signer) and audited', async () => {
    const ninaRaw = await mucPerson(server, NINA, pw(NINA), 'raw');
    raws.push(ninaRaw);
    expect((await joinRoom(ninaRaw, room, 'Dr Paul')).ok).toBe(true);
    const sent = await paul.messaging.send(roomConv(paul), 'Start the 2nd dose at noon.');
    const seen = await waitFor('the raw copy', () =>
      ninaRaw.seen.map(readRoomMessage).find((m) => m?.originId === sent.originId),
    );
    await waitFor('rita has paul’s message', () => inRoom(rita).find((m) => m.originId === sent.originId && m.body));
    // Paul's signed payload, resent by Nina as "Dr Paul" under a fresh id.
    await ninaRaw.conn.sendAcked(roomMessageStanza(room, randomUUID(), seen.base64));
    const refused = await waitFor('rita refuses it', () => rejections(rita, 'wrong-signer')[0]);
    expect(refused.detail).toMatchObject({ peer: room, from: NINA });
    expect(inRoom(rita).filter((m) => m.body === 'Start the 2nd dose at noon.')).toHaveLength(1);
  });

  it('a private message through the room is refused and audited', async () => {
    const ninaRaw = raws[0]!;
    await ninaRaw.conn.send(
      xml(
        'message',
        { to: `${room}/rita`, type: 'chat', id: randomUUID() },
        xml('openpgp', { xmlns: NS.ox }, 'AAAA'),
        xml('body', {}, 'This message is encrypted.'),
      ),
    );
    const refused = await waitFor('rita refuses it', () => rejections(rita, 'private-through-room')[0]);
    expect(refused.detail).toMatchObject({ peer: room, from: NINA });
  });

  it('an altered reflection of our own message is refused and audited; our copy stays as written', async () => {
    const sent = await rita.messaging.send(roomConv(rita), 'Dr Park is running 20 minutes late.');
    await waitFor('sent', () => rita.store.messages.get(sent.id)?.state === 'sent');
    // Another connection of Rita's account echoes her origin-id with other content.
    const ritaRaw = await mucPerson(server, RITA, pw(RITA), 'raw');
    raws.push(ritaRaw);
    expect((await joinRoom(ritaRaw, room, 'rita-2')).ok).toBe(true);
    const out = await signcryptForRoom({
      identity: await identityOf(rita),
      room,
      members: [{ jid: RITA, key: null }],
      body: 'Dr Park cancelled all appointments.',
      now: new Date(),
    });
    await ritaRaw.conn.sendAcked(roomMessageStanza(room, sent.originId!, out.base64));
    const refused = await waitFor('rita refuses it', () => rejections(rita, 'altered-reflection')[0]);
    expect(refused.detail).toMatchObject({ messageId: sent.id, peer: room });
    expect(rita.store.messages.get(sent.id)?.body).toBe('Dr Park is running 20 minutes late.');
  });

  it('a member whose key changed blocks sending until acknowledged; nothing is stored', async () => {
    const c = rita.store.contacts.get(PAUL)!;
    rita.store.contacts.setKey(PAUL, { trust: 'changed', pendingFingerprint: 'F'.repeat(40) });
    const before = inRoom(rita).length;
    const err = await rita.messaging.send(roomConv(rita), 'Lab results are back.').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'KEY_CHANGED' });
    expect((err as Error).message).toContain('Paul Park');
    expect(inRoom(rita)).toHaveLength(before);
    rita.store.contacts.setKey(PAUL, { trust: c.trust, pendingFingerprint: null });
  });

  it('a member without a usable key makes the message fail, named; nothing goes out', async () => {
    await setAffiliations(admin, room, { [EVE]: 'member' });
    const sent = await rita.messaging.send(roomConv(rita), 'Bed 4 needs a wound check.');
    const failed = await waitFor('it fails', () => {
      const m = rita.store.messages.get(sent.id);
      return m?.state === 'failed' && m;
    });
    expect(failed.failure).toBe('KEY_UNAVAILABLE');
    await new Promise((r) => setTimeout(r, 300));
    expect(inRoom(paul).some((m) => m.originId === sent.originId)).toBe(false);
    await setAffiliations(admin, room, { [EVE]: 'none' });
  });

  it('a workstation that was away catches up from the room’s archive, each message once', async () => {
    await paul.messaging.stop();
    const a = await rita.messaging.send(roomConv(rita), 'Bloods for bed 6 are due at 4.');
    const b = await rita.messaging.send(roomConv(rita), 'Pharmacy called back about bed 6.');
    await waitFor('both sent', () => [a, b].every((m) => rita.store.messages.get(m.id)?.state === 'sent'));
    await paul.restart();
    await paul.messaging.inspect.settled();
    const ids = [a.originId, b.originId];
    const caught = inRoom(paul).filter((m) => ids.includes(m.originId));
    expect(caught.map((m) => [m.body, m.senderJid, m.direction])).toEqual([
      ['Bloods for bed 6 are due at 4.', RITA, 'in'],
      ['Pharmacy called back about bed 6.', RITA, 'in'],
    ]);
    // Signing in again asks the archive from where it stopped: nothing new, nothing twice.
    const rows = inRoom(paul).length;
    await paul.restart();
    await paul.messaging.inspect.settled();
    expect(inRoom(paul)).toHaveLength(rows);
    expect(rejections(paul, 'not-member')).toHaveLength(1); // only IT's message, from the live test
  });

  it('a removed member gets nothing from then on; the removal is audited on the others’ workstations', async () => {
    await setAffiliations(admin, room, { [NINA]: 'none' });
    await waitFor('nina sees she was removed', () => nina.store.rooms.get(room)?.leftAt != null);
    const sent = await paul.messaging.send(roomConv(paul), 'Move Mrs Lee to room 3.');
    await waitFor('rita receives it', () => inRoom(rita).find((m) => m.originId === sent.originId && m.body));
    expect(
      auditTypes(rita).some(
        (a) => a.type === 'room-membership' && a.detail.jid === NINA && a.detail.change === 'removed',
      ),
    ).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(inRoom(nina).some((m) => m.originId === sent.originId)).toBe(false);
    // And she cannot send to it any more.
    const err = await nina.messaging.send(roomConv(nina), 'Hello?').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FORBIDDEN' });
  });
});
