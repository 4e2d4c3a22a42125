import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDecryptPool,
  openSigncrypt,
  signcrypt,
  type DecryptJob,
  type DecryptPool,
} from '../../main/crypto/index';
import { resolveDecryptWorker } from '../../main/crypto/pool';
import { BACKGROUND_NICE } from '../../main/worker/serve';
import { craft, makeParties, signcryptXml, stamp, type Party } from '../support/crypto-fixtures';

let alice: Party, bob: Party, mallory: Party;
const now = new Date('2026-11-28T10:00:00Z');
const pools: DecryptPool[] = [];

beforeAll(async () => {
  [alice, bob, mallory] = await makeParties('alice@clinic.test', 'bob@clinic.test', 'mallory@clinic.test');
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

async function mixedJobs(n: number): Promise<{ jobs: DecryptJob[]; expected: (string | null)[] }> {
  const jobs: DecryptJob[] = [];
  const expected: (string | null)[] = [];
  for (let i = 0; i < n; i++) {
    const body = `message ${i} <&>`;
    if (i % 5 === 3) {
      // hostile: signed by Mallory but claiming to be Alice
      const b64 = await signcrypt({ identity: mallory.identity, recipients: [bob.contact], to: bob.jid, body, now });
      jobs.push({ senderKey: alice.contact, base64: b64, ourJid: bob.jid, now });
      expected.push(null);
    } else {
      const b64 = await signcrypt({ identity: alice.identity, recipients: [bob.contact], to: bob.jid, body, now });
      jobs.push({ senderKey: alice.contact, base64: b64, ourJid: bob.jid, now });
      expected.push(body);
    }
  }
  return { jobs, expected };
}

describe('decrypt pool', () => {
  it('finds the worker script next to the source when running from TypeScript, or the bundle the test run built', () => {
    const prebuilt = process.env.CLINIC_WORKER_DIR;
    if (prebuilt) {
      expect(resolveDecryptWorker()).toEqual({ file: join(prebuilt, 'decrypt-worker.cjs'), tsx: false });
      expect(existsSync(resolveDecryptWorker().file)).toBe(true);
    } else {
      expect(resolveDecryptWorker()).toMatchObject({ tsx: true });
      expect(resolveDecryptWorker().file).toMatch(/main[\\/]crypto[\\/]decrypt-worker\.ts$/);
    }
  });

  it.runIf(process.platform === 'linux')(
    'runs its worker threads below the main thread (nice 10, Linux): a catch-up never takes the core from it',
    async () => {
      const niceOf = (tid: string): number => {
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]); // field 19 of stat(5)
      };
      const before = new Set(readdirSync('/proc/self/task'));
      const pool = createDecryptPool({ identity: bob.identity, mode: 'threads', size: 2, maxInFlight: 4 });
      pools.push(pool);
      await pool.ready();
      const added = readdirSync('/proc/self/task').filter((t) => !before.has(t));
      const lowered = added.filter((t) => niceOf(t) === BACKGROUND_NICE);
      // Each worker lowers its own JavaScript thread; V8 and libuv threads it starts keep theirs.
      expect(lowered.length).toBeGreaterThanOrEqual(2);
      expect(niceOf(String(process.pid))).toBe(0);
    },
  );

  it.each(['threads', 'inline'] as const)(
    '%s: gives the same answers as openSigncrypt, in input order',
    async (mode) => {
      const { jobs, expected } = await mixedJobs(40);
      const pool = createDecryptPool({ identity: bob.identity, mode, size: 2, maxInFlight: 8 });
      pools.push(pool);
      const out = await pool.openMany(jobs);
      expect(out.map((o) => (o.ok ? o.value.body : null))).toEqual(expected);
      expect(out.filter((o) => !o.ok).every((o) => !o.ok && o.reason === 'wrong-signer')).toBe(true);
      const direct = await openSigncrypt({ identity: bob.identity, ...jobs[0]! });
      const viaPool = await pool.open(jobs[0]!);
      expect(viaPool).toEqual(direct);
    },
    30_000,
  );

  it('threads: every reject reason crosses the thread boundary intact', async () => {
    const pool = createDecryptPool({ identity: bob.identity, mode: 'threads', size: 1 });
    pools.push(pool);
    const base = (b64: string): DecryptJob => ({ senderKey: alice.contact, base64: b64, ourJid: bob.jid, now });
    const xmlTo = (to: string, time = stamp(now)) => signcryptXml({ to: [to], time, body: 'x' });
    const cases: [DecryptJob, string][] = [
      [base('###'), 'malformed'],
      [base('A'.repeat(300_000)), 'too-large'],
      [base(await craft({ plaintext: xmlTo(bob.jid), encryptTo: [bob], date: now })), 'not-signed'],
      [
        base(await craft({ plaintext: xmlTo('carol@clinic.test'), encryptTo: [bob], signedBy: alice, date: now })),
        'bad-recipient',
      ],
      [
        base(
          await craft({
            plaintext: xmlTo(bob.jid, '2020-01-01T00:00:00Z'),
            encryptTo: [bob],
            signedBy: alice,
            date: now,
          }),
        ),
        'bad-time',
      ],
      [
        base(await craft({ plaintext: xmlTo(bob.jid), encryptTo: [mallory], signedBy: alice, date: now })),
        'decrypt-failed',
      ],
    ];
    const out = await pool.openMany(cases.map(([j]) => j));
    expect(out.map((o) => (o.ok ? 'ok' : o.reason))).toEqual(cases.map(([, r]) => r));
  }, 30_000);

  it('threads: reports ready once its workers hold the key', async () => {
    const pool = createDecryptPool({ identity: bob.identity, mode: 'threads', size: 2 });
    pools.push(pool);
    await expect(pool.ready()).resolves.toBe('threads');
    expect(pool.mode).toBe('threads');
  }, 30_000);

  it('threads: workers that cannot start make it fall back to this thread instead of hanging or respawning forever', async () => {
    const pool = createDecryptPool({
      identity: bob.identity,
      mode: 'threads',
      size: 1,
      worker: { file: '/nonexistent/decrypt-worker.cjs', tsx: false },
    });
    pools.push(pool);
    const { jobs, expected } = await mixedJobs(6);
    const first = await pool.openMany(jobs);
    // Jobs already handed to a dying worker come back 'internal' (retry later), never wrong.
    first.forEach((o, i) => {
      if (o.ok) expect(o.value.body).toBe(expected[i]);
      else expect(['internal', 'wrong-signer']).toContain(o.reason);
    });
    await expect(pool.ready()).resolves.toBe('inline');
    expect(pool.mode).toBe('inline');
    const again = await pool.openMany(jobs);
    expect(again.map((o) => (o.ok ? o.value.body : null))).toEqual(expected);
  }, 30_000);

  it('threads: with metrics, reports each job on its worker and every worker loop as it closes', async () => {
    const jobs: [number, number, number][] = [];
    const loops = new Map<number, { active: number; idle: number }>();
    const pool = createDecryptPool({
      identity: bob.identity,
      mode: 'threads',
      size: 2,
      maxInFlight: 4,
      metrics: {
        job: (worker, sent, done) => jobs.push([worker, sent, done]),
        worker: (worker, active, idle) => loops.set(worker, { active, idle }),
      },
    });
    await pool.ready();
    const { jobs: work } = await mixedJobs(12);
    const out = await pool.openMany(work);
    expect(out).toHaveLength(12);
    // Every job, rejected ones too, on one of the two workers, answered after it was sent.
    expect(jobs).toHaveLength(12);
    expect(new Set(jobs.map(([w]) => w))).toEqual(new Set([0, 1]));
    expect(jobs.every(([, sent, done]) => done >= sent && sent > 0)).toBe(true);
    expect(loops.size).toBe(0); // reported once, as the pool closes
    await pool.close();
    expect([...loops.keys()].sort()).toEqual([0, 1]);
    // Each worker's loop ran the decrypts it was given.
    for (const { active, idle } of loops.values()) {
      expect(active).toBeGreaterThan(0);
      expect(idle).toBeGreaterThanOrEqual(0);
    }
  }, 30_000);

  it('threads: a closed pool refuses new work', async () => {
    const pool = createDecryptPool({ identity: bob.identity, mode: 'threads', size: 1 });
    await pool.close();
    const { jobs } = await mixedJobs(1);
    await expect(pool.open(jobs[0]!)).rejects.toThrow(/closed/);
  });
});
