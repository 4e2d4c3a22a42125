/**
 * @mentions and "Read by" in care-team rooms over a real Prosody (issue 18 §4): the room of
 * rooms-session.test.ts (IT creates it for a receptionist, a physician and a nurse; each
 * workstation is the app's messaging service with its real store and keys).
 *
 * - A mention travels only inside the signed, encrypted payload; the mentioned member's workstation
 *   stores it as mentioning them, counts it in the inbox and notifies under the preview policy
 *   ("Mentioned you", never the text at 'sender'); nobody else's does. A file's caption carries its
 *   mentions the same way.
 * - A member's forged mentions (of a non-member, a range outside the text) are dropped; the message
 *   is kept.
 * - Reading the room sends one displayed marker naming the room's stanza-id; the sender's message
 *   then says who read it. Markers from a non-member (IT, owner by server policy) and for an id the
 *   room never gave are ignored. A sender who was away learns from the room's archive.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { xml } from '@xmpp/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityAsContact, loadIdentity, signcrypt, type Identity } from '../../main/crypto';
import { IDENTITY_SETTING } from '../../main/xmpp/account-key';
import { withReadBy } from '../../main/xmpp/room-reads';
import { readRoomMessage, roomMessageStanza } from '../../main/xmpp/room-stanzas';
import { createRoom, joinRoom, mucPerson, type MucPerson } from '../support/muc-support';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { makeClient, messagesWith, waitFor, type TestClient } from '../support/xmpp-support';

const ADMIN = 'it-admin@clinic.test';
const RITA = 'rita@clinic.test'; // receptionist
const PAUL = 'paul@clinic.test'; // physician
const NINA = 'nina@clinic.test'; // nurse
const EVE = 'eve@clinic.test'; // not a member
const pw = (jid: string) => `${jid.split('@')[0]}-password-1`;
const NAMES: Record<string, string> = {
  [RITA]: 'Rita Reyes',
  [PAUL]: 'Paul Park',
  [NINA]: 'Nina Novak',
  [EVE]: 'Eve Evans',
  [ADMIN]: 'IT',
};
const MARKERS = 'urn:xmpp:chat-markers:0';

const identityOf = (c: TestClient): Promise<Identity> =>
  loadIdentity(c.store.getSetting<{ armoredSecretKey: string }>(IDENTITY_SETTING)!.armoredSecretKey);
const notes = (c: TestClient, from = 0) =>
  c.events
    .slice(from)
    .filter((e) => e.name === 'notification:shown')
    .map((e) => e.payload as { title: string; body: string; mention?: boolean });

describe('@mentions and "Read by" in a care-team room', () => {
  let server: ProsodyServer;
  let admin: MucPerson;
  let observer: MucPerson;
  let room: string;
  let rita: TestClient;
  let paul: TestClient;
  let nina: TestClient;

  const conv = (c: TestClient) => c.store.rooms.get(room)!.conversationId;
  const inRoom = (c: TestClient) => messagesWith(c, room);
  const readers = (c: TestClient, messageId: string) =>
    withReadBy(c.store, c.jid, [c.store.messages.get(messageId)!])[0]!.readBy;
  /**
   * The room's stanza-id of one of our messages as every occupant saw it, once the sender's store
   * has it too (from the room's reflection of the message).
   */
  async function roomIdOf(c: TestClient, m: { id: string; originId: string | null }): Promise<string> {
    const copy = await waitFor('the room’s copy', () =>
      observer.seen.map(readRoomMessage).find((r) => r?.originId === m.originId && r.stanzaId),
    );
    const sid = copy.stanzaId!;
    await waitFor(
      'the sender has the room’s id',
      () => c.store.roomReads.byRoomStanzaId(conv(c), sid)?.id === Number(m.id),
    );
    return sid;
  }
  /** The displayed marker from `nick` seen on the wire after `from`. */
  const markerFrom = (nick: string, from: number) =>
    waitFor(`${nick}’s marker`, () =>
      observer.seen.slice(from).find((el) => el.attrs.from === `${room}/${nick}` && el.getChild('displayed', MARKERS)),
    );

  beforeAll(async () => {
    server = await startProsody({
      users: [ADMIN, RITA, PAUL, NINA, EVE].map((jid) => ({ jid, password: pw(jid), name: NAMES[jid]! })),
      admins: [ADMIN],
    });
    room = `ward-mentions@${server.rooms}`;
    admin = await mucPerson(server, ADMIN, pw(ADMIN));
    await createRoom(admin, room, 'IT', [RITA, PAUL, NINA]);
    // A second connection of Nina's account that only watches the wire.
    observer = await mucPerson(server, NINA, pw(NINA), 'observer');
    expect((await joinRoom(observer, room, 'nina-observer')).ok).toBe(true);
    [rita, paul, nina] = (await Promise.all(
      [RITA, PAUL, NINA].map((jid) =>
        makeClient(server, jid, pw(jid), { policy: { notificationPreview: jid === PAUL ? 'sender' : 'full' } }),
      ),
    )) as [TestClient, TestClient, TestClient];
    for (const c of [rita, paul, nina]) {
      await c.messaging.inspect.settled();
      await waitFor(`${c.jid} joined`, () => c.store.rooms.get(room)?.joinedAt != null);
    }
  });
  afterAll(async () => {
    await Promise.all([admin, observer].filter(Boolean).map((p) => p.stop()));
    await Promise.all([rita, paul, nina].filter(Boolean).map((c) => c.close()));
    await server?.stop();
  });

  it('a mention is carried only encrypted; the mentioned member’s workstation marks it and notifies within the policy', async () => {
    const text = '@Paul Park please see Mrs Lee in room 2';
    const before = { paul: paul.events.length, nina: nina.events.length };
    const sent = await rita.messaging.send(conv(rita), text, undefined, false, [{ jid: PAUL, begin: 0, end: 10 }]);
    expect(sent.mentions).toEqual([{ jid: PAUL, begin: 0, end: 10 }]);

    const got = await waitFor('paul receives it', () => inRoom(paul).find((m) => m.originId === sent.originId));
    expect(got).toMatchObject({ body: text, senderJid: RITA, mentionsMe: true, mentions: [{ jid: PAUL }] });
    expect(paul.store.conversations.summary(conv(paul))).toMatchObject({ mentionUnread: 1 });
    // Paul's policy allows the sender's name only: the mention says so, never the text or the room.
    const note = await waitFor('paul’s notification', () => notes(paul, before.paul).find((n) => n.mention));
    expect(note).toEqual({ conversationId: conv(paul), title: NAMES[RITA], body: 'Mentioned you', mention: true });

    const atNina = await waitFor('nina receives it', () => inRoom(nina).find((m) => m.originId === sent.originId));
    expect(atNina.mentionsMe).toBeUndefined();
    expect(atNina.mentions).toEqual([{ jid: PAUL, begin: 0, end: 10 }]);
    expect(notes(nina, before.nina).some((n) => n.mention)).toBe(false);
    expect(nina.store.conversations.summary(conv(nina))?.mentionUnread).toBeUndefined();

    // On the wire: the OX element and the fallback body; no JID of the mentioned member anywhere.
    const wire = await waitFor('the observer sees it', () =>
      observer.seen.find((el) => readRoomMessage(el)?.originId === sent.originId),
    );
    expect(wire.toString()).not.toContain('paul');
    expect(wire.getChild('reference', 'urn:xmpp:reference:0')).toBeUndefined();

    // Read on screen: the inbox's mention mark goes.
    paul.store.conversations.markRead(conv(paul));
    expect(paul.store.conversations.summary(conv(paul))?.mentionUnread).toBeUndefined();
  });

  it('a file whose caption mentions a member: the mention is signed with it; only that member is mentioned', async () => {
    const text = '@Paul Park the signed consent form';
    const before = { paul: paul.events.length, nina: nina.events.length };
    const file = { name: 'consent.txt', mediaType: 'text/plain', source: Readable.from([Buffer.from('consent')]) };
    const sent = await rita.messaging.sendAttachment(conv(rita), file, {
      body: text,
      mentions: [{ jid: PAUL, begin: 0, end: 10 }],
    });
    expect(sent.mentions).toEqual([{ jid: PAUL, begin: 0, end: 10 }]);

    const got = await waitFor('paul receives it', () => inRoom(paul).find((m) => m.originId === sent.originId));
    expect(got).toMatchObject({ body: text, senderJid: RITA, mentionsMe: true, mentions: [{ jid: PAUL }] });
    expect(paul.store.attachments.byMessage(got.id)).toMatchObject({ name: 'consent.txt', state: 'available' });
    expect(paul.store.conversations.summary(conv(paul))).toMatchObject({ mentionUnread: 1 });
    // Paul's policy allows the sender's name only: a mention with a file, never the text or the file's name.
    const note = await waitFor('paul’s notification', () => notes(paul, before.paul).find((n) => n.mention));
    expect(note).toEqual({
      conversationId: conv(paul),
      title: NAMES[RITA],
      body: 'Mentioned you with an attachment',
      mention: true,
    });

    const atNina = await waitFor('nina receives it', () => inRoom(nina).find((m) => m.originId === sent.originId));
    expect(nina.store.attachments.byMessage(atNina.id)).toBeDefined();
    expect(atNina.mentionsMe).toBeUndefined();
    expect(atNina.mentions).toEqual([{ jid: PAUL, begin: 0, end: 10 }]);
    expect(notes(nina, before.nina).some((n) => n.mention)).toBe(false);
    expect(nina.store.conversations.summary(conv(nina))?.mentionUnread).toBeUndefined();
    paul.store.conversations.markRead(conv(paul));
  });

  it('a mention of a non-member or a forged range is dropped, the message kept; send() drops them too', async () => {
    const ninaId = await identityOf(nina);
    const keys = [identityAsContact(await identityOf(rita)), identityAsContact(await identityOf(paul))];
    const body = '@Eve and @Paul: the forms are in';
    const base64 = await signcrypt({
      identity: ninaId,
      recipients: keys,
      to: room,
      body,
      now: new Date(),
      mentions: [
        { jid: EVE, begin: 0, end: 4 }, // not a member of the room
        { jid: PAUL, begin: 9, end: 400 }, // past the end of the text
        { jid: PAUL, begin: 6, end: 2 }, // reversed
      ],
    });
    const originId = randomUUID();
    await observer.conn.sendAcked(roomMessageStanza(room, originId, base64));
    const got = await waitFor('paul receives it', () => inRoom(paul).find((m) => m.originId === originId && m.body));
    expect(got).toMatchObject({ body, senderJid: NINA });
    expect(got.mentions).toBeUndefined();
    expect(got.mentionsMe).toBeUndefined();

    // Our own send keeps only current members' mentions that fit the text.
    const own = await rita.messaging.send(conv(rita), '@Eve and @Nina Novak', undefined, false, [
      { jid: EVE, begin: 0, end: 4 },
      { jid: NINA, begin: 9, end: 20 },
      { jid: NINA, begin: 9, end: 99 },
    ]);
    expect(own.mentions).toEqual([{ jid: NINA, begin: 9, end: 20 }]);
    const atNina = await waitFor('nina receives it', () => inRoom(nina).find((m) => m.originId === own.originId));
    expect(atNina.mentionsMe).toBe(true);
  });

  it('reading the room tells its members; the sender sees who read each message', async () => {
    const sent = await rita.messaging.send(conv(rita), 'Bed 4 is ready for the next patient.');
    await waitFor('sent', () => rita.store.messages.get(sent.id)?.state === 'sent');
    const sid = await roomIdOf(rita, sent);
    await waitFor('paul has it', () => inRoom(paul).find((m) => m.originId === sent.originId));
    expect(readers(rita, sent.id)).toEqual({ jids: [], of: 2 });

    const from = rita.events.length;
    const wire = observer.seen.length;
    await paul.messaging.markDisplayed(conv(paul));
    // Paul's marker on the wire names the room's stanza-id, not the origin-id.
    const marker = await markerFrom('paul', wire);
    expect(marker.getChild('displayed', MARKERS)?.attrs.id).toBe(sid);
    expect(marker.getChildren('displayed', MARKERS)).toHaveLength(1);
    await waitFor('rita sees paul read it', () => readers(rita, sent.id)?.jids.includes(PAUL));
    expect(readers(rita, sent.id)).toEqual({ jids: [PAUL], of: 2 });
    // The renderer heard of it: the message again, with its readers.
    const updated = rita.events
      .slice(from)
      .find((e) => e.name === 'message:updated' && (e.payload as { id: string }).id === sent.id);
    expect(updated?.payload).toMatchObject({ readBy: { jids: [PAUL], of: 2 } });

    await nina.messaging.markDisplayed(conv(nina));
    await waitFor('rita sees nina read it', () => readers(rita, sent.id)?.jids.length === 2);
    expect(readers(rita, sent.id)).toEqual({ jids: [NINA, PAUL], of: 2 });
  });

  it('markers from a non-member or for an id the room never gave are ignored', async () => {
    const sent = await rita.messaging.send(conv(rita), 'Lunch cover from 12 to 1.');
    await waitFor('sent', () => rita.store.messages.get(sent.id)?.state === 'sent');
    const sid = await roomIdOf(rita, sent);
    // IT is in the room (owner by server policy) but on no member list.
    await admin.conn.send(
      xml('message', { to: room, type: 'groupchat' }, xml('displayed', { xmlns: MARKERS, id: sid })),
    );
    // Nina (a member) names an id the room never gave.
    await observer.conn.send(
      xml('message', { to: room, type: 'groupchat' }, xml('displayed', { xmlns: MARKERS, id: 'not-a-room-id' })),
    );
    // A later message through the same room, handled after both markers in arrival order.
    const after = await paul.messaging.send(conv(paul), 'Noted.');
    await waitFor('rita has paul’s note', () => inRoom(rita).find((m) => m.originId === after.originId && m.body));
    expect(readers(rita, sent.id)).toEqual({ jids: [], of: 2 });
    expect(
      rita.store.roomReads
        .marks(conv(rita))
        .map((k) => k.jid)
        .sort(),
    ).toEqual([NINA, PAUL]);
  });

  it('a sender who was away learns who read from the room’s archive', async () => {
    const sent = await rita.messaging.send(conv(rita), 'Pharmacy delivery at 3.');
    await waitFor('sent', () => rita.store.messages.get(sent.id)?.state === 'sent');
    await roomIdOf(rita, sent);
    await waitFor('nina has it', () => inRoom(nina).find((m) => m.originId === sent.originId));
    await rita.messaging.stop();
    const wire = observer.seen.length;
    await nina.messaging.markDisplayed(conv(nina));
    await markerFrom('nina', wire);
    expect(readers(rita, sent.id)).toEqual({ jids: [], of: 2 });
    await rita.restart();
    await rita.messaging.inspect.settled();
    await waitFor('rita learnt it from the archive', () => readers(rita, sent.id)?.jids.includes(NINA));
    expect(readers(rita, sent.id)).toEqual({ jids: [NINA], of: 2 });
  });
});
