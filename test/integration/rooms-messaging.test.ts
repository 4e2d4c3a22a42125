/**
 * Care-team room messages over a real Prosody (issue 18 items 1–2, at the xmpp layer): a
 * receptionist, a physician and a nurse in a members-only, non-anonymous room of
 * deploy/prosody's MUC component. Each member works as a client would, with the app's own
 * pieces: the transport connection (main/xmpp/transport), the room stanzas and presence readers
 * (main/xmpp/room-stanzas.ts), the member list from the room, and the room message format
 * (main/crypto/room-message.ts). One signcrypted message reaches the other two, who check it
 * against the sender's real JID, membership and pinned key. After IT removes the nurse, the next
 * message is encrypted without her key: she neither receives it nor can decrypt it, nor read the
 * room's archive. Catch-up from the room's archive verifies each message against the real JID
 * the archive kept and the membership at the archive's time. Keys are pinned directly (each party's public key, as after verification); key
 * discovery over PEP is the one-to-one code's and not exercised here.
 */
import { randomUUID } from 'node:crypto';
import { xml } from '@xmpp/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityAsContact, type ContactKey } from '../../main/crypto';
import { membersAt, type AffiliationChange } from '../../main/crypto/room-membership';
import {
  openRoomMessage,
  RoomMessageRejectedError,
  signcryptForRoom,
  type RoomMember,
} from '../../main/crypto/room-message';
import {
  affiliationListQuery,
  createOccupantMap,
  joinRoomPresence,
  listAsChanges,
  readAffiliationList,
  readOccupantPresence,
  readRoomArchiveResult,
  readRoomMessage,
  roomMessageStanza,
  type RoomMessageIn,
} from '../../main/xmpp/room-stanzas';
import { NS } from '../../main/xmpp/stanzas';
import { makeParty, type Party } from '../support/crypto-fixtures';
import {
  createRoom,
  mucPerson,
  refusedWith,
  roomArchiveBodies,
  setAffiliations,
  type MucPerson,
} from '../support/muc-support';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { waitFor } from '../support/xmpp-support';

const ADMIN = 'it-admin@clinic.test';
const RITA = 'rita@clinic.test'; // receptionist
const PAUL = 'paul@clinic.test'; // physician
const NINA = 'nina@clinic.test'; // nurse
const pw = (jid: string) => `${jid.split('@')[0]}-password-1`;

/** One workstation: its connection, its key, its pinned keys, what it learned of the room. */
interface Member {
  party: Party;
  person: MucPerson;
  pinned: Map<string, ContactKey>;
  occupants: ReturnType<typeof createOccupantMap>;
  changes: AffiliationChange[];
}

describe('a care-team room: three members, one removed', () => {
  let server: ProsodyServer;
  let admin: MucPerson;
  let room: string;
  /** Before the room existed, on the server's whole-second clock: the initial member list's time. */
  let createdAt: Date;
  const members = new Map<string, Member>();
  const m = (jid: string) => members.get(jid)!;

  beforeAll(async () => {
    server = await startProsody({
      users: [ADMIN, RITA, PAUL, NINA].map((jid) => ({ jid, password: pw(jid), name: jid })),
      admins: [ADMIN],
    });
    room = `care-team@${server.rooms}`;
    admin = await mucPerson(server, ADMIN, pw(ADMIN));
    createdAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 1000);
    await createRoom(admin, room, 'IT', [RITA, PAUL, NINA]);
    const parties = await Promise.all([RITA, PAUL, NINA].map(makeParty));
    for (const party of parties) {
      const occupants = createOccupantMap();
      // Occupants as the room announces them, as they arrive.
      const person = await mucPerson(server, party.jid, pw(party.jid), 'workstation', (el) => {
        const p = readOccupantPresence(el);
        if (p?.room === room) occupants.apply(p);
      });
      members.set(party.jid, { party, person, pinned: new Map(), occupants, changes: [] });
    }
    // Everyone pinned everyone's key (as after verifying safety numbers).
    for (const a of members.values()) for (const b of parties) a.pinned.set(b.jid, b.contact);
  });
  afterAll(async () => {
    await Promise.all([admin, ...[...members.values()].map((x) => x.person)].map((p) => p?.stop()));
    await server?.stop();
  });

  /** The room's member list as this member reads it now (owners, admins, members), recorded as of `at`. */
  async function refreshMembers(who: Member, at: Date): Promise<string[]> {
    const list = [];
    for (const affiliation of ['owner', 'admin', 'member'] as const)
      list.push(...readAffiliationList(await who.person.conn.iq(affiliationListQuery(room, affiliation))));
    // Everyone on the list now, and everyone we knew of who is no longer on it: removed as of `at`.
    const now = new Set(list.map((x) => x.jid));
    const gone = [...membersAt(who.changes, at)].filter((j) => !now.has(j));
    who.changes.push(...listAsChanges(list, at), ...gone.map((jid) => ({ jid, affiliation: 'none' as const, at })));
    return [...membersAt(who.changes, at)].sort();
  }

  async function join(who: Member, nick: string): Promise<void> {
    const start = who.person.seen.length;
    await who.person.conn.send(joinRoomPresence(room, nick));
    await waitFor(`${who.party.jid} in the room`, () =>
      who.person.seen.slice(start).find((el) => readOccupantPresence(el)?.self),
    );
  }

  /** Sends one room message to the current member list; returns its origin-id. */
  async function send(from: Member, body: string, at: Date): Promise<string> {
    const current = await refreshMembers(from, at);
    const roomMembers: RoomMember[] = current.map((jid) => ({ jid, key: from.pinned.get(jid) ?? null }));
    const out = await signcryptForRoom({ identity: from.party.identity, room, members: roomMembers, body, now: at });
    const id = randomUUID();
    await from.person.conn.sendAcked(roomMessageStanza(room, id, out.base64));
    return id;
  }

  const received = (who: Member, id: string): RoomMessageIn | undefined =>
    who.person.seen.map(readRoomMessage).find((r) => r?.originId === id) ?? undefined;

  /** The receive check exactly as a workstation runs it on a live room message. */
  function open(who: Member, msg: RoomMessageIn, at: Date) {
    const sender = who.occupants.realJidOf(msg.room, msg.nick);
    const own = sender === who.party.jid;
    return openRoomMessage({
      identity: who.party.identity,
      room: msg.room,
      senderJid: sender,
      membersAtTime: membersAt(who.changes, at),
      senderKey: own ? identityAsContact(who.party.identity) : sender ? (who.pinned.get(sender) ?? null) : null,
      base64: msg.base64,
      now: at,
    });
  }

  it('a message from the receptionist reaches the physician and the nurse, checked against her real JID', async () => {
    await join(m(RITA), 'Rita');
    await join(m(PAUL), 'Dr Paul');
    await join(m(NINA), 'Nina');
    for (const x of members.values()) expect(await refreshMembers(x, createdAt)).toEqual([NINA, PAUL, RITA]);

    const at = new Date();
    const id = await send(m(RITA), 'Mrs Lee has arrived for her 10:30.', at);
    for (const reader of [m(PAUL), m(NINA), m(RITA)]) {
      const msg = await waitFor(`${reader.party.jid} receives it`, () => received(reader, id));
      expect(msg.nick).toBe('Rita');
      const opened = await open(reader, msg, at);
      expect(opened.body).toBe('Mrs Lee has arrived for her 10:30.');
      expect(opened.sender).toBe(RITA);
    }
    // Another member's nick does not make the message theirs: checked against Nina's key, it fails.
    const msg = received(m(PAUL), id)!;
    const asIfNina = await open(m(PAUL), { ...msg, nick: 'Nina' }, at).catch((e: unknown) => e);
    expect(asIfNina).toBeInstanceOf(RoomMessageRejectedError);
    expect((asIfNina as RoomMessageRejectedError).reason).toBe('wrong-signer');

    // The nurse answers while still on the team.
    const reply = await send(m(NINA), 'Room 2 is ready for her.', new Date());
    const got = await waitFor('paul receives the reply', () => received(m(PAUL), reply));
    expect((await open(m(PAUL), got, new Date())).sender).toBe(NINA);
  });

  it('after the nurse is removed, the next message is not encrypted to her and she cannot read it', async () => {
    const nina = m(NINA);
    const removalSeen = nina.person.seen.length;
    await setAffiliations(admin, room, { [NINA]: 'none' });
    // The room removes her (XEP-0045 §9.4: status 321, affiliation change).
    await waitFor('nina removed from the room', () =>
      nina.person.seen.slice(removalSeen).find((el) => {
        const p = readOccupantPresence(el);
        return p?.self && p.gone && p.codes.includes('321');
      }),
    );

    const at = new Date();
    const id = await send(m(PAUL), 'Start the 2nd dose at noon.', at);
    const rita = m(RITA);
    const msg = await waitFor('rita receives the next message', () => received(rita, id));
    expect((await open(rita, msg, at)).body).toBe('Start the 2nd dose at noon.');
    expect(await refreshMembers(rita, at)).toEqual([PAUL, RITA]);

    // Nina: not delivered to her, not readable with her key, and the archive is closed to her.
    await new Promise((r) => setTimeout(r, 500));
    expect(received(nina, id)).toBeUndefined();
    const ninaTries = await openRoomMessage({
      identity: nina.party.identity,
      room,
      senderJid: PAUL,
      membersAtTime: new Set([PAUL, RITA, NINA]),
      senderKey: nina.pinned.get(PAUL)!,
      base64: msg.base64,
      now: at,
    }).catch((e: unknown) => e);
    expect((ninaTries as RoomMessageRejectedError).reason).toBe('decrypt-failed');
    expect(await refusedWith(roomArchiveBodies(nina.person, room))).toBe('forbidden');
    // Nor read its member list any more.
    expect(await refusedWith(nina.person.conn.iq(affiliationListQuery(room, 'member')))).toBe('forbidden');
  });

  it("catch-up from the room's archive: each message carries its sender's real JID, checked at the archive's time", async () => {
    const rita = m(RITA);
    const queryid = randomUUID();
    const start = rita.person.seen.length;
    await rita.person.conn.iq(xml('iq', { type: 'set', to: room }, xml('query', { xmlns: NS.mam, queryid })));
    const archived = rita.person.seen
      .slice(start)
      .map((el) => readRoomArchiveResult(el, room, queryid))
      .filter((r) => r !== null);
    expect(archived.map((a) => a.realJid)).toEqual([RITA, NINA, PAUL]);
    const bodies = [];
    for (const a of archived) {
      expect(a.stamp).toBeInstanceOf(Date);
      const opened = await openRoomMessage({
        identity: rita.party.identity,
        room,
        senderJid: a.realJid,
        membersAtTime: membersAt(rita.changes, a.stamp!),
        senderKey: a.realJid === RITA ? identityAsContact(rita.party.identity) : (rita.pinned.get(a.realJid!) ?? null),
        base64: a.base64,
        delayStamp: a.stamp!,
        now: new Date(),
      });
      bodies.push(opened.body);
    }
    expect(bodies).toEqual([
      'Mrs Lee has arrived for her 10:30.',
      'Room 2 is ready for her.',
      'Start the 2nd dose at noon.',
    ]);
    // Nina's message was a member's when the room received it; dated after her removal it would not be.
    const ninas = archived[1]!;
    const late = await openRoomMessage({
      identity: rita.party.identity,
      room,
      senderJid: NINA,
      membersAtTime: membersAt(rita.changes, new Date()),
      senderKey: rita.pinned.get(NINA)!,
      base64: ninas.base64,
      delayStamp: ninas.stamp!,
      now: new Date(),
    }).catch((e: unknown) => e);
    expect((late as RoomMessageRejectedError).reason).toBe('not-member');
  });
});
