/**
 * Unlock time (Argon2id with the default policy + OS keychain + open SQLCipher store + audit log,
 * messaging created and started in the background), lock latency (trigger → 'session:locked'
 * emitted) and lock teardown (trigger → messaging stopped, store closed, keys zeroed). The renderer's paint of the lock screen
 * is measured by the renderer's e2e bench. Run inside scripts/with-keyring.sh (npm run bench does).
 *
 *   npx tsx test/bench/vault.bench.ts            CLINIC_BENCH_ROUNDS=5 by default
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventBus } from '../../main/events';
import { silentLogger } from '../../main/log';
import { systemClock } from '../../main/clock';
import { loadPolicy } from '../../main/policy/load';
import { createSession } from '../../main/session/session';
import { createOsKeychain } from '../../main/vault/keychain';
import { createVault } from '../../main/vault/vault';
import { startProsody } from '../support/prosody';
import { recordBench, type BenchEntry } from './report';

const ROUNDS = Math.max(1, Number(process.env.CLINIC_BENCH_ROUNDS ?? 5));
const PASS = 'orbit lantern staple mango';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? NaN;
};
const max = (xs: number[]) => Math.max(...xs);
const round = (x: number) => Math.round(x * 10) / 10;

async function main(): Promise<void> {
  const keychain = createOsKeychain({ service: `clinic-messenger-bench-${randomBytes(4).toString('hex')}` });
  const probe = await keychain.probe();
  if (!probe.available) throw new Error(`no keychain: run inside scripts/with-keyring.sh (${probe.reason})`);
  const dir = mkdtempSync(join(tmpdir(), 'vault-bench-'));
  const xmppPassword = randomBytes(12).toString('hex');
  const prosody = await startProsody({ users: [{ jid: 'alice@clinic.test', password: xmppPassword, name: 'Alice' }] });
  const policy = loadPolicy(null, {}); // the default policy: the KDF cost users really pay
  try {
    // 1. KDF + keychain alone (vault layer).
    const vaultDir = join(dir, 'vault-only');
    const vault = createVault({
      userDataDir: vaultDir,
      policy: policy.policy,
      keychain,
      clock: systemClock,
      logger: silentLogger,
    });
    const created = await vault.createProfile({ jid: 'carol@bench.example', displayName: 'Carol', passphrase: PASS });
    const kdf: number[] = [];
    const kdfCpu: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const opened = await vault.unlock(created.profile.id, PASS);
      kdf.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      kdfCpu.push((c.user + c.system) / 1000);
      opened.keys.master.fill(0);
    }
    await vault.removeProfile(created.profile.id, 'user');

    // 2. The whole session: unlock (KDF + keychain + store + audit + messaging created) and lock.
    const events = createEventBus(silentLogger);
    let lockedAt = 0;
    events.subscribe((name) => {
      if (name === 'session:locked') lockedAt = performance.now();
    });
    const session = createSession({
      userDataDir: join(dir, 'session'),
      policy,
      keychain,
      clock: systemClock,
      logger: silentLogger,
      events,
      tls: { ca: prosody.caPem },
    });
    const { profileId } = await session.createProfile({
      jid: `alice@${prosody.domain}`,
      displayName: 'Alice',
      xmppPassword,
      passphrase: PASS,
      server: { host: prosody.host, port: prosody.c2sPort, tls: 'starttls' },
      policyAcknowledged: true,
    });
    const unlock: number[] = [];
    const lock: number[] = [];
    const teardown: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      // Let the background connect finish, as it would have in real use before someone locks.
      await new Promise((r) => setTimeout(r, 300));
      const t0 = performance.now();
      await session.lock('manual');
      teardown.push(performance.now() - t0);
      lock.push(lockedAt - t0);
      const t1 = performance.now();
      await session.unlock(profileId, PASS);
      unlock.push(performance.now() - t1);
    }
    await session.removeProfile(profileId);

    const kdfParams = `${policy.policy.argon2.memoryKiB / 1024} MiB, t=${policy.policy.argon2.iterations}, p=${policy.policy.argon2.parallelism}`;
    const rows: [string, BenchEntry][] = [
      [
        `unlock: Argon2id (${kdfParams}) + keychain, median`,
        { name: 'vault/unlock-kdf-keychain-median', value: round(median(kdf)), unit: 'ms' },
      ],
      [
        'unlock: Argon2id + keychain, CPU time (all threads), median',
        { name: 'vault/unlock-kdf-cpu-median', value: round(median(kdfCpu)), unit: 'ms' },
      ],
      [
        'unlock: + open store + audit + messaging, median',
        { name: 'vault/unlock-total-median', value: round(median(unlock)), unit: 'ms' },
      ],
      [
        'unlock: + open store + audit + messaging, max',
        { name: 'vault/unlock-total-max', value: round(max(unlock)), unit: 'ms' },
      ],
      [
        'lock: trigger → session:locked, median',
        { name: 'vault/lock-latency-median', value: round(median(lock)), unit: 'ms' },
      ],
      ['lock: trigger → session:locked, max', { name: 'vault/lock-latency-max', value: round(max(lock)), unit: 'ms' }],
      [
        'lock: trigger → XMPP stopped, store closed, keys zero, median',
        { name: 'vault/lock-teardown-median', value: round(median(teardown)), unit: 'ms' },
      ],
      [
        'lock: trigger → XMPP stopped, store closed, keys zero, max',
        { name: 'vault/lock-teardown-max', value: round(max(teardown)), unit: 'ms' },
      ],
    ];
    const width = Math.max(...rows.map(([label]) => label.length));
    // Wall times on a shared box grow with load; CPU time and the load average help read them.
    console.log(
      `\nvault bench (${ROUNDS} rounds, default policy, ${cpus().length} cores, load average ${loadavg()[0]?.toFixed(1)})\n`,
    );
    for (const [label, e] of rows) console.log(`  ${label.padEnd(width)}  ${String(e.value).padStart(8)} ${e.unit}`);
    const m = median(unlock);
    console.log(
      `\n  unlock target 300–1000 ms: ${m >= 300 && m <= 1000 ? 'met' : 'NOT met'} (median ${round(m)} ms)\n`,
    );
    recordBench(rows.map(([, e]) => e));
  } finally {
    await prosody.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`vault bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
