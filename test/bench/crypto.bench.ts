/**
 * OpenPGP for XMPP decrypt + verify throughput for catch-up (issue 5 §6/§9, PROTOCOL.md
 * "Speed"): N signcrypts of 200-byte bodies, signed by Alice, encrypted to Bob + Alice.
 *   single     — plain openpgp.decrypt({ expectSigned: true }), one at a time: the baseline
 *   checked-1  — our openSigncrypt (all receive checks), one at a time
 *   inline     — openSigncrypt, many in flight on one thread (createDecryptPool mode 'inline')
 *   pool       — createDecryptPool mode 'threads': a worker per core, many in flight each
 * Ratios are against `single`. Worker start-up is reported separately (paid once per session).
 *
 *   npx tsx test/bench/crypto.bench.ts          BENCH_CRYPTO_N=10000 by default
 */
import { availableParallelism } from 'node:os';
import * as openpgp from 'openpgp';
import {
  createDecryptPool,
  generateIdentity,
  loadIdentity,
  openSigncrypt,
  parseContactKey,
  signcrypt,
  type DecryptJob,
  type DecryptPool,
} from '../../main/crypto/index';
import { recordBench, type BenchEntry } from './report';

const N = Math.max(100, Number(process.env.BENCH_CRYPTO_N ?? 10_000));
const IN_FLIGHT = Number(process.env.BENCH_CRYPTO_IN_FLIGHT ?? 64);
const CORES = availableParallelism();
const WARM = Math.min(N, 1_000);
const ROUNDS = 5;

async function inBatches<T>(n: number, width: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

const rate = (count: number, ms: number) => Math.round((count / ms) * 1000);

/** Wall time plus process CPU (all threads) per wall second: shows how many cores a path used. */
async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number; cores: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  const u = process.cpuUsage(cpu0);
  return { value, ms, cores: (u.user + u.system) / 1000 / ms };
}

async function main(): Promise<void> {
  const alice = await loadIdentity((await generateIdentity('alice@clinic.test')).armoredSecretKey);
  const bob = await loadIdentity((await generateIdentity('bob@clinic.test')).armoredSecretKey);
  const aliceKey = await parseContactKey(alice.bareJid, alice.publicKeyBinary, alice.fingerprint);
  const bobKey = await parseContactKey(bob.bareJid, bob.publicKeyBinary, bob.fingerprint);
  const now = new Date();
  const body = 'Lab results for room 12 are back; please review before rounds. '.repeat(4).slice(0, 200);

  const enc = await timed(() =>
    inBatches(N, 64, () => signcrypt({ identity: alice, recipients: [bobKey], to: bob.bareJid, body, now })),
  );
  const messages = enc.value;
  const jobs: DecryptJob[] = messages.map((base64) => ({ senderKey: aliceKey, base64, ourJid: bob.bareJid, now }));
  const check = (bodies: (string | null)[]) => {
    const bad = bodies.filter((b) => b !== body).length;
    if (bad) throw new Error(`${bad} messages did not decrypt to the original body`);
  };
  const bodiesOf = (out: { ok: boolean; value?: { body: string } }[]) => out.map((o) => (o.ok ? o.value!.body : null));

  // Baseline: what a straightforward client does — openpgp's own decrypt+verify, sequentially.
  const singleDecrypt = async (chunk: string[]) => {
    const out: string[] = [];
    for (const b64 of chunk) {
      const message = await openpgp.readMessage({ binaryMessage: Buffer.from(b64, 'base64') });
      const { data } = await openpgp.decrypt({
        message,
        decryptionKeys: bob.privateKey,
        verificationKeys: aliceKey.publicKey,
        expectSigned: true,
        format: 'binary',
      });
      out.push(new TextDecoder().decode(data).includes(body) ? body : '');
    }
    return out;
  };

  const inlinePool = createDecryptPool({ identity: bob, mode: 'inline', maxInFlight: IN_FLIGHT });
  let pool!: DecryptPool;
  const startup = await timed(async () => {
    pool = createDecryptPool({ identity: bob, mode: 'threads', size: CORES, maxInFlight: IN_FLIGHT });
    await pool.openMany(jobs.slice(0, CORES * 4)); // workers loaded, keys parsed once each
  });
  // Same JIT warm-up for every path: a catch-up pool lives for the whole session.
  await singleDecrypt(messages.slice(0, WARM / 4));
  await inlinePool.openMany(jobs.slice(0, WARM));
  await pool.openMany(jobs.slice(0, WARM * CORES));

  // The machine is shared, so load drifts: interleave the three paths in rounds, so each sees
  // the same mix, and sum the times.
  const acc = () => ({
    ms: 0,
    cpuMs: 0,
    get cores() {
      return this.cpuMs / this.ms;
    },
  });
  const single = acc(),
    inline = acc(),
    threads = acc();
  const add = (a: ReturnType<typeof acc>, t: { ms: number; cores: number }) => {
    a.ms += t.ms;
    a.cpuMs += t.cores * t.ms;
  };
  const per = Math.ceil(N / ROUNDS);
  for (let r = 0; r < ROUNDS; r++) {
    const chunk = jobs.slice(r * per, (r + 1) * per);
    const s1 = await timed(() => singleDecrypt(chunk.map((j) => j.base64)));
    check(s1.value);
    add(single, s1);
    const s2 = await timed(() => inlinePool.openMany(chunk));
    check(bodiesOf(s2.value));
    add(inline, s2);
    const s3 = await timed(() => pool.openMany(chunk));
    check(bodiesOf(s3.value));
    add(threads, s3);
  }
  await inlinePool.close();
  await pool.close();

  const checkedN = Math.min(N, 2_000); // the fully checked sequential path, on a subset
  const checked = await timed(async () => {
    const out: string[] = [];
    for (const job of jobs.slice(0, checkedN)) out.push((await openSigncrypt({ identity: bob, ...job })).body);
    return out;
  });
  check(checked.value);

  // What caching the parsed, validated contact key saves (PROTOCOL.md "Speed").
  const reparseN = Math.min(N, 500);
  const reparse = await timed(async () => {
    for (const job of jobs.slice(0, reparseN)) {
      const senderKey = await parseContactKey(alice.bareJid, alice.publicKeyBinary, alice.fingerprint);
      await openSigncrypt({ identity: bob, ...job, senderKey });
    }
  });

  const base = rate(N, single.ms);
  const rows: [string, number, number][] = [
    ['signcrypt, 64 in flight (setup)', rate(N, enc.ms), enc.cores],
    ['single: openpgp decrypt+verify, sequential (baseline)', base, single.cores],
    [`checked-1: openSigncrypt, sequential (${checkedN} msgs)`, rate(checkedN, checked.ms), checked.cores],
    [`checked-1, key re-parsed per message (${reparseN} msgs)`, rate(reparseN, reparse.ms), reparse.cores],
    [`inline: openSigncrypt, ${IN_FLIGHT} in flight, 1 thread`, rate(N, inline.ms), inline.cores],
    [`pool: ${CORES} workers × ${IN_FLIGHT} in flight`, rate(N, threads.ms), threads.cores],
  ];
  console.log(`\ncrypto bench: N=${N} messages, 200-byte bodies, ${CORES} cores, ${ROUNDS} interleaved rounds`);
  console.log('| path | msg/s | × single | CPU cores used |');
  console.log('|---|---:|---:|---:|');
  for (const [name, r, cores] of rows)
    console.log(`| ${name} | ${r} | ${(r / base).toFixed(2)} | ${cores.toFixed(2)} |`);
  console.log(`| pool start-up (${CORES} workers + first ${CORES * 4} msgs) | ${Math.round(startup.ms)} ms | | |`);

  const entries: BenchEntry[] = [
    { name: 'crypto/decrypt-verify-rate-single', value: base, unit: 'msg/s' },
    {
      name: 'crypto/decrypt-verify-rate-checked-sequential',
      value: rate(checkedN, checked.ms),
      unit: 'msg/s',
      baseline: base,
    },
    { name: 'crypto/decrypt-verify-rate-inline', value: rate(N, inline.ms), unit: 'msg/s', baseline: base },
    { name: 'crypto/decrypt-verify-rate-pool', value: rate(N, threads.ms), unit: 'msg/s', baseline: base },
    { name: 'crypto/decrypt-pool-startup', value: Math.round(startup.ms), unit: 'ms' },
    { name: 'crypto/signcrypt-rate-concurrent', value: rate(N, enc.ms), unit: 'msg/s' },
  ];
  recordBench(entries);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : 'crypto bench failed');
  process.exit(1);
});
