/**
 * Where the time of catch-up and of one live message goes (issue 13 item 1), for xmpp.bench.ts.
 * Collects through MessagingOptions.metrics (the app passes none) and the pool's DecryptPoolMetrics,
 * then prints a stage table and returns the same figures as bench.json entries.
 *
 * CPU: Node 20 has no per-thread CPU clock, so the main thread's figure is its event loop's active
 * time (eventLoopUtilization), each worker's is its own event loop's active time (the decrypt runs
 * synchronously there), the process figure is process.cpuUsage (every thread of this process), and
 * Prosody's comes from /proc/<pid>/stat.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance, PerformanceObserver, type EventLoopUtilization } from 'node:perf_hooks';
import type { LiveStage, MessagingMetrics } from '../../main/xmpp/types';
import type { BenchEntry } from './report';

type Interval = [number, number];

/** Total length of the union of intervals: time during which at least one was open. */
export function unionMs(intervals: Interval[]): number {
  const s = [...intervals].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let cur: Interval | null = null;
  for (const [a, b] of s) {
    if (!cur || a > cur[1]) {
      if (cur) total += cur[1] - cur[0];
      cur = [a, b];
    } else cur[1] = Math.max(cur[1], b);
  }
  return cur ? total + cur[1] - cur[0] : total;
}

export const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

/** Prosody's CPU time (user + system, ms) from /proc, or null where that cannot be read. */
export function serverCpuMs(serverDir: string): number | null {
  try {
    const pid = readFileSync(join(serverDir, 'prosody.pid'), 'utf8').trim();
    return procCpuMs(`/proc/${pid}/stat`);
  } catch {
    return null;
  }
}

/** utime + stime of a /proc …/stat file, ms; null when it cannot be read. */
function procCpuMs(statFile: string): number | null {
  try {
    const stat = readFileSync(statFile, 'utf8');
    // Fields after the command name (which may hold spaces): utime is field 14, stime 15 (proc(5)).
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[11]) + Number(rest[12]);
    return Number.isFinite(ticks) ? ticks * 10 : null; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

interface Collected {
  pages: { sent: number; done: number; results: number }[];
  inboundMs: number;
  inboundBytes: number;
  /** The longest single chunk (parsing + handlers): a candidate for the event-loop stall. */
  inboundMaxMs: number;
  archiveMs: number;
  archiveN: number;
  commits: { end: number; ms: number; auditMs: number; items: number }[];
  eventsMs: number;
  jobs: Map<number, Interval[]>;
  workers: Map<number, { active: number; idle: number }>;
  live: Map<string, Partial<Record<LiveStage, number>>>;
}

const empty = (): Collected => ({
  pages: [],
  inboundMs: 0,
  inboundBytes: 0,
  inboundMaxMs: 0,
  archiveMs: 0,
  archiveN: 0,
  commits: [],
  eventsMs: 0,
  jobs: new Map(),
  workers: new Map(),
  live: new Map(),
});

/** One collector for every client of the bench (they share this process and its clock). */
export function createStageProbe() {
  let c = empty();
  const metrics: MessagingMetrics = {
    inboundData(ms, bytes) {
      c.inboundMs += ms;
      c.inboundBytes += bytes;
      c.inboundMaxMs = Math.max(c.inboundMaxMs, ms);
    },
    page: (sent, done, results) => c.pages.push({ sent, done, results }),
    archiveResult(ms) {
      c.archiveMs += ms;
      c.archiveN++;
    },
    commit: (items, ms, auditMs) => c.commits.push({ end: performance.now(), ms, auditMs, items }),
    events(ms) {
      c.eventsMs += ms;
    },
    pool: {
      job(worker, sent, done) {
        const list = c.jobs.get(worker) ?? [];
        list.push([sent, done]);
        c.jobs.set(worker, list);
      },
      worker: (worker, active, idle) => c.workers.set(worker, { active, idle }),
    },
    live(stage, originId, at) {
      const m = c.live.get(originId) ?? {};
      m[stage] ??= at;
      c.live.set(originId, m);
    },
  };
  return {
    metrics,
    /** Forget everything collected so far (the next phase starts). */
    reset() {
      c = empty();
    },
    get data(): Collected {
      return c;
    },
  };
}
export type StageProbe = ReturnType<typeof createStageProbe>;

/**
 * The whole machine's CPU time from /proc/stat's first line (ms): busy (user, nice, system, irq,
 * softirq, steal) and idle (idle, iowait); null where /proc cannot be read.
 */
function machineCpuMs(): { busy: number; idle: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const t = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const at = (i: number) => t[i] ?? NaN;
    const busy = at(0) + at(1) + at(2) + at(5) + at(6) + at(7);
    const idle = at(3) + at(4);
    return Number.isFinite(busy + idle) ? { busy: busy * 10, idle: idle * 10 } : null;
  } catch {
    return null;
  }
}

/** This process's main thread's CPU time (utime + stime), ms; null where /proc has no such file. */
const mainThreadCpuMs = (): number | null => procCpuMs(`/proc/self/task/${process.pid}/stat`);

/** A stall longer than this is listed with the time it ended (watchPhase). */
const STALL_NOTED_MS = 30;

/** Machine-level watchers for one phase: event-loop delay, GC pauses, main-thread and process CPU. */
export function watchPhase(serverDir: string) {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  const gc: number[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gc.push(e.duration);
  });
  obs.observe({ entryTypes: ['gc'] });
  delay.enable();
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const server0 = serverCpuMs(serverDir);
  const machine0 = machineCpuMs();
  const t0 = performance.now();
  // Where each long stall happened (monitorEventLoopDelay keeps only the histogram): a 5 ms tick
  // that came late by over STALL_NOTED_MS is recorded with its end time.
  // With it, the main thread's own CPU time over the stall (Linux: /proc, in 10 ms ticks): near
  // the stall's length means work held the loop; far below, the thread waited for a core.
  const stalls: { end: number; ms: number; cpuMs: number | null }[] = [];
  let last = t0;
  let lastCpu = mainThreadCpuMs();
  let tick: NodeJS.Timeout | null = null;
  const sample = () => {
    const now = performance.now();
    const cpu = mainThreadCpuMs();
    if (now - last - 5 > STALL_NOTED_MS)
      stalls.push({ end: now, ms: now - last - 5, cpuMs: cpu !== null && lastCpu !== null ? cpu - lastCpu : null });
    last = now;
    lastCpu = cpu;
    tick = setTimeout(sample, 5);
  };
  tick = setTimeout(sample, 5);
  return {
    t0,
    stop() {
      const wall = performance.now() - t0;
      if (tick) clearTimeout(tick);
      delay.disable();
      obs.disconnect();
      const elu: EventLoopUtilization = performance.eventLoopUtilization(elu0);
      const cpu = process.cpuUsage(cpu0);
      const server1 = serverCpuMs(serverDir);
      const machine1 = machineCpuMs();
      const machineBusy = machine0 && machine1 ? machine1.busy - machine0.busy : NaN;
      const machineIdle = machine0 && machine1 ? machine1.idle - machine0.idle : NaN;
      return {
        t0,
        wall,
        stallMaxMs: delay.max / 1e6,
        stalls,
        gcMaxMs: gc.length ? Math.max(...gc) : 0,
        gcTotalMs: gc.reduce((a, b) => a + b, 0),
        gcCount: gc.length,
        mainActiveMs: elu.active,
        processCpuMs: (cpu.user + cpu.system) / 1000,
        serverCpuMs: server0 !== null && server1 !== null ? server1 - server0 : null,
        /** The share of the whole machine's CPU time left idle over the phase (0–1); null off Linux. */
        machineIdleShare: Number.isFinite(machineIdle / (machineBusy + machineIdle))
          ? machineIdle / (machineBusy + machineIdle)
          : null,
      };
    },
  };
}
export type PhaseStats = ReturnType<ReturnType<typeof watchPhase>['stop']>;

const f = (n: number | null | undefined, digits = 1) =>
  n === null || n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(digits);

interface Row {
  stage: string;
  ms: number;
  cpuMs: number | null;
  note: string;
  key: string;
}

/** The catch-up stage table (printed) and its bench.json entries under `prefix`. */
export function catchUpStages(prefix: string, data: Collected, phase: PhaseStats): BenchEntry[] {
  const { wall } = phase;
  const pageMs = data.pages.map((p) => p.done - p.sent);
  const firstPage = data.pages.length ? Math.min(...data.pages.map((p) => p.sent)) : NaN;
  const lastCommit = data.commits.length ? Math.max(...data.commits.map((x) => x.end)) : NaN;
  const window = lastCommit - firstPage;
  const results = data.pages.reduce((a, p) => a + p.results, 0);
  const commitMs = data.commits.reduce((a, x) => a + x.ms, 0);
  const auditMs = data.commits.reduce((a, x) => a + x.auditMs, 0);
  const parseMs = data.inboundMs - data.archiveMs;
  const rows: Row[] = [
    {
      stage: 'archive fetch (request → page complete, union)',
      ms: unionMs(data.pages.map((p) => [p.sent, p.done])),
      cpuMs: phase.serverCpuMs,
      note: `${data.pages.length} pages, ${results} results (${f(results / Math.max(1, data.pages.length), 0)}/page); page p50 ${f(pct(pageMs, 50))} ms, max ${f(Math.max(...pageMs))} ms; CPU = Prosody`,
      key: 'archive-fetch',
    },
    {
      stage: 'XML parsing + stanza dispatch (main)',
      ms: parseMs,
      cpuMs: parseMs,
      note: `${f(data.inboundBytes / 1048576)} MiB from the server; longest chunk (parsing + handlers) ${f(data.inboundMaxMs)} ms`,
      key: 'parse',
    },
    {
      stage: 'archive result → item, dedup, job start (main)',
      ms: data.archiveMs,
      cpuMs: data.archiveMs,
      note: `${data.archiveN} results, ${f((data.archiveMs / Math.max(1, data.archiveN)) * 1000)} µs each`,
      key: 'result-handling',
    },
  ];
  for (const [w, jobs] of [...data.jobs.entries()].sort((a, b) => a[0] - b[0])) {
    const busy = unionMs(jobs);
    const elu = data.workers.get(w);
    rows.push({
      stage: `decrypt/verify pool worker ${w} (≥1 job in flight)`,
      ms: busy,
      cpuMs: elu?.active ?? null,
      note: `${jobs.length} jobs; in flight ${f((busy / window) * 100, 0)}% of the catch-up window; its loop: active ${f(elu?.active, 0)} ms, idle ${f(elu?.idle, 0)} ms from ready to close`,
      key: `pool-worker-${w}`,
    });
  }
  rows.push(
    {
      stage: 'store commit (transactions, without audit)',
      ms: commitMs - auditMs,
      cpuMs: commitMs - auditMs,
      note: `${data.commits.length} transactions, ${data.commits.reduce((a, x) => a + x.items, 0)} items; longest ${f(Math.max(...data.commits.map((x) => x.ms)))} ms (with audit)`,
      key: 'store-commit',
    },
    { stage: 'audit entries (inside the transactions)', ms: auditMs, cpuMs: auditMs, note: '', key: 'audit' },
    {
      stage: 'events (conversation updates, progress)',
      ms: data.eventsMs,
      cpuMs: data.eventsMs,
      note: '',
      key: 'events',
    },
  );
  const accounted = parseMs + data.archiveMs + commitMs + data.eventsMs;
  rows.push(
    {
      stage: 'main thread, all (event loop active)',
      ms: phase.mainActiveMs,
      cpuMs: phase.mainActiveMs,
      note: `of which not in the stages above: ${f(phase.mainActiveMs - accounted, 0)} ms (connect, key publication, SQL outside commits, promise plumbing, GC)`,
      key: 'main-thread',
    },
    {
      stage: 'catch-up window (first page request → last commit)',
      ms: window,
      cpuMs: null,
      note: `before it: connect + session setup ${f(firstPage - phase.t0, 0)} ms; after it: ${f(phase.t0 + wall - lastCommit, 0)} ms (presence, outbox, 2nd catch-up, read sync, pool close)`,
      key: 'window',
    },
  );
  console.log(
    `\ncatch-up stages: wall ${f(wall, 0)} ms; process CPU ${f(phase.processCpuMs, 0)} ms (${f(phase.processCpuMs / wall, 2)} cores); Prosody CPU ${f(phase.serverCpuMs, 0)} ms; event-loop stall max ${f(phase.stallMaxMs)} ms; GC ${phase.gcCount} pauses, ${f(phase.gcTotalMs, 0)} ms, max ${f(phase.gcMaxMs)} ms`,
  );
  // Stalls by where they fell: sign-in before the first page request, the catch-up window, after it.
  const during = phase.stalls.filter((x) => x.end - x.ms >= firstPage && x.end <= lastCommit + 5);
  const around = phase.stalls.filter((x) => !during.includes(x));
  const stallWindowMax = during.length ? Math.max(...during.map((x) => x.ms)) : 0;
  const worst = [...during].sort((a, b) => b.ms - a.ms).slice(0, 5);
  console.log(
    `stalls over ${STALL_NOTED_MS} ms: ${during.length} in the catch-up window (longest ${f(stallWindowMax)} ms), ${around.length} outside it (${around.map((x) => `${f(x.ms, 0)} ms at +${f(x.end - x.ms - phase.t0, 0)}`).join(', ') || 'none'}; the window runs +${f(firstPage - phase.t0, 0)} to +${f(lastCommit - phase.t0, 0)} ms)`,
  );
  if (worst.length)
    console.log(
      `longest in the window, with the main thread's own CPU time over each: ${worst.map((x) => `${f(x.ms, 0)} ms (CPU ${f(x.cpuMs, 0)} ms)`).join(', ')}`,
    );
  console.log('| stage | ms | share of wall | CPU ms | notes |');
  console.log('|---|---:|---:|---:|---|');
  for (const r of rows)
    console.log(`| ${r.stage} | ${f(r.ms, 0)} | ${f((r.ms / wall) * 100, 1)}% | ${f(r.cpuMs, 0)} | ${r.note} |`);
  const entries: BenchEntry[] = rows
    .filter((r) => Number.isFinite(r.ms))
    .map((r) => ({ name: `${prefix}/stage/${r.key}`, value: r.ms, unit: 'ms', ratio: r.ms / wall }));
  entries.push(
    { name: `${prefix}/wall`, value: wall, unit: 'ms' },
    { name: `${prefix}/page-p50`, value: pct(pageMs, 50), unit: 'ms' },
    { name: `${prefix}/pages`, value: data.pages.length, unit: 'pages' },
    { name: `${prefix}/cpu/process`, value: phase.processCpuMs, unit: 'ms', ratio: phase.processCpuMs / wall },
    { name: `${prefix}/event-loop-stall-max`, value: phase.stallMaxMs, unit: 'ms' },
    { name: `${prefix}/event-loop-stall-max-in-window`, value: stallWindowMax, unit: 'ms' },
    { name: `${prefix}/gc-pause-max`, value: phase.gcMaxMs, unit: 'ms' },
  );
  if (phase.serverCpuMs !== null)
    entries.push({
      name: `${prefix}/cpu/prosody`,
      value: phase.serverCpuMs,
      unit: 'ms',
      ratio: phase.serverCpuMs / wall,
    });
  return entries.filter((e) => Number.isFinite(e.value));
}

/**
 * The live stages, in order: [label, from, to]. 'send' is the bench's send() call; 'seen' is the
 * peer's 'message:added' as its service emits it (the benches listen on its event bus, so nothing
 * lies between the two: an own mark after the emit read 0.1–0.2 ms later than the listener).
 */
const LIVE: [string, LiveStage | 'send', LiveStage | 'seen'][] = [
  ['send() → signed (store, checks, signcrypt)', 'send', 'signed'],
  ['signed → server ack (parallel to delivery)', 'signed', 'acked'],
  ['signed → arrived at peer (server, parsing)', 'signed', 'arrived'],
  ['arrived → decrypt start (dedup, key lookup)', 'arrived', 'decrypt-start'],
  ['decrypt + verify', 'decrypt-start', 'decrypted'],
  ['decrypted → stored (in-order step, commit)', 'decrypted', 'stored'],
  ['stored → event emitted', 'stored', 'seen'],
  ['total send() → event', 'send', 'seen'],
];

/** The live-message stage table (p50/p99 per stage, and the slowest messages) and its entries. */
export function liveStages(
  prefix: string,
  marks: { originId: string; send: number; seen: number }[],
  data: Collected,
  phase: PhaseStats,
): BenchEntry[] {
  const per = marks.map((m) => ({ ...data.live.get(m.originId), send: m.send, seen: m.seen }));
  const span = (x: (typeof per)[number], a: string, b: string) => {
    const r: Record<string, number | undefined> = x;
    const from = r[a];
    const to = r[b];
    return from !== undefined && to !== undefined ? to - from : NaN;
  };
  console.log(
    `\nlive message stages, ${prefix} (n=${marks.length}): event-loop stall max ${f(phase.stallMaxMs)} ms; GC ${phase.gcCount} pauses, max ${f(phase.gcMaxMs)} ms`,
  );
  const slow = [...per].sort((a, b) => b.seen - b.send - (a.seen - a.send)).slice(0, 3);
  console.log(`| stage | p50 ms | p99 ms | max ms | slowest 3 (ms) |`);
  console.log('|---|---:|---:|---:|---|');
  const entries: BenchEntry[] = [];
  for (const [label, a, b] of LIVE) {
    const xs = per.map((x) => span(x, a, b)).filter(Number.isFinite);
    const key = `${a}-${b}`;
    console.log(
      `| ${label} | ${f(pct(xs, 50))} | ${f(pct(xs, 99))} | ${f(Math.max(...xs))} | ${slow.map((x) => f(span(x, a, b))).join(', ')} |`,
    );
    if (xs.length) {
      entries.push(
        { name: `${prefix}/stage/${key}-p50`, value: pct(xs, 50), unit: 'ms' },
        { name: `${prefix}/stage/${key}-p99`, value: pct(xs, 99), unit: 'ms' },
      );
    }
  }
  entries.push(
    { name: `${prefix}/event-loop-stall-max`, value: phase.stallMaxMs, unit: 'ms' },
    { name: `${prefix}/gc-pause-max`, value: phase.gcMaxMs, unit: 'ms' },
  );
  return entries;
}

/**
 * A burst's CPU per message, OX against plaintext over the same server (xmpp.bench.ts throughput):
 * this process (both clients here), its main thread's active time, Prosody, and how much of the
 * machine stayed idle. Printed, and returned as entries with plaintext as the baseline.
 */
export function burstCpu(prefix: string, n: number, phases: { ox: PhaseStats; plain: PhaseStats }): BenchEntry[] {
  const { ox, plain } = phases;
  const rows: { label: string; key: string; unit: string; of: (p: PhaseStats) => number | null }[] = [
    { label: 'wall per message', key: 'wall-per-msg', unit: 'ms', of: (p) => p.wall / n },
    { label: 'this process CPU per message', key: 'client-cpu-per-msg', unit: 'ms', of: (p) => p.processCpuMs / n },
    { label: 'main thread active per message', key: 'main-active-per-msg', unit: 'ms', of: (p) => p.mainActiveMs / n },
    {
      label: 'Prosody CPU per message',
      key: 'server-cpu-per-msg',
      unit: 'ms',
      of: (p) => (p.serverCpuMs === null ? null : p.serverCpuMs / n),
    },
    {
      label: 'machine CPU left idle',
      key: 'machine-idle',
      unit: '%',
      of: (p) => (p.machineIdleShare === null ? null : 100 * p.machineIdleShare),
    },
  ];
  console.log(`\nburst CPU, ${prefix} (n=${n}; OX against plaintext over the same server)`);
  console.log('| figure | OX | plaintext | OX ÷ plaintext |');
  console.log('|---|---:|---:|---:|');
  const entries: BenchEntry[] = [];
  for (const r of rows) {
    const a = r.of(ox);
    const b = r.of(plain);
    const ratio = a !== null && b !== null && b > 0 ? a / b : null;
    console.log(`| ${r.label} (${r.unit}) | ${f(a, 2)} | ${f(b, 2)} | ${f(ratio, 2)} |`);
    if (a === null || !Number.isFinite(a)) continue;
    entries.push({
      name: `${prefix}/${r.key}`,
      value: a,
      unit: r.unit,
      ...(b !== null && Number.isFinite(b) ? { baseline: b } : {}),
      ...(ratio !== null && Number.isFinite(ratio) ? { ratio } : {}),
    });
  }
  return entries;
}
