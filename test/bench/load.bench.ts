/**
 * Load benchmark (issue 19 item 4): N headless clients, each the real messaging core (its own
 * account, OX key, SQLCipher store, audit log and XMPP connection; no UI), against a real Prosody
 * and against a real 2-node ejabberd cluster in the SAME run. On the cluster, client i is given
 * node i % 2's client port, and every client talks to its partner (i xor 1), so every message
 * crosses from one node to the other.
 *
 * For each server the clients are started in steps (BENCH_LOAD_STEPS, default N/4, N/2, 3N/4, N);
 * the clients of earlier steps stay connected. At each step:
 *   fixed rate  — RATE msg/s aggregate (round robin over the connected clients) for SECONDS:
 *                 send() → 'message:added' at the partner, p50 / p99, and the server processes'
 *                 CPU (utime + stime from /proc) per delivered message
 * and at the last step:
 *   saturation  — every client sends BURST messages at once: delivered msg/s (sustained rate)
 * Client memory is the process's RSS growth divided by the clients connected. The largest step
 * whose p99 stays under 500 ms is printed per server, and the cluster/Prosody ratios.
 *
 * All clients share this one Node process (and its 2 cores with the servers): its encryption,
 * decryption and store writes for every client are part of each latency. Measurements, not tests:
 * a slow number fails nothing; a lost or doubled message does.
 *
 *   bash scripts/with-keyring.sh npx tsx test/bench/load.bench.ts
 *     BENCH_LOAD_CLIENTS (200), BENCH_LOAD_STEPS (e.g. 50,100,200), BENCH_LOAD_RATE (20 msg/s),
 *     BENCH_LOAD_SECONDS (20 per step), BENCH_LOAD_BURST (5 per client), BENCH_LOAD_SERVERS (prosody,cluster),
 *     BENCH_LOAD_START_CONCURRENCY (6 clients signing in at once)
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { startEjabberdCluster, type EjabberdCluster } from '../support/ejabberd-cluster';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { makeClient, type TestClient, type XmppTestServer } from '../support/xmpp-support';
import { recordBench, type BenchEntry } from './report';
import { pct } from './stages';

const int = (name: string, fallback: number) => {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number, not '${raw}'`);
  return n;
};
const even = (n: number) => Math.max(2, n - (n % 2));
const N = even(int('BENCH_LOAD_CLIENTS', 200));
const RATE = int('BENCH_LOAD_RATE', 20);
const SECONDS = int('BENCH_LOAD_SECONDS', 20);
const BURST = int('BENCH_LOAD_BURST', 5);
const STEPS = (
  process.env.BENCH_LOAD_STEPS
    ? process.env.BENCH_LOAD_STEPS.split(',').map((s) => even(Number(s)))
    : [N / 4, N / 2, (3 * N) / 4, N].map((s) => even(Math.round(s)))
)
  .filter((s, i, all) => Number.isFinite(s) && s <= N && all.indexOf(s) === i)
  .sort((a, b) => a - b);
if (STEPS.at(-1) !== N) STEPS.push(N);
const SERVERS = (process.env.BENCH_LOAD_SERVERS ?? 'prosody,cluster').split(',').map((s) => s.trim());
for (const s of SERVERS) if (s !== 'prosody' && s !== 'cluster') throw new Error(`BENCH_LOAD_SERVERS: unknown '${s}'`);
const P99_TARGET_MS = 500;
/** Clients started at once: first-run key generation and publication are CPU work in this process. */
const START_CONCURRENCY = int('BENCH_LOAD_START_CONCURRENCY', 6);
const BODY = 'x'.repeat(200);
const DOMAIN = 'clinic.test';
const MiB = 1024 * 1024;
const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

const users = Array.from({ length: N }, (_, i) => ({
  jid: `load${String(i).padStart(4, '0')}@${DOMAIN}`,
  password: `load-pw-${i}`,
  name: `Load User ${i}`,
  role: (['physician', 'nurse', 'reception'] as const)[i % 3],
}));

/** CPU seconds (user + system) of the given processes, from /proc/<pid>/stat. */
function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15 of stat(5))
  }
  return ticks / TICKS;
}

/** The pids whose command line has `match` (one argument equal to it, or an argument pair). */
function pidsOf(match: (argv: string[]) => boolean): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return match(readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0'));
      } catch {
        return false; // gone meanwhile, or not ours to read
      }
    })
    .map(Number);
}

interface Target {
  label: 'prosody' | 'cluster';
  /** The server a client with this index is given. */
  serverFor(i: number): XmppTestServer;
  /** The server processes whose CPU is measured. */
  pids: number[];
  stop(): Promise<void>;
}

async function prosodyTarget(): Promise<Target> {
  const server: ProsodyServer = await startProsody({ users });
  const pids = pidsOf((argv) => argv.includes(server.configFile));
  if (pids.length !== 1) throw new Error(`expected one Prosody process, found ${pids.length}`);
  return { label: 'prosody', serverFor: () => server, pids, stop: () => server.stop() };
}

async function clusterTarget(): Promise<Target> {
  const cluster: EjabberdCluster = await startEjabberdCluster({ users });
  const pids = cluster.nodes.flatMap((n) =>
    pidsOf((argv) => argv.some((a, i) => a === '-sname' && argv[i + 1] === n.name)),
  );
  if (pids.length !== 2) throw new Error(`expected two Erlang VMs, found ${pids.length}`);
  return { label: 'cluster', serverFor: (i) => cluster.nodes[i % 2 === 0 ? 0 : 1], pids, stop: () => cluster.stop() };
}

/** Arrival times by origin id, filled from every client's event bus as it emits. */
type Arrivals = Map<string, number>;

interface StepResult {
  server: string;
  clients: number;
  phase: 'fixed' | 'burst';
  sent: number;
  delivered: number;
  /** delivered ÷ (first send → last arrival) */
  rate: number;
  p50: number;
  p99: number;
  serverCpuPct: number;
  serverCpuMsPerMsg: number;
  clientRssMiB: number;
  clientHeapMiB: number;
  startSeconds: number;
}

/**
 * Clients that ended in the error state (seen: AUTH_FAILED from a loaded Prosody, which the client
 * takes as a refusal and stops reconnecting) are signed in again, and counted: a person would sign
 * in again too. The count is printed with the table.
 */
let signInsAgain = 0;
const healing = new Set<TestClient>();
function signInAgainWhereFailed(clients: TestClient[]): void {
  for (const c of clients) {
    if (!c || healing.has(c) || c.messaging.connection().state !== 'error') continue;
    healing.add(c);
    signInsAgain++;
    // Awaited by nobody: the wait loops below see the client come back (or fail again and retry).
    void c
      .restart()
      .catch(() => undefined) // it stays in error: the next pass tries again
      .finally(() => healing.delete(c));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** A provisioned profile: its directory and keys, to be opened again. */
interface Profile {
  dir: string;
  keys: { store: Buffer; audit: Buffer };
}

/** Runs `work` for each index in [from, to), START_CONCURRENCY at a time. */
async function pool(from: number, to: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = from;
  await Promise.all(
    Array.from({ length: START_CONCURRENCY }, async () => {
      while (next < to) await work(next++);
    }),
  );
}

/**
 * Every account's first run (its key generated and published), then its profile is closed: the
 * steps sign in to accounts whose colleagues' keys are already on the server, as in a clinic that
 * has been running for a while. (Colleagues who sign in for the FIRST time at the same moment on
 * different ejabberd nodes do not always see each other's keys; see the report.)
 */
async function provision(target: Target): Promise<Profile[]> {
  const profiles: Profile[] = [];
  await pool(0, N, async (i) => {
    const u = users[i]!;
    const keys = { store: randomBytes(32), audit: randomBytes(32) };
    // A first run that the loaded server did not answer in time (NOT_CONNECTED) is tried again, as a person would.
    let c: TestClient | null = null;
    for (let attempt = 1; !c; attempt++) {
      try {
        c = await makeClient(target.serverFor(i), u.jid, u.password, { keys });
      } catch (err) {
        if ((err as { code?: string }).code !== 'NOT_CONNECTED' || attempt === 3) throw err;
      }
    }
    if ((i + 1) % 25 === 0) console.log(`${target.label}: ${i + 1} first runs`);
    await c.messaging.inspect.settled();
    await c.messaging.stop();
    await c.store.close();
    profiles[i] = { dir: c.dir, keys };
  });
  return profiles;
}

async function startClients(
  target: Target,
  profiles: Profile[],
  from: number,
  to: number,
  clients: TestClient[],
  arrivals: Arrivals,
): Promise<void> {
  await pool(from, to, async (i) => {
    const u = users[i]!;
    const c = await makeClient(target.serverFor(i), u.jid, u.password, {
      ...profiles[i]!,
      start: false,
      metrics: { live: (stage, originId) => void lastStage.set(originId, stage) },
      onEvent: (name, payload) => {
        const m = payload as { direction?: string; originId?: string | null };
        if (name === 'message:added' && m.direction === 'in' && m.originId) arrivals.set(m.originId, performance.now());
      },
    });
    clients[i] = c;
    await c.messaging.start();
    await c.messaging.inspect.settled();
  });
  // Warm-up, not measured: each newcomer's first message to its partner (the partner's key fetched).
  await drive(target, clients, range(from, to), arrivals, to - from, false);
  // The bench reads arrivals from onEvent; the per-client event list would only grow.
  for (const c of clients) c.events.length = 0;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

/** Sends `count` messages paced at RATE, or all at once when `paced` is false; waits for every arrival. */
async function drive(
  target: Target,
  clients: TestClient[],
  senders: number[],
  arrivals: Arrivals,
  count: number,
  paced: boolean,
): Promise<{ latencies: number[]; seconds: number; cpu: number; delivered: number }> {
  const sends = new Map<string, number>();
  const senderOf = new Map<string, number>();
  const convs = new Map(senders.map((i) => [i, clients[i]!.store.conversations.getOrCreate(users[i ^ 1]!.jid).id]));
  const cpu0 = cpuSeconds(target.pids);
  const t0 = performance.now();
  const pending: Promise<void>[] = [];
  for (let m = 0; m < count; m++) {
    if (paced) await sleep(t0 + (m * 1000) / RATE - performance.now());
    const i = senders[m % senders.length]!;
    const at = performance.now();
    pending.push(
      clients[i]!.messaging.send(convs.get(i)!, `${BODY} ${m}`).then((msg) => {
        sends.set(msg.originId!, at);
        senderOf.set(msg.originId!, i);
      }),
    );
  }
  await Promise.all(pending);
  const deadline = Date.now() + 30_000 + count * 50;
  const done = () => [...sends.keys()].every((id) => arrivals.has(id));
  let pass = 0;
  while (!done()) {
    if (Date.now() > deadline) break;
    signInAgainWhereFailed(clients);
    // A message stored by a catch-up (the receiver was signing in again) announces no
    // 'message:added': look in the receiver's store, every half second (its time is then an upper bound).
    if (++pass % 25 === 0)
      for (const id of sends.keys()) if (!arrivals.has(id)) lookInStore(clients, senderOf.get(id)!, id, arrivals);
    await sleep(20);
  }
  const ids = [...sends.keys()];
  const arrived = ids.filter((id) => arrivals.has(id));
  const last = Math.max(...arrived.map((id) => arrivals.get(id)!));
  const seconds = (last - t0) / 1000;
  const cpu = cpuSeconds(target.pids) - cpu0;
  if (arrived.length !== count) {
    const lost = new Map<number, number>();
    for (const id of ids) if (!arrivals.has(id)) lost.set(senderOf.get(id)!, (lost.get(senderOf.get(id)!) ?? 0) + 1);
    const states = [...lost.keys()].map(
      (i) =>
        `${i}: ${lost.get(i)} lost, ${JSON.stringify(clients[i]!.messaging.connection())}, partner ${clients[i ^ 1]!.messaging.connection().state}, states ${JSON.stringify(clients[i]!.store.messages.page(convs.get(i)!, { before: null, limit: 3 }).items.map((m) => m.state))}, outbox ${outboxOf(clients[i]!)}, partner's key ${clients[i]!.store.contacts.get(users[i ^ 1]!.jid)?.fingerprint ? 'pinned' : 'not pinned'}`,
    );
    const stages = ids.filter((id) => !arrivals.has(id)).map((id) => lastStage.get(id) ?? 'none');
    throw new Error(
      `${target.label}: ${count - arrived.length} of ${count} messages never arrived (last stage of each: ${stages.join(', ')}) (by sender ${states.join('; ')})`,
    );
  }
  const latencies = arrived.map((id) => arrivals.get(id)! - sends.get(id)!);
  for (const id of ids) arrivals.delete(id);
  return { latencies, seconds, cpu, delivered: arrived.length };
}

/** A client's outbox as the failure report shows it: attempts, when the next is due (relative), the last error. */
const outboxOf = (c: TestClient): string =>
  JSON.stringify(
    c.store.outbox
      .all()
      .map((o) => ({ attempts: o.attempts, dueInMs: o.nextAttemptAt - Date.now(), error: o.lastError })),
  );

/** Each sent message's last live stage (MessagingMetrics.live): where a lost one stopped. */
const lastStage = new Map<string, string>();

let foundInStore = 0;
function lookInStore(clients: TestClient[], sender: number, originId: string, arrivals: Arrivals): void {
  const receiver = clients[sender ^ 1];
  const conv = receiver?.store.conversations.byPeer(users[sender]!.jid);
  if (conv && receiver!.store.messages.findByOriginId(conv.id, originId)) {
    arrivals.set(originId, performance.now());
    foundInStore++;
  }
}

/** Exactly once: every client's conversation with its partner holds each inbound origin id once. */
function checkNoDoubles(clients: TestClient[]): void {
  for (let i = 0; i < clients.length; i++) {
    const conv = clients[i]!.store.conversations.byPeer(users[i ^ 1]!.jid);
    if (!conv) continue;
    const seen = new Set<string>();
    let before: string | null = null;
    for (;;) {
      const page = clients[i]!.store.messages.page(conv.id, { before, limit: 500 });
      for (const m of page.items) {
        if (m.direction !== 'in' || !m.originId) continue;
        if (seen.has(m.originId)) throw new Error(`${users[i]!.jid} holds a message twice`);
        seen.add(m.originId);
      }
      if (!page.nextCursor) break;
      before = page.nextCursor;
    }
  }
}

async function runServer(target: Target): Promise<StepResult[]> {
  const clients: TestClient[] = [];
  const arrivals: Arrivals = new Map();
  const results: StepResult[] = [];
  const p0 = performance.now();
  const profiles = await provision(target);
  console.log(
    `${target.label}: ${N} accounts' first runs (keys published) in ${((performance.now() - p0) / 1000).toFixed(0)} s`,
  );
  const mem0 = process.memoryUsage();
  let started = 0;
  try {
    for (const step of STEPS) {
      const s0 = performance.now();
      await startClients(target, profiles, started, step, clients, arrivals);
      started = step;
      const startSeconds = (performance.now() - s0) / 1000;
      await sleep(2_000); // presence and key traffic of the newcomers settles
      const mem = process.memoryUsage();
      const memory = {
        clientRssMiB: (mem.rss - mem0.rss) / MiB / step,
        clientHeapMiB: (mem.heapUsed - mem0.heapUsed) / MiB / step,
      };
      const fixed = await drive(target, clients, range(0, step), arrivals, RATE * SECONDS, true);
      results.push({
        server: target.label,
        clients: step,
        phase: 'fixed',
        sent: RATE * SECONDS,
        delivered: fixed.delivered,
        rate: fixed.delivered / fixed.seconds,
        p50: pct(fixed.latencies, 50),
        p99: pct(fixed.latencies, 99),
        serverCpuPct: (100 * fixed.cpu) / fixed.seconds,
        serverCpuMsPerMsg: (1000 * fixed.cpu) / fixed.delivered,
        ...memory,
        startSeconds,
      });
      console.log(
        `${target.label} ${step} clients: started in ${startSeconds.toFixed(0)} s; p99 ${pct(fixed.latencies, 99).toFixed(0)} ms at ${RATE} msg/s`,
      );
    }
    const burst = await drive(target, clients, range(0, N), arrivals, N * BURST, false);
    const mem = process.memoryUsage();
    results.push({
      server: target.label,
      clients: N,
      phase: 'burst',
      sent: N * BURST,
      delivered: burst.delivered,
      rate: burst.delivered / burst.seconds,
      p50: pct(burst.latencies, 50),
      p99: pct(burst.latencies, 99),
      serverCpuPct: (100 * burst.cpu) / burst.seconds,
      serverCpuMsPerMsg: (1000 * burst.cpu) / burst.delivered,
      clientRssMiB: (mem.rss - mem0.rss) / MiB / N,
      clientHeapMiB: (mem.heapUsed - mem0.heapUsed) / MiB / N,
      startSeconds: 0,
    });
    for (const c of clients) await c.messaging.inspect.settled();
    checkNoDoubles(clients);
  } finally {
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < clients.length) {
          const c = clients[next++];
          if (c) await c.close().catch(() => undefined); // a client that cannot close: the next one still closes
        }
      }),
    );
    // Profiles never opened in a step (a failed run) are removed too.
    profiles.forEach((p, i) => clients[i] || rmSync(p.dir, { recursive: true, force: true }));
  }
  return results;
}

const largestMeeting = (rows: StepResult[]) =>
  Math.max(0, ...rows.filter((r) => r.phase === 'fixed' && r.p99 < P99_TARGET_MS).map((r) => r.clients));

async function main() {
  const all: StepResult[] = [];
  for (const label of SERVERS) {
    const target = label === 'prosody' ? await prosodyTarget() : await clusterTarget();
    try {
      all.push(...(await runServer(target)));
    } finally {
      await target.stop();
    }
  }
  console.log(
    `\nLoad benchmark (${availableParallelism()} cores; all clients in one Node process; ${RATE} msg/s aggregate for ${SECONDS} s per step, burst ${BURST}/client; clients signed in again after an error: ${signInsAgain}; arrivals found in the store, not announced: ${foundInStore})`,
  );
  console.table(
    all.map((r) => ({
      server: r.server,
      clients: r.clients,
      phase: r.phase,
      delivered: `${r.delivered}/${r.sent}`,
      'msg/s': Number(r.rate.toFixed(1)),
      'p50 ms': Number(r.p50.toFixed(0)),
      'p99 ms': Number(r.p99.toFixed(0)),
      'server CPU %': Number(r.serverCpuPct.toFixed(1)),
      'server CPU ms/msg': Number(r.serverCpuMsPerMsg.toFixed(2)),
      'client RSS MiB': Number(r.clientRssMiB.toFixed(2)),
      'client heap MiB': Number(r.clientHeapMiB.toFixed(2)),
      'start s': Number(r.startSeconds.toFixed(0)),
    })),
  );
  const entries: BenchEntry[] = [];
  for (const r of all) {
    const p = `load/${r.server}${r.phase === 'burst' ? '-burst' : ''}`;
    entries.push(
      { name: `${p}-rate-${r.clients}c`, value: r.rate, unit: 'msg/s' },
      { name: `${p}-p50-${r.clients}c`, value: r.p50, unit: 'ms' },
      { name: `${p}-p99-${r.clients}c`, value: r.p99, unit: 'ms' },
      { name: `${p}-server-cpu-${r.clients}c`, value: r.serverCpuMsPerMsg, unit: 'ms/msg' },
      { name: `${p}-client-rss-${r.clients}c`, value: r.clientRssMiB, unit: 'MiB' },
    );
  }
  for (const s of SERVERS) {
    const best = largestMeeting(all.filter((r) => r.server === s));
    console.log(
      `${s}: largest N with p99 < ${P99_TARGET_MS} ms at ${RATE} msg/s: ${best === 0 ? 'none of the steps' : best}${best === N ? ' (every step; larger N not tried)' : ''}`,
    );
    entries.push({ name: `load/${s}-max-clients-p99-${P99_TARGET_MS}ms`, value: best, unit: 'clients' });
  }
  if (SERVERS.includes('prosody') && SERVERS.includes('cluster')) {
    const at = (s: string, phase: string) => all.find((r) => r.server === s && r.clients === N && r.phase === phase)!;
    const ratios: [string, keyof StepResult, string, string][] = [
      ['p99', 'p99', 'ms', 'fixed'],
      ['server-cpu', 'serverCpuMsPerMsg', 'ms/msg', 'fixed'],
      ['burst-rate', 'rate', 'msg/s', 'burst'],
    ];
    for (const [name, key, unit, phase] of ratios) {
      const c = at('cluster', phase)[key] as number;
      const p = at('prosody', phase)[key] as number;
      entries.push({ name: `load/cluster-per-prosody-${name}-${N}c`, value: c, unit, baseline: p, ratio: c / p });
      console.log(
        `cluster / Prosody ${name} at ${N} clients: ${c.toFixed(2)} / ${p.toFixed(2)} = ${(c / p).toFixed(2)}×`,
      );
    }
  }
  recordBench(entries);
}

await main();
