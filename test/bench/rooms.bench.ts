/**
 * Care-team room benchmarks (issue 18 §6) against a real Prosody on loopback, with the app's
 * Messaging clients (test/support/xmpp-support.ts makeClient) in a 50-member room of
 * deploy/prosody's MUC component:
 *   send      — a message to the 50-member room: send() → 'sent' on the sender (member list read
 *               from the room, encrypted once to the 49 other members' pinned keys and ours, sent,
 *               acked by the server), and send() → stored at one member's workstation; against a
 *               one-to-one message to that same member, alternating, in the same run. p50 / p99.
 *   memory    — a workstation joined to 100 rooms (5 members each, IT an occupant of each): the
 *               main thread's V8 heap after two full GCs, above the same client signed in with no
 *               rooms. RSS is printed, not recorded: in a process that already generated 48 keys
 *               it measures the allocator more than the rooms (it can fall across the step). Both
 *               samples are taken after a fresh sign-in (restart) of that client, which was the
 *               first client of the process; the test client's own event list is emptied first.
 *
 * Two workstations run the app's full client (the sender and one receiving member); the 48 other
 * members each published a fresh key on their PEP node over a bare connection, as their first
 * sign-in would (test/support/demo-patients.ts does the same for the archive key): the sender
 * fetches and pins their keys on its first room send (a warm-up, not measured).
 *
 *   npx tsx test/bench/rooms.bench.ts     BENCH_ROOMS_SEND_N (sends of each kind, default 100)
 */
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { EventName } from '../../common/ipc-contract';
import { generateIdentity } from '../../main/crypto';
import { publishPublicKey } from '../../main/xmpp/pep-keys';
import { createRoom, mucPerson, type MucPerson } from '../support/muc-support';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { makeClient, rawConnection, waitFor, type TestClient } from '../support/xmpp-support';
import { recordBench, type BenchEntry } from './report';
import { pct } from './stages';

const SEND_N = Math.max(10, Number(process.env.BENCH_ROOMS_SEND_N ?? 100));
const ROOM_SIZE = 50;
const MEMORY_ROOMS = 100;
const MB = 1e6;
const BODY = 'x'.repeat(200);

const ADMIN = 'it-admin@clinic.test';
const ALICE = 'alice@clinic.test'; // the sender
const BOB = 'bob@clinic.test'; // a receiving member, and the one-to-one peer
const MIRA = 'mira@clinic.test'; // the workstation whose memory is measured
/** The room's other members: keys published, no client running. */
const OTHERS = Array.from({ length: ROOM_SIZE - 2 }, (_, i) => `member${String(i + 3).padStart(2, '0')}@clinic.test`);
const pw = (jid: string) => `${jid.split('@')[0]}-password-1`;

/** When each message (by origin-id) reached a state, seen through the client's event bus. */
interface Marks {
  sent: Map<string, number>;
  added: Map<string, number>;
}

function watch(marks: Marks) {
  return (name: EventName, payload: unknown) => {
    const m = payload as { originId?: string | null; state?: string; direction?: string };
    if (!m.originId) return;
    if (name === 'message:updated' && m.state === 'sent' && !marks.sent.has(m.originId))
      marks.sent.set(m.originId, performance.now());
    if (name === 'message:added' && m.direction === 'in' && !marks.added.has(m.originId))
      marks.added.set(m.originId, performance.now());
  };
}

/** A first sign-in's key publication, without the client: a fresh key on the account's PEP node. */
async function publishKeys(server: ProsodyServer, jids: string[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < jids.length) {
        const jid = jids[next++]!;
        const g = await generateIdentity(jid);
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
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** MB (10^6 bytes) after two full collections (the first can leave finalizable objects for the second). */
function sample(): { heap: number; rss: number } {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed / MB, rss: m.rss / MB };
}

/** Mira signed in with no rooms, then again once she is a member of MEMORY_ROOMS rooms (joined at sign-in). */
async function memory(
  server: ProsodyServer,
  admin: MucPerson,
): Promise<{ before: { heap: number; rss: number }; after: { heap: number; rss: number } }> {
  const mira = await makeClient(server, MIRA, pw(MIRA));
  const quiet = () => new Promise((r) => setTimeout(r, 2_000)); // background work of the sign-in (key probes) ends
  try {
    await mira.messaging.inspect.settled();
    await mira.restart();
    await mira.messaging.inspect.settled();
    await quiet();
    mira.events.length = 0;
    const before = sample();
    for (let i = 0; i < MEMORY_ROOMS; i++) {
      const others = OTHERS.slice(i % (OTHERS.length - 4), (i % (OTHERS.length - 4)) + 4);
      await createRoom(admin, `team-${i}@${server.rooms}`, 'IT', [MIRA, ...others]);
    }
    await mira.restart();
    await mira.messaging.inspect.settled();
    const joined = () => mira.store.rooms.list().filter((r) => r.joinedAt !== null && r.leftAt === null).length;
    await waitFor(`${MEMORY_ROOMS} rooms joined`, () => joined() === MEMORY_ROOMS, 120_000);
    await quiet();
    mira.events.length = 0;
    const after = sample();
    return { before, after };
  } finally {
    await mira.close();
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
  await until('sent', () => aliceMarks.sent.has(id), state);
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
    await publishKeys(server, OTHERS);
    admin = await mucPerson(server, ADMIN, pw(ADMIN));
    // First, before the send clients exist: the memory of 100 joined rooms.
    const mem = await memory(server, admin);
    entries.push({
      name: `rooms/memory-${MEMORY_ROOMS}-joined`,
      value: mem.after.heap - mem.before.heap,
      unit: 'MB',
      baseline: mem.before.heap,
    });
    // Not recorded: in this process RSS is the allocator's (a test run saw it fall by 31 MB across the step).
    console.log(
      `memory: RSS ${mem.before.rss.toFixed(1)} MB with no rooms, ${mem.after.rss.toFixed(1)} MB with ${MEMORY_ROOMS} (not recorded)`,
    );
    await createRoom(admin, room, 'IT', [ALICE, BOB, ...OTHERS]);
    const alice = await makeClient(server, ALICE, pw(ALICE), { onEvent: watch(aliceMarks) });
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
  } finally {
    await admin?.stop();
    await Promise.all(clients.map((c) => c.close()));
    await server.stop();
  }
  console.log(
    `Care-team room benchmarks (loopback Prosody, ${availableParallelism()} cores; ${ROOM_SIZE}-member room, ` +
      `sends n=${SEND_N} of each kind; baseline: one-to-one to the same member; ` +
      `memory: MB above the client with no rooms, baseline = that V8 heap with no rooms)`,
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
