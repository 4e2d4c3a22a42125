// Shared benchmark sink. Every test/bench/*.bench.ts runs as its own Node process
// (scripts/bench.mjs), prints its own table, and records its numbers here so that
// `npm run bench` can print one combined table at the end.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export interface BenchEntry {
  /** e.g. `store/fts-search-p95-1m` — domain/metric, stable across runs */
  name: string;
  value: number;
  /** 'ms' for times, '/s' (or 'rows/s', 'msg/s') for rates, 'MiB' for sizes */
  unit: string;
  /** the comparison value (e.g. plain SQLite) when the metric has one */
  baseline?: number;
  /** value / baseline, when a baseline exists */
  ratio?: number;
}

export const BENCH_FILE = resolve(process.env.CLINIC_BENCH_FILE ?? 'artifacts/bench.json');

function isEntry(x: unknown): x is BenchEntry {
  if (typeof x !== 'object' || x === null) return false;
  const e = x as Record<string, unknown>;
  return typeof e.name === 'string' && typeof e.value === 'number' && typeof e.unit === 'string';
}

export function readBench(file: string = BENCH_FILE): BenchEntry[] {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.filter(isEntry) : [];
  } catch {
    // A half-written or hand-edited file must not crash a benchmark run; we rewrite it.
    return [];
  }
}

/** Merge entries into artifacts/bench.json by name (a re-run replaces the old value). */
export function recordBench(entries: BenchEntry[]): void {
  for (const e of entries) {
    if (!isEntry(e) || !Number.isFinite(e.value)) {
      throw new Error(`recordBench: invalid entry ${JSON.stringify(e)}`);
    }
  }
  const byName = new Map(readBench().map((e) => [e.name, e]));
  for (const e of entries) {
    const entry: BenchEntry = { name: e.name, value: e.value, unit: e.unit };
    if (e.baseline !== undefined) entry.baseline = e.baseline;
    if (e.ratio !== undefined) entry.ratio = e.ratio;
    else if (e.baseline !== undefined && e.baseline !== 0) entry.ratio = e.value / e.baseline;
    byName.set(e.name, entry);
  }
  mkdirSync(dirname(BENCH_FILE), { recursive: true });
  // Write-then-rename so a concurrent reader never sees a truncated file.
  const tmp = `${BENCH_FILE}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify([...byName.values()], null, 2) + '\n');
  renameSync(tmp, BENCH_FILE);
}
