/**
 * The test keychain survives its daemon going away (scripts/with-keyring.sh). gnome-keyring 42
 * aborts when it answers a Secret Service caller that timed out and hung up; under the suite's
 * load that happened mid-file in clean-clone CI runs. The bus then started the system's daemon,
 * which has no login keyring: the profile's entry was gone ("cannot be opened on this PC" on the
 * lock screen, so the e2e unlock never found a passphrase field) and writes failed.
 *
 * Here a child runs inside its own with-keyring.sh, stores a profile's secret, kills the daemon
 * that owns org.freedesktop.secrets with SIGKILL, then reads again: the same entry comes back,
 * the profile is openable, a new write works, and the script said what happened.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './vault-support';

const root = resolve(__dirname, '../..');
const work = tempDir('with-keyring-restart-');
afterAll(() => work.cleanup());

const child = join(work.dir, 'restart.mts');
writeFileSync(
  child,
  `
import { spawnSync } from 'node:child_process';
import { createOsKeychain } from ${JSON.stringify(join(root, 'main/vault/keychain.ts'))};
import { createVault } from ${JSON.stringify(join(root, 'main/vault/vault.ts'))};
import { policySchema } from ${JSON.stringify(join(root, 'main/policy/schema.ts'))};
import { silentLogger } from ${JSON.stringify(join(root, 'main/log.ts'))};
import { systemClock } from ${JSON.stringify(join(root, 'main/clock.ts'))};
const keychain = createOsKeychain({ service: 'clinic-messenger-test-restart' });
const policy = policySchema.parse({ argon2: { memoryKiB: 19456, iterations: 1, parallelism: 1 } });
const vault = createVault({ userDataDir: process.argv[2], policy, keychain, clock: systemClock, logger: silentLogger });
await vault.createProfile({ jid: 'alice@clinic.example', displayName: 'Alice', passphrase: 'orbit lantern staple mango' });
const [profile] = await vault.listProfiles();
const before = await keychain.get(profile.id);
const owner = () => {
  const q = spawnSync('dbus-send', ['--session', '--print-reply=literal', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus',
    'org.freedesktop.DBus.GetConnectionUnixProcessID', 'string:org.freedesktop.secrets'], { encoding: 'utf8' });
  const m = /uint32 (\\d+)/.exec(q.stdout ?? '');
  return m ? Number(m[1]) : null;
};
const killed = owner();
if (killed === null) throw new Error('nobody owns org.freedesktop.secrets');
process.kill(killed, 'SIGKILL');
for (let i = 0; i < 100; i++) {
  try { process.kill(killed, 0); } catch { break; }
  await new Promise((r) => setTimeout(r, 50));
}
const [again] = await vault.listProfiles();
const after = await keychain.get(profile.id);
const restartedBy = owner();
const probe = await keychain.probe();
console.log(JSON.stringify({
  openable: again?.openable ?? null,
  same: !!before && !!after && before.equals(after),
  changedOwner: restartedBy !== null && restartedBy !== killed,
  probe: probe.available,
}));
before?.fill(0); after?.fill(0);
`,
);

describe('scripts/with-keyring.sh', () => {
  it('starts the daemon again on the same unlocked keyring when it dies mid-run, and says so', () => {
    const env = { ...process.env };
    delete env.DBUS_SESSION_BUS_ADDRESS;
    const r = spawnSync(
      'bash',
      ['scripts/with-keyring.sh', process.execPath, '--import', 'tsx', child, join(work.dir, 'data')],
      { cwd: root, env, encoding: 'utf8', timeout: 90_000 },
    );
    const line = r.stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .pop();
    if (!line) throw new Error(`child printed no result (status ${String(r.status)}): ${r.stderr.slice(-800)}`);
    expect(JSON.parse(line)).toEqual({ openable: true, same: true, changedOwner: true, probe: true });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(
      /gnome-keyring-daemon went away mid-run; started it again on the same keyring \(start 2\)/,
    );
  });
});
