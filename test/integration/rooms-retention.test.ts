/**
 * Retention and search over care-team rooms (issue 18) on a real Prosody, real SQLCipher stores
 * and the real retention job (main/session/retention.ts) with the policy's retentionDays.
 *
 * A physician and a receptionist are members of a room; the physician also writes to her
 * one-to-one. Messages written before the workstations' clock is moved on by 31 days (a jump
 * clock: real time plus the jump, so the server's archive stamps and the cache's times agree)
 * are past 30 days' retention, those written after are not. The job deletes the old room messages
 * with what hangs on them ("Read by" rows, the mention, the attachment's row and file), audits how
 * many (never what), and search finds only the kept ones. The room's member changes stay.
 * Then each workstation signs in again, re-joins and catches up from the room's archive and its
 * own, which still hold the purged messages: none of them comes back.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withReadBy } from '../../main/xmpp/room-reads';
import { DAY_MS } from '../../main/policy/retention';
import { startRetention } from '../../main/session/retention';
import { silentLogger } from '../../main/log';
import { noisePng } from '../support/image-fixtures';
import { jumpClock } from '../support/jump-clock';
import { createRoom, mucPerson, type MucPerson } from '../support/muc-support';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { auditTypes, makeClient, messagesWith, waitFor, type TestClient } from '../support/xmpp-support';
import { createFileStore } from '../../main/attachments/file-store';

const ADMIN = 'it-admin@clinic.test';
const RITA = 'rita@clinic.test'; // receptionist
const PAUL = 'paul@clinic.test'; // physician
const pw = (jid: string) => `${jid.split('@')[0]}-password-1`;
const NAMES: Record<string, string> = { [RITA]: 'Rita Reyes', [PAUL]: 'Paul Park', [ADMIN]: 'IT' };

/** Blobs in a client's encrypted file store (<profile>/attachments/). */
const blobs = (c: TestClient): string[] => {
  const dir = join(c.dir, 'attachments');
  return existsSync(dir) ? readdirSync(dir) : [];
};

describe('retention and search over care-team rooms', () => {
  let server: ProsodyServer;
  let admin: MucPerson;
  let room: string;
  let rita: TestClient;
  let paul: TestClient;
  const clock = jumpClock();

  const conv = (c: TestClient) => c.store.rooms.get(room)!.conversationId;
  const inRoom = (c: TestClient) => messagesWith(c, room);
  const found = async (c: TestClient, word: string) => {
    await c.store.background.indexed();
    return (await c.store.background.search(word, { cursor: null, limit: 20 })).items.length;
  };
  /** The job as the session starts it at unlock, over this client's store, audit log and files. */
  const purge = async (c: TestClient): Promise<number> => {
    const files = createFileStore({ profileDir: c.dir, filesKey: Buffer.alloc(32) });
    const job = startRetention({ days: 30, store: c.store, audit: c.audit, clock, logger: silentLogger, files });
    const deleted = await job.run();
    await job.stop();
    return deleted;
  };
  /** Signs in again and waits until the room is re-joined and the session setup (catch-ups) has run. */
  const again = async (c: TestClient) => {
    const before = c.store.rooms.get(room)!.joinedAt!;
    await c.restart();
    await waitFor(`${c.jid} re-joined`, () => c.store.rooms.get(room)!.joinedAt! > before);
    await c.messaging.inspect.settled();
  };

  beforeAll(async () => {
    server = await startProsody({
      users: [ADMIN, RITA, PAUL].map((jid) => ({ jid, password: pw(jid), name: NAMES[jid]! })),
      admins: [ADMIN],
    });
    room = `ward-retention@${server.rooms}`;
    admin = await mucPerson(server, ADMIN, pw(ADMIN));
    await createRoom(admin, room, 'IT', [RITA, PAUL]);
    [rita, paul] = (await Promise.all(
      [RITA, PAUL].map((jid) => makeClient(server, jid, pw(jid), { clock, policy: { retentionDays: 30 } })),
    )) as [TestClient, TestClient];
    for (const c of [rita, paul]) {
      await c.messaging.inspect.settled();
      await waitFor(`${c.jid} joined`, () => c.store.rooms.get(room)?.joinedAt != null);
    }
  });
  afterAll(async () => {
    await admin?.stop();
    await Promise.all([rita, paul].filter(Boolean).map((c) => c.close()));
    await server?.stop();
  });

  it('purges old room messages with their rows, audited; search finds only the kept; catch-up does not bring them back', async () => {
    const paulToRita = paul.store.conversations.getOrCreate(RITA).id;
    // Before: a room message and a one-to-one one, then a sign-in again that catches up past both
    // (the archive pointers now stand after them).
    const first = await paul.messaging.send(conv(paul), 'Saline restock on ward two');
    const firstDm = await paul.messaging.send(paulToRita, 'Lanyard left at the desk');
    await waitFor(
      'rita has both',
      () =>
        inRoom(rita).some((m) => m.originId === first.originId && m.body) &&
        messagesWith(rita, PAUL).some((m) => m.originId === firstDm.originId && m.body),
    );
    await again(rita);

    // More old ones: a mention of Rita, an attachment, a message Rita reads (Paul's "Read by").
    const mention = await paul.messaging.send(conv(paul), '@Rita Reyes fax the discharge letter', undefined, false, [
      { jid: RITA, begin: 0, end: 11 },
    ]);
    const file = await paul.messaging.sendAttachment(
      conv(paul),
      { name: 'chart.png', mediaType: 'image/png', source: Readable.from([await noisePng(32, 32)]) },
      { body: 'Wound chart scan' },
    );
    const dm = await paul.messaging.send(paulToRita, 'Parking permit renewed');
    expect(await paul.outboxIdle()).toBe(true);
    const old = [first, mention, file];
    await waitFor(
      'rita has them',
      () =>
        old.every((s) => inRoom(rita).some((m) => m.originId === s.originId && m.body)) &&
        messagesWith(rita, PAUL).some((m) => m.originId === dm.originId && m.body),
    );
    // Rita's receipt for the one-to-one message records when it reached her (received_at), which the
    // purge reads too: had it come after the 31 days below, that message would count as new and
    // Paul's purge would find 4 (seen once on a loaded machine). So it is in before the clock moves.
    await waitFor('paul has rita’s receipt', () => paul.store.messages.get(dm.id)?.state === 'delivered');
    expect(rita.store.conversations.summary(conv(rita))?.mentionUnread).toBe(1);
    await rita.messaging.markDisplayed(conv(rita));
    await waitFor('paul sees rita read it', () =>
      withReadBy(paul.store, PAUL, [paul.store.messages.get(file.id)!])[0]!.readBy?.jids.includes(RITA),
    );
    expect(paul.store.roomReads.marks(conv(paul)).map((k) => k.jid)).toEqual([RITA]);
    expect(paul.store.attachments.byMessage(file.id)).toBeDefined();
    expect(blobs(paul)).toHaveLength(1);
    const members = rita.store.rooms.changes(room);
    expect(members.length).toBeGreaterThan(0);

    // 31 days later: new messages, one of them mentioning Rita.
    clock.advance(31 * DAY_MS);
    const kept = await paul.messaging.send(conv(paul), '@Rita Reyes saline arrived, shelf B', undefined, false, [
      { jid: RITA, begin: 0, end: 11 },
    ]);
    const keptDm = await paul.messaging.send(paulToRita, 'Parking permit collected');
    await waitFor(
      'rita has the new ones',
      () =>
        inRoom(rita).some((m) => m.originId === kept.originId && m.body) &&
        messagesWith(rita, PAUL).some((m) => m.originId === keptDm.originId && m.body),
    );
    expect(await found(rita, 'saline')).toBe(2);

    // The job: the old room messages and the old one-to-one ones go, the new ones stay.
    expect(await purge(rita)).toBe(5);
    expect(await purge(paul)).toBe(5);
    for (const c of [rita, paul]) {
      expect(inRoom(c).map((m) => m.originId)).toEqual([kept.originId]);
      expect(messagesWith(c, c === rita ? PAUL : RITA).map((m) => m.originId)).toEqual([keptDm.originId]);
      expect(await found(c, 'saline')).toBe(1);
      for (const word of ['restock', 'discharge', 'wound', 'lanyard']) expect(await found(c, word)).toBe(0);
      const audited = auditTypes(c).filter((a) => a.type === 'retention-purged');
      expect(audited.map((a) => a.detail.deleted)).toEqual([5]);
      expect(audited[0]!.detail).toMatchObject({ days: 30 });
      // How many, never what.
      expect(JSON.stringify(audited)).not.toMatch(/saline|restock|discharge|wound|lanyard|parking/i);
    }
    // What hung on them: the old mention no longer counts, Paul's "Read by" row and his file went.
    expect(rita.store.conversations.summary(conv(rita))?.mentionUnread).toBe(1);
    expect(paul.store.roomReads.marks(conv(paul))).toEqual([]);
    expect(paul.store.attachments.byMessage(file.id)).toBeUndefined();
    expect(blobs(paul)).toEqual([]);
    // Who was a member when is kept.
    expect(rita.store.rooms.changes(room)).toEqual(members);

    // Signing in again: re-join, catch-up from the room's archive and from the account's; the
    // server still holds the purged messages, which stay purged (no row at all, not even refused).
    for (const c of [rita, paul]) await again(c);
    const after = await paul.messaging.send(conv(paul), 'Handover at seven');
    await waitFor('rita has the last one', () => inRoom(rita).some((m) => m.originId === after.originId && m.body));
    for (const c of [rita, paul]) {
      expect(inRoom(c).map((m) => m.originId)).toEqual([kept.originId, after.originId]);
      expect(messagesWith(c, c === rita ? PAUL : RITA).map((m) => m.originId)).toEqual([keptDm.originId]);
      for (const word of ['restock', 'discharge', 'wound', 'lanyard']) expect(await found(c, word)).toBe(0);
    }
    expect(rita.store.conversations.summary(conv(rita))?.mentionUnread).toBe(1);
  });
});
