/**
 * Care-team rooms in the store (issue 18, migration 0014): a room is a conversation whose messages
 * carry their real sender; its member list is a history of affiliation changes, from which the
 * receive check asks who was a member at a time. Search and retention cover room messages as
 * they cover pairs. Real SQLCipher file.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { membersAt } from '../../main/crypto/room-membership';
import { openStore, type Store } from '../../main/store';

let dir: string;
let store: Store;
const key = randomBytes(32);
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'store-rooms-'));
  store = openStore({ file: join(dir, 'cache.db'), key, worker: false });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const ROOM = 'care-team@rooms.clinic.example';
const asChanges = (room: string) => store.rooms.changes(room).map((c) => ({ ...c, at: new Date(c.at) }));

describe('rooms in the store', () => {
  it('a room is a conversation; its member history answers who was a member when', () => {
    const room = store.rooms.upsert(ROOM, { name: 'Care team', nick: 'Rita' }, 1_000);
    expect(store.conversations.get(room.conversationId)?.peerJid).toBe(ROOM);
    expect(store.rooms.byConversation(room.conversationId)?.name).toBe('Care team');
    // Upsert again without a name keeps the name.
    expect(store.rooms.upsert(ROOM.toUpperCase(), {}, 2_000).name).toBe('Care team');
    expect(store.rooms.list()).toHaveLength(1);

    expect(store.rooms.recordAffiliation(ROOM, 'paul@clinic.example', 'owner', 1_000)).toBe(true);
    expect(store.rooms.recordAffiliation(ROOM, 'nina@clinic.example', 'member', 1_000)).toBe(true);
    // The same again is no change; a non-member never seen is nothing to remember.
    expect(store.rooms.recordAffiliation(ROOM, 'nina@clinic.example', 'member', 1_500)).toBe(false);
    expect(store.rooms.recordAffiliation(ROOM, 'eve@clinic.example', 'none', 1_500)).toBe(false);
    expect(store.rooms.recordAffiliation(ROOM, 'nina@clinic.example', 'none', 5_000)).toBe(true);

    expect(store.rooms.members(ROOM)).toEqual([{ jid: 'paul@clinic.example', affiliation: 'owner' }]);
    expect([...membersAt(asChanges(ROOM), new Date(4_000))].sort()).toEqual([
      'nina@clinic.example',
      'paul@clinic.example',
    ]);
    expect([...membersAt(asChanges(ROOM), new Date(5_000))]).toEqual(['paul@clinic.example']);
    // The inbox row: the room's name and its current members.
    expect(store.conversations.summary(room.conversationId)).toMatchObject({
      title: 'Care team',
      room: { left: false, members: [{ jid: 'paul@clinic.example', affiliation: 'owner' }] },
    });
    expect(store.conversations.list({ cursor: null, limit: 5 }).items[0]?.room?.members).toHaveLength(1);
  });

  it('room messages keep their sender, are found by search and go with retention', () => {
    const room = store.rooms.upsert(ROOM, { name: 'Care team' }, 1_000);
    const { id } = store.messages.insert({
      conversationId: room.conversationId,
      direction: 'in',
      state: 'delivered',
      body: 'bed seven needs a wound check',
      originId: 'o-1',
      sentAt: 2_000,
      senderJid: 'nina@clinic.example',
    });
    expect(store.messages.get(id)?.senderJid).toBe('nina@clinic.example');
    expect(store.messages.search('wound', { cursor: null, limit: 5 }).items.map((h) => h.messageId)).toEqual([id]);
    expect(store.messages.purgeBefore(3_000)).toBe(1);
    expect(store.messages.get(id)).toBeUndefined();
    expect(store.messages.search('wound', { cursor: null, limit: 5 }).items).toEqual([]);
  });

  it('leaving and joining again are recorded', () => {
    const room = store.rooms.upsert(ROOM, {}, 1_000);
    store.rooms.recordAffiliation(ROOM, 'paul@clinic.example', 'member', 1_000);
    store.rooms.setLeft(ROOM, 3_000);
    expect(store.rooms.get(ROOM)?.leftAt).toBe(3_000);
    store.rooms.setJoined(ROOM, 4_000);
    expect(store.rooms.get(ROOM)).toMatchObject({ joinedAt: 4_000, leftAt: null });
    expect(room.conversationId).toBeTruthy();
  });

  it('a room that was never made is forgotten with its conversation; one holding messages is kept', () => {
    const room = store.rooms.upsert(ROOM, { name: 'Half made' }, 1_000);
    store.rooms.recordAffiliation(ROOM, 'paul@clinic.example', 'member', 1_000);
    store.drafts.set(room.conversationId, 'draft');
    expect(store.rooms.forgetUnmade(ROOM)).toBe(true);
    expect(store.rooms.get(ROOM)).toBeUndefined();
    expect(store.conversations.get(room.conversationId)).toBeUndefined();
    expect(store.rooms.changes(ROOM)).toEqual([]);
    expect(store.rooms.forgetUnmade(ROOM)).toBe(false);

    const kept = store.rooms.upsert(ROOM, {}, 2_000);
    store.messages.insert({
      conversationId: kept.conversationId,
      direction: 'in',
      state: 'delivered',
      body: 'hello',
      originId: 'o-2',
      sentAt: 2_500,
      senderJid: 'paul@clinic.example',
    });
    expect(store.rooms.forgetUnmade(ROOM)).toBe(false);
    expect(store.rooms.get(ROOM)?.conversationId).toBe(kept.conversationId);
  });
});
