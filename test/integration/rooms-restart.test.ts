/**
 * A care-team room across a server restart (issue 18 §3: "a message sent during a server restart
 * arrives once for every member"), in the app's messaging service over a real Prosody: three
 * workstations (receptionist, physician, nurse) with their real stores and keys in one
 * members-only room of deploy/prosody's MUC component.
 *
 * 1. The server stops (its files kept) while all three are signed in; the receptionist writes to
 *    the room meanwhile: queued in her outbox. The server comes back; every workstation signs in
 *    again, rejoins the room and catches up from its archive, the outbox sends. Each message is on
 *    every workstation exactly once, in the order written; none twice from the live room and its
 *    archive.
 * 2. The message went out but the server's answer never came back: the receptionist's connection
 *    goes through a loopback proxy (net-support.ts cuttableProxy) that silences the server the
 *    moment her outbox signed the message (the `signed` stage of MessagingMetrics.live, just before
 *    the stanza is written). The room takes it and passes it on; her workstation gets neither the
 *    server's ack nor the room's reflection, and the server stops. After the restart her outbox
 *    sends it again under the same origin-id: the others keep the copy they have, her own view
 *    keeps one row, and it is counted sent once the server acknowledged the second copy.
 * 3. The same restart with a long account catch-up (held with MessagingInspect.beforeDecrypt on a
 *    one-to-one message that reached her archive while her stream was silent): the outbox's timer
 *    runs before the room is joined again and must not post to it (the server would ack the post
 *    and the room bounce it: "sent", and lost for everyone). It waits, queued, and arrives once.
 * 4. Not a restart: the network drops her connection and the stream resumes (XEP-0198). The server
 *    kept her in the room, so a message written meanwhile goes without a rejoin, once.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../common/contract/domain';
import type { MessagingInspect } from '../../main/xmpp/types';
import { createRoom, mucPerson } from '../support/muc-support';
import { startProsody, type ProsodyServer } from '../support/prosody';
import {
  auditTypes,
  makeClient,
  messagesWith,
  recordingLogger,
  waitFor,
  type TestClient,
} from '../support/xmpp-support';
import { cuttableProxy, type CuttableProxy } from './net-support';

const ADMIN = 'it-admin@clinic.test';
const RITA = 'rita@clinic.test'; // receptionist
const PAUL = 'paul@clinic.test'; // physician
const NINA = 'nina@clinic.test'; // nurse
const pw = (jid: string) => `${jid.split('@')[0]}-password-1`;
const NAMES: Record<string, string> = {
  [RITA]: 'Rita Reyes',
  [PAUL]: 'Paul Park',
  [NINA]: 'Nina Novak',
  [ADMIN]: 'IT',
};
const POLL = { timeout: 30_000, interval: 50 };

describe('a care-team room across a server restart', () => {
  let server: ProsodyServer;
  let proxy: CuttableProxy;
  let room: string;
  let rita: TestClient;
  let paul: TestClient;
  let nina: TestClient;
  const all = () => [rita, paul, nina];
  /** Each message Rita's outbox signed, by origin-id, once per attempt, right before the stanza is written. */
  const signed: string[] = [];
  let onSigned: (() => void) | null = null;
  /** Rita's fault injection (MessagingInspect): holds her decryptions when set. */
  const ritaInspect: MessagingInspect = {};
  /** What Rita's messaging service logged (codes and names, never content): read when a case fails. */
  const ritaLog: string[] = [];

  const roomConv = (c: TestClient) => c.store.rooms.get(room)!.conversationId;
  const inRoom = (c: TestClient) => messagesWith(c, room);
  const joinedAt = (c: TestClient) => c.store.rooms.get(room)?.joinedAt ?? null;
  /** The rows of these messages on this workstation, in the conversation's order. */
  const rowsOf = (c: TestClient, sent: Message[]) => {
    const ids = new Set(sent.map((m) => m.originId));
    return inRoom(c).filter((m) => ids.has(m.originId));
  };

  beforeAll(async () => {
    server = await startProsody({
      users: [ADMIN, RITA, PAUL, NINA].map((jid) => ({ jid, password: pw(jid), name: NAMES[jid]! })),
      admins: [ADMIN],
    });
    room = `care-team@${server.rooms}`;
    const admin = await mucPerson(server, ADMIN, pw(ADMIN));
    await createRoom(admin, room, 'IT', [RITA, PAUL, NINA]);
    await admin.stop();
    proxy = await cuttableProxy(server.c2sPort);
    [rita, paul, nina] = await Promise.all([
      makeClient(server, RITA, pw(RITA), {
        server: { port: proxy.port },
        inspect: ritaInspect,
        logger: recordingLogger(ritaLog),
        metrics: {
          live: (stage, originId) => {
            if (stage !== 'signed') return;
            signed.push(originId);
            onSigned?.();
          },
        },
      }),
      makeClient(server, PAUL, pw(PAUL)),
      makeClient(server, NINA, pw(NINA)),
    ]);
    for (const c of all()) {
      await c.messaging.inspect.settled();
      await waitFor(`${c.jid} in the room`, () => joinedAt(c) !== null);
    }
    // The room works before the server goes: a first message reaches the other two.
    const hello = await paul.messaging.send(roomConv(paul), 'Morning, team.');
    for (const c of [rita, nina])
      await waitFor(`${c.jid} has it`, () => inRoom(c).some((m) => m.originId === hello.originId && m.body));
  });
  afterAll(async () => {
    await Promise.all([rita, paul, nina].filter(Boolean).map((c) => c.close()));
    await proxy?.close();
    await server?.stop();
  });

  /**
   * The server is back: every workstation has signed in again, rejoined the room (a later join
   * time) and finished its session setup, the room's archive catch-up included.
   */
  async function everyoneBack(before: Map<TestClient, number | null>): Promise<void> {
    for (const c of all()) {
      await expect.poll(() => (joinedAt(c) ?? 0) > (before.get(c) ?? 0), POLL).toBe(true);
      await c.messaging.inspect.settled();
    }
  }

  /**
   * Nothing about these messages is still on its way: Rita's outbox is empty and a message the
   * nurse writes now has reached everyone (each workstation handles a room's stanzas in order).
   */
  async function quiet(): Promise<void> {
    expect(await rita.outboxIdle()).toBe(true);
    const barrier = await nina.messaging.send(roomConv(nina), 'Noted.');
    for (const c of all())
      await expect.poll(() => inRoom(c).some((m) => m.originId === barrier.originId && m.body), POLL).toBe(true);
  }

  /** How many rows each workstation's room conversation holds now. */
  const roomRows = () => new Map(all().map((c) => [c, inRoom(c).length]));

  /**
   * Each message once on every workstation, in the order written: Rita's own copies and the others'
   * received ones. Nothing else was stored in the room since `before` but these and quiet()'s message
   * (no copy under another id).
   */
  function expectOnceEverywhere(sent: Message[], before: Map<TestClient, number>): void {
    const expected = sent.map((m) => [m.originId, m.body]);
    for (const c of all()) {
      expect(inRoom(c).length, c.jid).toBe(before.get(c)! + sent.length + 1);
      const rows = rowsOf(c, sent);
      expect(
        rows.map((m) => [m.originId, m.body]),
        c.jid,
      ).toEqual(expected);
      if (c === rita) {
        expect(rows.every((m) => m.direction === 'out' && m.state === 'sent')).toBe(true);
        expect(rows.map((m) => m.id)).toEqual(sent.map((m) => m.id));
      } else {
        expect(rows.every((m) => m.direction === 'in' && m.senderJid === RITA && m.state === 'delivered')).toBe(true);
        // Stored once, audited once.
        const received = auditTypes(c).filter(
          (a) => a.type === 'message-received' && rows.some((m) => m.id === a.detail.messageId),
        );
        expect(received).toHaveLength(sent.length);
      }
      expect(auditTypes(c).filter((a) => a.type === 'message-rejected' && a.detail.peer === room)).toEqual([]);
    }
    const sentAudit = auditTypes(rita).filter(
      (a) => a.type === 'message-sent' && sent.some((m) => m.id === a.detail.messageId),
    );
    expect(sentAudit).toHaveLength(sent.length);
  }

  it('messages written while the server is down are queued, then arrive once on every workstation, in order', async () => {
    const before = new Map(all().map((c) => [c, joinedAt(c)]));
    const rows = roomRows();
    await server.halt();
    for (const c of all()) await expect.poll(() => c.messaging.connection().state, POLL).not.toBe('online');

    const texts = [
      'Mrs Lee has arrived for her 10:30.',
      'She is asking about her blood results.',
      'Room 2 is free now.',
    ];
    const sent: Message[] = [];
    for (const t of texts) sent.push(await rita.messaging.send(roomConv(rita), t));
    expect(sent.map((m) => m.state)).toEqual(['queued', 'queued', 'queued']);
    expect(rita.store.outbox.all().map((o) => o.messageId)).toEqual(sent.map((m) => m.id));

    await server.restart();
    await everyoneBack(before);
    // Counted sent once the server took them: out of the outbox, each audited once.
    await expect
      .poll(() => sent.map((m) => rita.store.messages.get(m.id)?.state), POLL)
      .toEqual(['sent', 'sent', 'sent']);
    for (const c of [paul, nina]) await expect.poll(() => rowsOf(c, sent).length, POLL).toBe(sent.length);
    await quiet();
    expectOnceEverywhere(sent, rows);
  });

  it('a message the room took just before the server stopped, unacknowledged: sent again after the restart, kept once', async () => {
    const before = new Map(all().map((c) => [c, joinedAt(c)]));
    const rows = roomRows();
    const from = signed.length;
    onSigned = () => {
      // The stanza is written right after this: the server gets it, Rita hears nothing back.
      proxy.cut();
      onSigned = null;
    };
    const m = await rita.messaging.send(roomConv(rita), 'Dr Park is running 20 minutes late.');
    // The room took it and passed it on…
    for (const c of [paul, nina])
      await expect.poll(() => rowsOf(c, [m]).map((r) => r.body), POLL).toEqual(['Dr Park is running 20 minutes late.']);
    expect(signed.slice(from)).toEqual([m.originId]);
    // …but no ack and no reflection reached Rita: still queued.
    expect(rita.store.messages.get(m.id)?.state).toBe('queued');
    expect(rita.store.outbox.all().map((o) => o.messageId)).toEqual([m.id]);

    await server.halt();
    await server.restart();
    await everyoneBack(before);
    await expect.poll(() => rita.store.messages.get(m.id)?.state, POLL).toBe('sent');
    // Sent again, under the same origin-id (the room now holds it twice).
    expect(signed.slice(from)).toEqual([m.originId, m.originId]);
    await quiet();
    expectOnceEverywhere([m], rows);
  });

  it('a long account catch-up after the restart: the queued room message waits until the room is joined again, then arrives once', async () => {
    const before = new Map(all().map((c) => [c, joinedAt(c)]));
    const rows = roomRows();
    // Rita's stream goes silent: what the server sends her now is archived for her, never delivered.
    proxy.cut();
    const direct = await paul.messaging.send(paul.store.conversations.getOrCreate(RITA).id, 'Can you call the lab?');
    await expect.poll(() => paul.store.messages.get(direct.id)?.state, POLL).toBe('sent');
    await server.halt();
    await expect.poll(() => rita.messaging.connection().state, POLL).not.toBe('online');
    const m = await rita.messaging.send(roomConv(rita), 'The lab called back about bed 6.');
    // After the restart her account's catch-up holds on that message (as a long backlog would);
    // the room is joined only after it, and the outbox's timer runs meanwhile.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let holding = 0;
    ritaInspect.beforeDecrypt = () => {
      holding += 1;
      return held;
    };
    try {
      await server.restart();
      await expect.poll(() => holding, POLL).toBeGreaterThan(0);
      // The outbox tried (or posted) while the room was not joined yet.
      await expect
        .poll(() => {
          const row = rita.store.outbox.all().find((o) => o.messageId === m.id);
          return row === undefined || row.attempts > 0;
        }, POLL)
        .toBe(true);
      expect(joinedAt(rita)).toBe(before.get(rita));
      // Not posted to a room she is not in (the server would have acked it and the room bounced it).
      expect(rita.store.messages.get(m.id)?.state).toBe('queued');
      expect(signed.at(-1)).not.toBe(m.originId);
    } finally {
      ritaInspect.beforeDecrypt = undefined;
      release();
    }
    await everyoneBack(before);
    await expect.poll(() => rita.store.messages.get(m.id)?.state, POLL).toBe('sent');
    await expect
      .poll(() => messagesWith(rita, PAUL).filter((x) => x.originId === direct.originId).length, POLL)
      .toBe(1);
    await quiet();
    expectOnceEverywhere([m], rows);
  });

  it('a dropped connection that resumes (XEP-0198) keeps the room: a message written meanwhile goes without a rejoin, once', async () => {
    // The case starts from a usable stream: the drop below is what must make her reconnect. (A CI
    // run once found her already reconnecting here, so only 'online' followed the drop.)
    await expect.poll(() => rita.messaging.connection().state, POLL).toBe('online');
    // …and from a settled one: the last case's session setup has finished and the room carries a
    // message to everyone, so nothing of that restart is still on its way in.
    await rita.messaging.inspect.settled();
    await quiet();
    const before = new Map(all().map((c) => [c, joinedAt(c)]));
    const rows = roomRows();
    // The network drops Rita's connection; the server keeps her session for resumption.
    const states = rita.events.length;
    const logFrom = ritaLog.length;
    const serverLogFrom = readFileSync(server.logFile).length;
    proxy.drop();
    const from = signed.length;
    const m = await rita.messaging.send(roomConv(rita), 'Bed 4 is asking for water.');
    await expect.poll(() => rita.store.messages.get(m.id)?.state, POLL).toBe('sent');
    // Signed and written once: a write into the dropped socket left the stanza in the stream's
    // queue, which the resumption sent again; the outbox waited for its ack instead of counting a
    // failed attempt and sending it a second time.
    expect(signed.slice(from)).toEqual([m.originId]);
    for (const c of [paul, nina]) await expect.poll(() => rowsOf(c, [m]).length, POLL).toBe(1);
    await quiet();
    // Her connection went down and came back…
    const seen = rita.events.slice(states).filter((e) => e.name === 'connection:state');
    expect(seen.map((e) => (e.payload as { state: string }).state)).toContain('connecting');
    expect(rita.messaging.connection().state).toBe('online');
    // …resumed, not a fresh session: the room was not joined again. On a failure the message says
    // how her connection went and what the server said about resuming (CI keeps no logs).
    const how = () =>
      [
        `states: ${seen.map((e) => (e.payload as { state: string }).state).join(' ')}`,
        `rita: ${ritaLog.slice(logFrom).join(' | ')}`,
        `server: ${readFileSync(server.logFile)
          .subarray(serverLogFrom)
          .toString()
          .split('\n')
          .filter((l) => /smacks|resum|hibernat|c2s/i.test(l))
          .join(' | ')}`,
      ].join('\n');
    expect(all().map(joinedAt), how()).toEqual(all().map((c) => before.get(c)));
    expectOnceEverywhere([m], rows);
  });
});
