/**
 * Care-team room messages (issue 18 item 2): main/crypto/room-message.ts and room-membership.ts
 * with real keys. One OpenPGP message per room message, one wrapped session key per member plus
 * the sender; the receive check accepts only a member's message signed by their pinned key and
 * addressed to this room; hostile cases refused with their reason.
 */
import * as openpgp from 'openpgp';
import { beforeAll, describe, expect, it } from 'vitest';
import { identityAsContact, openSigncrypt, signcrypt, SigncryptRejectedError } from '../../main/crypto/index';
import {
  openRoomMessage,
  RoomMessageRejectedError,
  RoomRecipientsError,
  signcryptForRoom,
  type OpenRoomMessageInput,
  type RoomMember,
  type RoomRejectReason,
} from '../../main/crypto/room-message';
import { membersAt, type AffiliationChange } from '../../main/crypto/room-membership';
import { makeParty, type Party } from '../support/crypto-fixtures';

const ROOM = 'care-team@rooms.clinic.test';
const OTHER_ROOM = 'front-desk@rooms.clinic.test';
const now = new Date('2026-11-28T10:00:00Z');
const minutes = (n: number) => new Date(now.getTime() + n * 60_000);

let alice: Party, bob: Party, carol: Party, mallory: Party, aliceNewKey: Party;

beforeAll(async () => {
  [alice, bob, carol, mallory, aliceNewKey] = (await Promise.all(
    ['alice@clinic.test', 'bob@clinic.test', 'carol@clinic.test', 'mallory@clinic.test', 'alice@clinic.test'].map(
      makeParty,
    ),
  )) as [Party, Party, Party, Party, Party];
});

const member = (p: Party, name?: string): RoomMember => ({ jid: p.jid, key: p.contact, ...(name ? { name } : {}) });
const team = () => [member(alice), member(bob), member(carol)];
const teamJids = () => new Set([alice.jid, bob.jid, carol.jid]);

const send = (from: Party, body: string, members: RoomMember[] = team(), at = now) =>
  signcryptForRoom({ identity: from.identity, room: ROOM, members, body, now: at });

/** `reader` opens a room message the room says came from `senderJid`, with its pinned key for them. */
const open = (reader: Party, base64: string, over: Partial<OpenRoomMessageInput> & { from?: Party } = {}) =>
  openRoomMessage({
    identity: reader.identity,
    room: ROOM,
    senderJid: (over.from ?? alice).jid,
    membersAtTime: teamJids(),
    senderKey: (over.from ?? alice).contact,
    base64,
    now,
    ...over,
  });

async function rejected(p: Promise<unknown>): Promise<RoomRejectReason> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (err instanceof RoomMessageRejectedError) return err.reason;
  throw new Error(`expected a RoomMessageRejectedError, got ${String(err)}`);
}

describe('sending to a room', () => {
  it('is one OpenPGP message with one session key per member and the sender, <to/> naming the room', async () => {
    const out = await send(alice, 'Room 4: vitals due at 11.');
    expect(out.recipients).toEqual([alice.jid, bob.jid, carol.jid]);

    const message = await openpgp.readMessage({ binaryMessage: new Uint8Array(Buffer.from(out.base64, 'base64')) });
    // One public-key-encrypted session key packet per recipient, each for that recipient's subkey.
    const wrapped = message.getEncryptionKeyIDs().map((id) => id.toHex());
    const subkeys = await Promise.all(
      [alice, bob, carol].map(async (p) =>
        (await p.identity.publicKey.getEncryptionKey(undefined, now)).getKeyID().toHex(),
      ),
    );
    expect(wrapped.sort()).toEqual(subkeys.sort());

    for (const reader of [bob, carol]) {
      const opened = await open(reader, out.base64);
      expect(opened.body).toBe('Room 4: vitals due at 11.');
      expect(opened.sender).toBe(alice.jid);
      expect(opened.to).toEqual([ROOM]);
      expect(opened.timestamp.toISOString()).toBe(now.toISOString());
      expect(opened.contentDigest).toBe(out.contentDigest);
    }
    // The sender's own copy (the room's reflection, the archive) opens with her own key.
    const own = await open(alice, out.base64, { senderKey: identityAsContact(alice.identity) });
    expect(own.body).toBe('Room 4: vitals due at 11.');
    // Someone who is not on the list cannot read it at all.
    expect(await rejected(open(mallory, out.base64))).toBe('decrypt-failed');
  });

  it('names every member without a usable key and sends nothing: no plaintext fallback', async () => {
    const members = [member(alice), member(bob), { jid: 'dave@clinic.test', name: 'Dave Nurse', key: null }];
    const err = await send(alice, 'private detail', [...members, { jid: 'erin@clinic.test', key: null }]).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RoomRecipientsError);
    expect((err as RoomRecipientsError).missing).toEqual([
      { jid: 'dave@clinic.test', name: 'Dave Nurse' },
      { jid: 'erin@clinic.test', name: null },
    ]);
    expect((err as Error).message).toContain('Dave Nurse');
    expect((err as Error).message).not.toContain('private detail');
  });

  it('refuses a sender off the list, a key pinned for another JID, and a room that is not a JID', async () => {
    await expect(send(mallory, 'hi')).rejects.toThrow(/not a member/);
    await expect(send(alice, 'hi', [member(alice), { jid: bob.jid, key: carol.contact }])).rejects.toThrow(
      /belongs to another JID/,
    );
    await expect(
      signcryptForRoom({ identity: alice.identity, room: 'not a room', members: team(), body: 'x', now }),
    ).rejects.toThrow(RangeError);
  });
});

describe('receiving a room message: hostile cases', () => {
  it('refuses a message signed by a non-member, even with their key pinned', async () => {
    // Mallory is a colleague with a pinned key, but not on this room's list.
    const out = await signcryptForRoom({
      identity: mallory.identity,
      room: ROOM,
      members: [member(mallory), ...team()],
      body: 'hello team',
      now,
    });
    expect(await rejected(open(bob, out.base64, { from: mallory }))).toBe('not-member');
  });

  it("refuses a member's message claimed by another member (a spoofed nickname or real JID)", async () => {
    const out = await send(alice, 'order 5 mg');
    // The room says Carol sent it; it is signed by Alice.
    expect(await rejected(open(bob, out.base64, { from: carol }))).toBe('wrong-signer');
  });

  it('refuses a message whose signer key is not the pinned one, or when no key is pinned', async () => {
    // Alice's account with a new key nobody has verified yet: not her pinned key.
    const out = await signcryptForRoom({
      identity: aliceNewKey.identity,
      room: ROOM,
      members: [member(aliceNewKey), member(bob), member(carol)],
      body: 'new device',
      now,
    });
    expect(await rejected(open(bob, out.base64))).toBe('wrong-signer');
    const genuine = await send(alice, 'x');
    expect(await rejected(open(bob, genuine.base64, { senderKey: null }))).toBe('key-not-pinned');
    // A key pinned for someone else is never used to verify this sender.
    expect(await rejected(open(bob, genuine.base64, { senderKey: carol.contact }))).toBe('key-not-pinned');
  });

  it('refuses a message whose <to/> is not exactly this room', async () => {
    // A one-to-one message to Bob, replayed into the room.
    const direct = await signcrypt({
      identity: alice.identity,
      recipients: [bob.contact],
      to: bob.jid,
      body: 'for Bob only',
      now,
    });
    expect(await rejected(open(bob, direct))).toBe('bad-recipient');
    // Another room's message, replayed here.
    const other = await signcryptForRoom({
      identity: alice.identity,
      room: OTHER_ROOM,
      members: team(),
      body: 'x',
      now,
    });
    expect(await rejected(open(bob, other.base64))).toBe('bad-recipient');
    // Addressed to the room and to Bob at once.
    const both = await signcrypt({
      identity: alice.identity,
      recipients: [bob.contact],
      to: [ROOM, bob.jid],
      body: 'x',
      now,
    });
    expect(await rejected(open(bob, both))).toBe('bad-recipient');
    // And the other way: a room message replayed to Bob as a one-to-one message.
    const roomMsg = await send(alice, 'team only');
    const asDirect = openSigncrypt({
      identity: bob.identity,
      senderKey: alice.contact,
      base64: roomMsg.base64,
      ourJid: bob.jid,
      now,
    });
    await expect(asDirect).rejects.toBeInstanceOf(SigncryptRejectedError);
    await expect(asDirect).rejects.toMatchObject({ reason: 'bad-recipient' });
  });

  it('refuses an occupant whose real JID the room did not give', async () => {
    const out = await send(alice, 'x');
    expect(await rejected(open(bob, out.base64, { senderJid: null }))).toBe('anonymous-occupant');
    expect(await rejected(open(bob, out.base64, { senderJid: 'not a jid' }))).toBe('anonymous-occupant');
  });

  it('keeps the one-to-one checks: time, size, garbage', async () => {
    const old = await send(alice, 'x', team(), minutes(-120));
    expect(await rejected(open(bob, old.base64))).toBe('bad-time');
    expect(await rejected(open(bob, 'not base64!'))).toBe('malformed');
  });
});

describe('membership over time: a removed member', () => {
  const t0 = minutes(-30);
  const removedAt = minutes(-10);
  // Literal JIDs: the parties' keys exist only once beforeAll has run.
  const changes: AffiliationChange[] = [
    { jid: 'alice@clinic.test', affiliation: 'owner', at: t0 },
    { jid: 'bob@clinic.test', affiliation: 'member', at: t0 },
    { jid: 'carol@clinic.test', affiliation: 'member', at: t0 },
    { jid: 'carol@clinic.test', affiliation: 'none', at: removedAt },
  ];

  it('membersAt: the last change at or before the time decides', () => {
    expect([...membersAt(changes, minutes(-20))].sort()).toEqual([alice.jid, bob.jid, carol.jid]);
    expect([...membersAt(changes, removedAt)].sort()).toEqual([alice.jid, bob.jid]);
    expect([...membersAt(changes, minutes(-40))]).toEqual([]);
    const later: AffiliationChange[] = [
      ...changes,
      { jid: 'Carol@Clinic.test', affiliation: 'member', at: minutes(-5) },
      { jid: 'bob@clinic.test', affiliation: 'outcast', at: minutes(-5) },
      // The same instant: the later entry wins.
      { jid: 'bob@clinic.test', affiliation: 'admin', at: minutes(-5) },
    ];
    expect([...membersAt(later, now)].sort()).toEqual([alice.jid, bob.jid, carol.jid]);
    expect([...membersAt(later.slice(0, 6), now)].sort()).toEqual([alice.jid, carol.jid]);
  });

  it('accepts what they sent while a member, refuses what they send after removal', async () => {
    const before = await send(carol, 'sent while on the team', team(), minutes(-15));
    const opened = await open(bob, before.base64, {
      from: carol,
      delayStamp: minutes(-15),
      membersAtTime: membersAt(changes, minutes(-15)),
    });
    expect(opened.body).toBe('sent while on the team');
    const after = await send(carol, 'still here?', team(), minutes(-5));
    expect(
      await rejected(
        open(bob, after.base64, {
          from: carol,
          delayStamp: minutes(-5),
          membersAtTime: membersAt(changes, minutes(-5)),
        }),
      ),
    ).toBe('not-member');
  });

  it('encrypts the next message without their key: they cannot read it', async () => {
    const current = membersAt(changes, now);
    const members = [alice, bob, carol].filter((p) => current.has(p.jid)).map((p) => member(p));
    const next = await send(alice, 'after Carol left', members);
    expect(next.recipients).toEqual([alice.jid, bob.jid]);
    expect((await open(bob, next.base64, { membersAtTime: current })).body).toBe('after Carol left');
    expect(await rejected(open(carol, next.base64, { membersAtTime: current }))).toBe('decrypt-failed');
  });
});
