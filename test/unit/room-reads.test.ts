/**
 * "Read by" and mention state in care-team rooms (issue 18 §4), the parts below the network: each
 * member's displayed-marker mark in the store (real SQLCipher file) only moves forward and covers
 * every message at or before it; our messages get `readBy` of the members besides us when each was
 * written; a received message that mentions us counts in the inbox until read; the marker stanzas'
 * readers take only what the room itself says; the row's words.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xml } from '@xmpp/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../main/store';
import { migrations, runMigrations } from '../../main/store/migrations';
import { openDb } from '../../main/store/open-db';
import { readRoomArchiveMarker, readRoomMarker, roomDisplayedMarker } from '../../main/xmpp/room-markers';
import { withReadBy } from '../../main/xmpp/room-reads';
import { readByLabel } from '../../renderer/src/lib/format';

const ROOM = 'ward3@rooms.clinic.test';
const ME = 'rita@clinic.test';
const PAUL = 'paul@clinic.test';
const NINA = 'nina@clinic.test';
const EVE = 'eve@clinic.test';

let dir: string;
let store: Store;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'room-reads-'));
  store = openStore({ file: join(dir, 'cache.db'), key: randomBytes(32), worker: false });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A room with Rita, Paul and Nina from t=1000; Eve joins at t=5000. */
function room(): string {
  const r = store.rooms.upsert(ROOM, { name: 'Ward 3' }, 1_000);
  for (const jid of [ME, PAUL, NINA]) store.rooms.recordAffiliation(ROOM, jid, 'member', 1_000);
  store.rooms.recordAffiliation(ROOM, EVE, 'member', 5_000);
  return r.conversationId;
}

function message(conversationId: string, o: { dir: 'in' | 'out'; at: number; stanzaId: string; from?: string }) {
  return store.messages.insert({
    conversationId,
    direction: o.dir,
    state: o.dir === 'out' ? 'sent' : 'delivered',
    body: `message at ${o.at}`,
    originId: `o-${o.stanzaId}`,
    stanzaId: o.stanzaId,
    sentAt: o.at,
    ...(o.from ? { senderJid: o.from } : {}),
  }).id;
}

const readBy = (ids: string[]) =>
  withReadBy(
    store,
    ME,
    ids.map((id) => store.messages.get(id)!),
  ).map((m) => m.readBy);

describe('0016-room-mentions-and-reads', () => {
  it('adds the mention columns and the marks table without touching messages', () => {
    const db = openDb({ file: join(dir, 'migrate.db'), key: randomBytes(32) });
    runMigrations(db, migrations, 15);
    db.prepare('INSERT INTO conversations (peer_jid, created_at, last_at) VALUES (?, 1, 1)').run(ROOM);
    db.prepare('INSERT INTO rooms (conversation_id, jid) VALUES (1, ?)').run(ROOM);
    db.prepare(
      "INSERT INTO messages (conversation_id, direction, state, origin_id, body, sent_at) VALUES (1, 'in', 'delivered', 'o-1', 'kept', 5)",
    ).run();
    const before = db.prepare('SELECT id, conversation_id, state, origin_id, body, sent_at FROM messages').all();
    expect(runMigrations(db, migrations, 16)).toBe(16);
    expect(db.prepare('SELECT id, conversation_id, state, origin_id, body, sent_at FROM messages').all()).toEqual(
      before,
    );
    expect(db.prepare('SELECT mentions, mentions_me FROM messages').get()).toEqual({ mentions: null, mentions_me: 0 });
    expect(() => db.prepare('UPDATE messages SET mentions_me = 2').run()).toThrow(/CHECK/);
    db.prepare('INSERT INTO room_reads (room_id, jid, message_id, at) VALUES (1, ?, 1, 9)').run(PAUL);
    // One mark per member; none for a message or a room that does not exist.
    expect(() =>
      db.prepare('INSERT INTO room_reads (room_id, jid, message_id, at) VALUES (1, ?, 1, 9)').run(PAUL),
    ).toThrow(/UNIQUE/);
    expect(() =>
      db.prepare('INSERT INTO room_reads (room_id, jid, message_id, at) VALUES (1, ?, 7, 9)').run(NINA),
    ).toThrow(/FOREIGN KEY/);
    db.prepare('DELETE FROM conversations WHERE id = 1').run();
    expect(db.prepare('SELECT count(*) AS n FROM room_reads').get()).toEqual({ n: 0 });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });
});

describe('each member’s mark', () => {
  it('covers every message at or before the one it names, moves only forward, and counts the members then', () => {
    const conv = room();
    const a = message(conv, { dir: 'out', at: 2_000, stanzaId: 's-a' });
    const b = message(conv, { dir: 'in', at: 3_000, stanzaId: 's-b', from: PAUL });
    const c = message(conv, { dir: 'out', at: 6_000, stanzaId: 's-c' });
    expect(readBy([a, c])).toEqual([
      { jids: [], of: 2 },
      { jids: [], of: 3 }, // Eve was a member by then
    ]);

    const atB = store.roomReads.byRoomStanzaId(conv, 's-b')!;
    expect(store.roomReads.record(conv, PAUL, atB, 10_000)).toEqual({ from: null });
    expect(store.roomReads.ownBetween(conv, null, atB, 10)).toEqual([a]);
    expect(readBy([a, c])).toEqual([
      { jids: [PAUL], of: 2 },
      { jids: [], of: 3 },
    ]);
    // An earlier marker does not move it back; the same one changes nothing.
    expect(store.roomReads.record(conv, PAUL, store.roomReads.byRoomStanzaId(conv, 's-a')!, 11_000)).toBeUndefined();
    expect(store.roomReads.record(conv, PAUL, atB, 11_000)).toBeUndefined();
    const atC = store.roomReads.byRoomStanzaId(conv, 's-c')!;
    expect(store.roomReads.record(conv, PAUL, atC, 12_000)).toEqual({ from: atB });
    expect(store.roomReads.ownBetween(conv, atB, atC, 10)).toEqual([c]);
    store.roomReads.record(conv, NINA, atC, 12_000);
    store.roomReads.record(conv, EVE, atC, 12_000);
    expect(readBy([a, c])).toEqual([
      { jids: [NINA, PAUL], of: 2 }, // Eve read it too, but it was not written to her
      { jids: [EVE, NINA, PAUL], of: 3 },
    ]);
    // Others' messages, and ours not yet sent, carry nothing.
    expect(readBy([b])).toEqual([undefined]);
    expect(store.roomReads.byRoomStanzaId(conv, 'unknown')).toBeUndefined();
  });

  it('goes with the message it names (retention) and with the room', () => {
    const conv = room();
    message(conv, { dir: 'in', at: 2_000, stanzaId: 's-a', from: PAUL });
    store.roomReads.record(conv, NINA, store.roomReads.byRoomStanzaId(conv, 's-a')!, 3_000);
    expect(store.roomReads.marks(conv)).toHaveLength(1);
    store.messages.purgeBefore(2_500);
    expect(store.roomReads.marks(conv)).toEqual([]);
  });
});

describe('mentions in the store', () => {
  it('a received message that mentions us counts in the inbox until read; an edit drops its ranges', () => {
    const conv = room();
    const { id } = store.messages.insert({
      conversationId: conv,
      direction: 'in',
      state: 'delivered',
      body: '@Rita can you call the lab',
      originId: 'o-m',
      sentAt: 2_000,
      senderJid: PAUL,
      mentions: [{ jid: ME, begin: 0, end: 5 }],
      mentionsMe: true,
    });
    expect(store.messages.get(id)).toMatchObject({ mentions: [{ jid: ME, begin: 0, end: 5 }], mentionsMe: true });
    expect(store.conversations.summary(conv)).toMatchObject({ unread: 1, mentionUnread: 1 });
    store.messages.applyChange(id, { kind: 'edit', body: 'never mind' }, 3_000);
    expect(store.messages.get(id)?.mentions).toBeUndefined();
    store.conversations.markRead(conv);
    expect(store.conversations.summary(conv)?.mentionUnread).toBeUndefined();
  });
});

describe('marker stanzas', () => {
  it('sends the room’s stanza-id as a groupchat displayed marker, without a store hint', () => {
    const el = roomDisplayedMarker(ROOM, 'room-sid-1');
    expect(el.attrs).toMatchObject({ to: ROOM, type: 'groupchat' });
    expect(el.getChild('displayed', 'urn:xmpp:chat-markers:0')?.attrs.id).toBe('room-sid-1');
    expect(el.getChild('store', 'urn:xmpp:hints')).toBeUndefined();
  });

  it('reads a live marker from an occupant, nothing else', () => {
    const marker = (attrs: Record<string, string>, ...children: ReturnType<typeof xml>[]) =>
      xml('message', { type: 'groupchat', ...attrs }, ...children);
    const displayed = (id: string) => xml('displayed', { xmlns: 'urn:xmpp:chat-markers:0', id });
    expect(readRoomMarker(marker({ from: `${ROOM}/Paul` }, displayed('s-1')))).toEqual({
      room: ROOM,
      nick: 'Paul',
      id: 's-1',
    });
    expect(readRoomMarker(marker({ from: ROOM }, displayed('s-1')))).toBeNull(); // the room itself
    expect(readRoomMarker(marker({ from: `${ROOM}/Paul`, type: 'chat' }, displayed('s-1')))).toBeNull();
    expect(readRoomMarker(marker({ from: `${ROOM}/Paul` }, displayed('s-1'), displayed('s-2')))).toBeNull();
    expect(readRoomMarker(marker({ from: `${ROOM}/Paul` }, displayed('x'.repeat(129))))).toBeNull();
    expect(
      readRoomMarker(
        marker({ from: `${ROOM}/Paul` }, displayed('s-1'), xml('openpgp', { xmlns: 'urn:xmpp:openpgp:0' })),
      ),
    ).toBeNull();
  });

  it('reads a kept marker only from our own query’s results from the room, with the archive’s real JID', () => {
    const result = (o: { from?: string; queryid?: string; jid?: string | null }) =>
      xml(
        'message',
        { from: o.from ?? ROOM },
        xml(
          'result',
          { xmlns: 'urn:xmpp:mam:2', queryid: o.queryid ?? 'q1', id: 'arch-9' },
          xml(
            'forwarded',
            { xmlns: 'urn:xmpp:forward:0' },
            xml('delay', { xmlns: 'urn:xmpp:delay', stamp: '2026-11-28T10:00:00Z' }),
            xml(
              'message',
              { from: `${ROOM}/Paul`, type: 'groupchat' },
              xml('displayed', { xmlns: 'urn:xmpp:chat-markers:0', id: 's-1' }),
              ...(o.jid === null
                ? []
                : [
                    xml(
                      'x',
                      { xmlns: 'http://jabber.org/protocol/muc#user' },
                      xml('item', { jid: o.jid ?? `${PAUL}/desk`, affiliation: 'member' }),
                    ),
                  ]),
            ),
          ),
        ),
      );
    expect(readRoomArchiveMarker(result({}), ROOM, 'q1')).toEqual({
      realJid: PAUL,
      id: 's-1',
      stamp: new Date('2026-11-28T10:00:00Z'),
      archiveId: 'arch-9',
    });
    expect(readRoomArchiveMarker(result({ queryid: 'other' }), ROOM, 'q1')).toBeNull();
    expect(readRoomArchiveMarker(result({ from: 'eve@clinic.test' }), ROOM, 'q1')).toBeNull();
    expect(readRoomArchiveMarker(result({ jid: null }), ROOM, 'q1')?.realJid).toBeNull();
  });
});

describe('the row’s words', () => {
  it('names up to three readers and says of how many', () => {
    expect(readByLabel([], 3)).toBeNull();
    expect(readByLabel(['Dana'], 2)).toBe('Read by Dana (1 of 2)');
    expect(readByLabel(['Dana', 'Sam'], 2)).toBe('Read by Dana, Sam');
    expect(readByLabel(['A', 'B', 'C', 'D'], 12)).toBe('Read by 4 of 12');
    expect(readByLabel(['A', 'B', 'C', 'D'], 4)).toBe('Read by all 4');
  });
});
