/**
 * Care-team room benchmarks (issue 18 §6) against a real Prosody on loopback, with the app's
 * Messaging clients (test/support/xmpp-support.ts makeClient) in a 50-member room of
 * deploy/prosody's MUC component:
 *   send      — a message to the 50-member room: send() → the server's ack on the sender (member
 *               list read from the room, encrypted once to the 49 other members' pinned keys and
 *               ours, sent), and send() → stored at one member's workstation; against a
 *               one-to-one message to that same member, alternating, in the same run. p50 / p99.
 *   memory    — a workstation joined to 100 rooms (5 members each, IT an occupant of each), above
 *               the same workstation signed in with no rooms: its main thread's V8 heap
 *               (rooms/memory-100-joined) and its process's RSS (rooms/memory-100-joined-rss),
 *               each after two full GCs, baseline = that figure with no rooms. The workstation
 *               runs alone in a child process (rooms-memory-child.ts, forked with this process's
 *               tsx loader): in this process, which generates 48 keys and runs other clients, RSS
 *               measured the allocator more than the rooms (it once fell 31 MB across the step).
 *               The child signs in for the first time (generates and publishes its key), restarts
 *               and samples; this process then creates the rooms; the child restarts, joins them
 *               all at sign-in and samples again. No key is generated between the samples; the
 *               test client's own event list is emptied before each. RSS counts every thread
 *               alive at the sample (the decrypt pool's are closed once catch-up is done) and
 *               tsx's loader and compiled sources, in both samples alike.
 *
 *   catch-up  — N room messages (default 10,000) from one member, each signcrypted to the 50 members,
 *               posted while a member's workstation was away: its restart (connect, join, the
 *               room's archive in pages of 100, decrypt + verify in the worker pool, store) in
 *               msg/s, against the same member catching up N one-to-one messages from the same
 *               sender the same way (after the room's), in the same run. The sender stopped first.
 *
 * Two workstations run the app's full client (the sender and one receiving member); the 48 other
 * members each published a fresh key on their PEP node over a bare connection, as their first
 * sign-in would (test/support/demo-patients.ts does the same for the archive key): the sender
 * fetches and pins their keys on its first room send (a warm-up, not measured).
 *
 *   npx tsx test/bench/rooms.bench.ts     BENCH_ROOMS_SEND_N (sends of each kind, default 100),
 *                                         BENCH_ROOMS_CATCHUP_N (catch-up, default 10000)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { EventName } from '../../common/ipc-contract';
import { randomUUID } from 'node:crypto';
import {
  generateIdentity,
  identityAsContact,
  loadIdentity,
  signcrypt,
  type ContactKey,
  type Identity,
} from '../../main/crypto';
import { signcryptForRoom } from '../../main/crypto/room-message';
import { IDENTITY_SETTING } from '../../main/xmpp/account-key';
import { roomMessageStanza } from '../../main/xmpp/room-stanzas';
import { oxMessage } from '../../main/xmpp/stanzas';
import type { XmlElement } from '@xmpp/client';
import { publishPublicKey } from '../../main/xmpp/pep-keys';
import type { MessagingMetrics } from '../../main/xmpp/types';
import { createRoom, joinRoom, mucPerson, type MucPerson } from '../support/muc-support';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { makeClient, messagesWith, rawConnection, waitFor, type TestClient } from '../support/xmpp-support';
import { recordBench, type BenchEntry } from './report';
// Types only: a value import would run the child's main() in this process.
import type { FromChild, MemorySample, RoomsMemorySetup, RoomsMemorySetupEnv, ToChild } from './rooms-memory-child';
import { pct } from './stages';

const SEND_N = Math.max(10, Number(process.env.BENCH_ROOMS_SEND_N ?? 100));
const ROOM_SIZE = 50;
const MEMORY_ROOMS = 100;
const CU_N = Math.max(100, Number(process.env.BENCH_ROOMS_CATCHUP_N ?? 10_000));
const CU_LABEL = CU_N % 1000 === 0 ? `${CU_N / 1000}k` : String(CU_N);
const BODY = 'x'.repeat(200);

const ADMIN = 'it-admin@clinic.test';
const ALICE = 'alice@clinic.test'; // the sender
const BOB = 'bob@clinic.test'; // a receiving member, and the one-to-one peer
const MIRA = 'mira@clinic.test'; // the workstation whose memory is measured
/** The room's other members: keys published, no client running. */
const OTHERS = Array.from({ length: ROOM_SIZE - 2 }, (_, i) => `member${String(i + 3).padStart(2, '0')}@clinic.test`);
const ROOMS_MEMORY_SETUP: RoomsMemorySetupEnv = 'CLINIC_ROOMS_MEMORY_SETUP';
const pw = (jid: string) => `${jid.split('@')[0]}-password-1`;

/** When each message (by origin-id) was acked by the server (sender) or stored (receiver). */
interface Marks {
  sent: Map<string, number>;
  added: Map<string, number>;
}

/**
 * The server's ack of our stanza (MessagingMetrics.live 'acked', just before the outbox marks it
 * sent). Not the 'sent' event: Bob's receipt can arrive before the ack and move it to 'delivered'.
 */
function acks(marks: Marks): MessagingMetrics {
  return {
    live(stage, originId, at) {
      if (stage === 'acked' && !marks.sent.has(originId)) marks.sent.set(originId, at);
    },
  };
}

function watch(marks: Marks) {
  return (name: EventName, payload: unknown) => {
    const m = payload as { originId?: string | null; state?: string; direction?: string };
    if (!m.originId) return;
    if (name === 'message:added' && m.direction === 'in' && !marks.added.has(m.originId))
      marks.added.set(m.originId, performance.now());
  };
}

/** A first sign-in's key publication, without the client: a fresh key on the account's PEP node. */
async function publishKeys(server: ProsodyServer, jids: string[]): Promise<Map<string, Identity>> {
  const identities = new Map<string, Identity>();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < jids.length) {
        const jid = jids[next++]!;
        const g = await generateIdentity(jid);
        identities.set(jid, await loadIdentity(g.armoredSecretKey));
        const conn = rawConnection(server, jid, pw(jid), 'publish');
        await conn.start();
        try {
          await publishPublicKey(conn, g.fingerprint, g.publicKeyBinary, new Date());
        } finally {
          await conn.stop();
        }
      }
    }),
  );
  return identities;
}

/** The next message of `type` from the memory child; rejects if it exits first or takes longer than `timeoutMs`. */
function fromChild<T extends FromChild['type']>(
  child: ChildProcess,
  type: T,
  timeoutMs: number,
): Promise<Extract<FromChild, { type: T }>> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, m?: Extract<FromChild, { type: T }>) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(m!);
    };
    const onMessage = (m: FromChild) => {
      if (m.type === type) done(null, m as Extract<FromChild, { type: T }>);
    };
    const onExit = (code: number | null, signal: string | null) =>
      done(new Error(`memory child exited (${code ?? signal}) before '${type}'`));
    const timer = setTimeout(
      () => done(new Error(`memory child: no '${type}' within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/**
 * Mira's workstation in a process of its own (rooms-memory-child.ts), signed in with no rooms, then
 * again once she is a member of MEMORY_ROOMS rooms (joined at sign-in): its heap and RSS each time.
 */
async function memory(server: ProsodyServer, admin: MucPerson): Promise<{ before: MemorySample; after: MemorySample }> {
  const setup: RoomsMemorySetup = {
    server: { host: server.host, c2sPort: server.c2sPort, caPem: server.caPem },
    jid: MIRA,
    password: pw(MIRA),
    rooms: MEMORY_ROOMS,
  };
  // This process's execArgv is tsx's loader (npx tsx runs the bench as `node --require … --import …`).
  const child = fork(fileURLToPath(new URL('./rooms-memory-child.ts', import.meta.url)), [], {
    execArgv: [...process.execArgv, '--expose-gc'],
    env: { ...process.env, [ROOMS_MEMORY_SETUP]: JSON.stringify(setup) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const before = (await fromChild(child, 'before', 180_000)).sample;
    for (let i = 0; i < MEMORY_ROOMS; i++) {
      const others = OTHERS.slice(i % (OTHERS.length - 4), (i % (OTHERS.length - 4)) + 4);
      await createRoom(admin, `team-${i}@${server.rooms}`, 'IT', [MIRA, ...others]);
    }
    const after = fromChild(child, 'after', 300_000);
    const go: ToChild = { type: 'go' };
    child.send(go);
    const result = { before, after: (await after).sample };
    const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000).unref())]);
    if (code !== 0) throw new Error(`memory child ${code === 'hung' ? 'did not exit' : `exited with ${code}`}`);
    return result;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  }
}

/** Polls without an interval, as xmpp.bench.ts does: the wait adds nothing to the time measured. */
async function until(what: string, fn: () => boolean, state: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${state()})`);
    await new Promise((r) => setImmediate(r));
  }
}

interface SendTimes {
  sent: number[];
  received: number[];
}

/** One message from Alice in `conversationId`; resolves once it is sent and stored at Bob's. */
async function sendOne(
  alice: TestClient,
  bob: string,
  aliceMarks: Marks,
  bobMarks: Marks,
  conversationId: string,
  body: string,
  into: SendTimes,
): Promise<void> {
  const t0 = performance.now();
  const m = await alice.messaging.send(conversationId, body);
  const id = m.originId!;
  const state = () => {
    const now = alice.store.messages.get(m.id);
    return `${conversationId === alice.store.conversations.byPeer(bob)?.id ? 'one-to-one' : 'room'} message ${now?.state ?? 'gone'} ${now?.failure ?? ''}`;
  };
  await until('acked', () => aliceMarks.sent.has(id), state);
  await until('received', () => bobMarks.added.has(id), state);
  into.sent.push(aliceMarks.sent.get(id)! - t0);
  into.received.push(bobMarks.added.get(id)! - t0);
}

async function sends(
  alice: TestClient,
  bob: TestClient,
  room: string,
  aliceMarks: Marks,
  bobMarks: Marks,
): Promise<{ room: SendTimes; direct: SendTimes }> {
  const roomConv = alice.store.rooms.get(room)!.conversationId;
  const directConv = alice.store.conversations.getOrCreate(bob.jid).id;
  const warm: SendTimes = { sent: [], received: [] };
  // Warm-up: the first room send fetches and pins the 48 published keys; the first direct send Bob's.
  await sendOne(alice, bob.jid, aliceMarks, bobMarks, roomConv, `${BODY} warm`, warm);
  await sendOne(alice, bob.jid, aliceMarks, bobMarks, directConv, `${BODY} warm`, warm);
  const roomTimes: SendTimes = { sent: [], received: [] };
  const direct: SendTimes = { sent: [], received: [] };
  // Alternating, so both kinds see the same machine load.
  for (let i = 0; i < SEND_N; i++) {
    await sendOne(alice, bob.jid, aliceMarks, bobMarks, roomConv, `${BODY} ${i}`, roomTimes);
    await sendOne(alice, bob.jid, aliceMarks, bobMarks, directConv, `${BODY} ${i}`, direct);
  }
  return { room: roomTimes, direct };
}

const identityOf = (c: TestClient): Promise<Identity> =>
  loadIdentity(c.store.getSetting<{ armoredSecretKey: string }>(IDENTITY_SETTING)!.armoredSecretKey);

/** N stanzas made by `make`, each sent and acked, 16 under way at once (as xmpp.bench.ts fills an archive). */
async function post(n: number, send: (el: XmlElement) => Promise<unknown>, make: () => Promise<XmlElement>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < n) {
        next++;
        await send(await make());
      }
    }),
  );
}

/** Bob's restart while `n` new messages wait for him: msg/s until settled, and how many were stored. */
async function restartRate(bob: TestClient, count: () => number, n: number): Promise<number> {
  const before = count();
  const t0 = performance.now();
  await bob.restart();
  await bob.messaging.inspect.settled();
  const seconds = (performance.now() - t0) / 1000;
  const stored = count() - before;
  if (stored !== n) throw new Error(`catch-up stored ${stored} of ${n}`);
  return n / seconds;
}

/**
 * Catch-up of CU_N room messages (the 50-member room), then of CU_N one-to-one messages, by Bob's
 * workstation; both from member03, over a bare connection, while Bob is away.
 */
async function catchUps(
  server: ProsodyServer,
  room: string,
  bob: TestClient,
  members: Map<string, ContactKey | null>,
  sender: { jid: string; identity: Identity },
): Promise<{ room: number; direct: number }> {
  const person = await mucPerson(server, sender.jid, pw(sender.jid), 'bulk');
  try {
    const joined = await joinRoom(person, room, sender.jid.split('@')[0]!);
    if (!joined.ok) throw new Error(`${sender.jid} could not join: ${joined.condition}`);
    const roomMembers = [...members].map(([jid, key]) => ({ jid, key }));
    await bob.messaging.stop();
    let t0 = performance.now();
    await post(
      CU_N,
      (el) => person.conn.sendAcked(el),
      async () => {
        const out = await signcryptForRoom({
          identity: sender.identity,
          room,
          members: roomMembers,
          body: BODY,
          now: new Date(),
        });
        return roomMessageStanza(room, randomUUID(), out.base64);
      },
    );
    console.log(`${CU_N} room messages posted in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    person.seen.length = 0; // the room sends each back to the bare connection: not kept
    const roomRate = await restartRate(bob, () => messagesWith(bob, room).length, CU_N);

    await bob.messaging.stop();
    const bobKey = members.get(bob.jid)!;
    t0 = performance.now();
    await post(
      CU_N,
      (el) => person.conn.sendAcked(el),
      async () => {
        const b64 = await signcrypt({ identity: sender.identity, recipients: [bobKey], to: bob.jid, body: BODY });
        return oxMessage(bob.jid, randomUUID(), b64);
      },
    );
    console.log(`${CU_N} one-to-one messages posted in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const directRate = await restartRate(bob, () => messagesWith(bob, sender.jid).length, CU_N);
    return { room: roomRate, direct: directRate };
  } finally {
    await person.stop();
  }
}

async function main() {
  const t0 = Date.now();
  const server = await startProsody({
    users: [ADMIN, ALICE, BOB, MIRA, ...OTHERS].map((jid) => ({ jid, password: pw(jid), name: jid.split('@')[0]! })),
    admins: [ADMIN],
  });
  const room = `care-team@${server.rooms}`;
  const aliceMarks: Marks = { sent: new Map(), added: new Map() };
  const bobMarks: Marks = { sent: new Map(), added: new Map() };
  let admin: MucPerson | null = null;
  const clients: TestClient[] = [];
  const entries: BenchEntry[] = [];
  try {
    const identities = await publishKeys(server, OTHERS);
    admin = await mucPerson(server, ADMIN, pw(ADMIN));
    // First, before the send clients exist: the memory of 100 joined rooms.
    const mem = await memory(server, admin);
    // Ratio: the growth as a share of the same figure with no rooms.
    const heap = mem.after.heapMB - mem.before.heapMB;
    const rss = mem.after.rssMB - mem.before.rssMB;
    entries.push(
      {
        name: `rooms/memory-${MEMORY_ROOMS}-joined`,
        value: heap,
        unit: 'MB',
        baseline: mem.before.heapMB,
        ratio: heap / mem.before.heapMB,
      },
      {
        name: `rooms/memory-${MEMORY_ROOMS}-joined-rss`,
        value: rss,
        unit: 'MB',
        baseline: mem.before.rssMB,
        ratio: rss / mem.before.rssMB,
      },
    );
    const line = (m: MemorySample) =>
      `V8 heap ${m.heapMB.toFixed(1)}, RSS ${m.rssMB.toFixed(1)}, external ${m.externalMB.toFixed(1)} MB, ${m.threads ?? '?'} threads`;
    console.log(`memory (the workstation's own process): no rooms: ${line(mem.before)}`);
    console.log(`memory (the workstation's own process): ${MEMORY_ROOMS} rooms joined: ${line(mem.after)}`);
    await createRoom(admin, room, 'IT', [ALICE, BOB, ...OTHERS]);
    const alice = await makeClient(server, ALICE, pw(ALICE), { metrics: acks(aliceMarks) });
    clients.push(alice);
    const bob = await makeClient(server, BOB, pw(BOB), { onEvent: watch(bobMarks) });
    clients.push(bob);
    for (const c of clients) {
      await c.messaging.inspect.settled();
      await waitFor(`${c.jid} joined`, () => c.store.rooms.get(room)?.joinedAt != null);
      if (c.store.rooms.members(room).length !== ROOM_SIZE) throw new Error(`${c.jid} does not see ${ROOM_SIZE}`);
    }
    console.log(`setup and memory (Prosody, ${ROOM_SIZE + 2} accounts, keys, rooms, clients): ${Date.now() - t0} ms`);

    const s = await sends(alice, bob, room, aliceMarks, bobMarks);
    const name = `rooms/send-${ROOM_SIZE}-members`;
    for (const p of [50, 99]) {
      const value = pct(s.room.sent, p);
      const baseline = pct(s.direct.sent, p);
      entries.push({ name: `${name}-p${p}`, value, unit: 'ms', baseline, ratio: value / baseline });
    }
    const value = pct(s.room.received, 50);
    const baseline = pct(s.direct.received, 50);
    entries.push({ name: `${name}-received-p50`, value, unit: 'ms', baseline, ratio: value / baseline });

    // The 50 members and their keys as the room's sender encrypts to them (itself: null).
    const SENDER = OTHERS[0]!;
    const members = new Map<string, ContactKey | null>([
      [ALICE, identityAsContact(await identityOf(alice))],
      [BOB, identityAsContact(await identityOf(bob))],
      ...OTHERS.map((jid): [string, ContactKey | null] => [
        jid,
        jid === SENDER ? null : identityAsContact(identities.get(jid)!),
      ]),
    ]);
    await alice.messaging.stop(); // only Bob's workstation works during the catch-ups
    const cu = await catchUps(server, room, bob, members, { jid: SENDER, identity: identities.get(SENDER)! });
    entries.push({
      name: `rooms/catch-up-${CU_LABEL}`,
      value: cu.room,
      unit: 'msg/s',
      baseline: cu.direct,
      ratio: cu.room / cu.direct,
    });
  } finally {
    await admin?.stop();
    await Promise.all(clients.map((c) => c.close()));
    await server.stop();
  }
  console.log(
    `Care-team room benchmarks (loopback Prosody, ${availableParallelism()} cores; ${ROOM_SIZE}-member room, ` +
      `sends n=${SEND_N} of each kind, catch-up n=${CU_N}; baseline: one-to-one with the same member; ` +
      `memory: MB above the same workstation with no rooms, in a process of its own; baseline = its V8 heap / RSS with no rooms)`,
  );
  console.table(
    entries.map((e) => ({
      ...e,
      value: Number(e.value.toFixed(2)),
      baseline: e.baseline === undefined ? '' : Number(e.baseline.toFixed(2)),
      ratio: e.ratio === undefined ? '' : Number(e.ratio.toFixed(2)),
    })),
  );
  recordBench(entries);
}

await main();
