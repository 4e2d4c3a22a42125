/**
 * No keychain service / a locked keychain → KEYCHAIN_UNAVAILABLE with what is missing and how to
 * fix it, and nothing written to disk. Each case runs in a child process with its own D-Bus
 * environment, so the suite's keyring is left alone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './vault-support';

const root = resolve(__dirname, '../..');
const work = tempDir('vault-nokc-');
afterAll(() => work.cleanup());

const script = join(work.dir, 'attempt.mts');
writeFileSync(
  script,
  `
import { createOsKeychain } from ${JSON.stringify(join(root, 'main/vault/keychain.ts'))};
import { createVault } from ${JSON.stringify(join(root, 'main/vault/vault.ts'))};
import { policySchema } from ${JSON.stringify(join(root, 'main/policy/schema.ts'))};
import { silentLogger } from ${JSON.stringify(join(root, 'main/log.ts'))};
import { systemClock } from ${JSON.stringify(join(root, 'main/clock.ts'))};
const keychain = createOsKeychain({ service: 'clinic-messenger-test-nokc' });
const probe = await keychain.probe();
const vault = createVault({ userDataDir: process.argv[2], policy: policySchema.parse({ argon2: { memoryKiB: 19456, iterations: 1, parallelism: 1 } }), keychain, clock: systemClock, logger: silentLogger });
let error = null;
try { await vault.createProfile({ jid: 'alice@clinic.example', displayName: 'Alice', passphrase: 'orbit lantern staple mango' }); }
catch (err) { error = { code: err.code, message: err.message }; }
console.log(JSON.stringify({ probe, error }));
`,
);

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, dataDir: string) {
  const r = spawnSync(cmd, args, { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
  const line = r.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  if (!line) throw new Error(`child printed no result (status ${r.status}): ${r.stderr.slice(-800)}`);
  return {
    ...(JSON.parse(line) as {
      probe: { available: boolean; reason: string | null };
      error: { code: string; message: string } | null;
    }),
    dataDir,
  };
}

describe('keychain unavailable', () => {
  it('says there is no keychain service when the D-Bus session bus is unreachable', () => {
    const data = join(work.dir, 'nobus');
    const out = run(
      process.execPath,
      ['--import', 'tsx', script, data],
      { ...process.env, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' },
      data,
    );
    expect(out.probe.available).toBe(false);
    expect(out.probe.reason).toMatch(/No keychain service is reachable/);
    expect(out.probe.reason).toMatch(/GNOME Keyring or KWallet/);
    expect(out.error?.code).toBe('KEYCHAIN_UNAVAILABLE');
    expect(out.error?.message).toMatch(/D-Bus/);
    // Never a fallback secret: nothing was written.
    expect(existsSync(join(data, 'profiles'))).toBe(false);
  });

  it('says the keychain is locked, and how to unlock it, when the login keyring is locked', () => {
    const data = join(work.dir, 'locked');
    const env = { ...process.env };
    delete env.DBUS_SESSION_BUS_ADDRESS;
    delete env.DISPLAY;
    const lock =
      'gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets --method org.freedesktop.Secret.Service.Lock "[\'/org/freedesktop/secrets/collection/login\']" >/dev/null';
    const out = run(
      'scripts/with-keyring.sh',
      ['sh', '-c', `${lock} && exec "$0" --import tsx "$1" "$2"`, process.execPath, script, data],
      env,
      data,
    );
    expect(out.probe.available).toBe(false);
    expect(out.probe.reason).toMatch(/keychain is locked/);
    expect(out.error?.code).toBe('KEYCHAIN_UNAVAILABLE');
    expect(existsSync(join(data, 'profiles'))).toBe(false);
  });

  it('recovers without a restart: once a session bus and keyring appear, the same vault creates the profile', () => {
    // Earlier notes said the native Secret Service client stays failed for the life of the
    // process; this shows it does not. The child starts the bus and keyring itself, mid-run.
    const data = join(work.dir, 'late');
    const state = join(work.dir, 'late-state');
    const child = join(work.dir, 'late.mts');
    writeFileSync(
      child,
      `
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createOsKeychain } from ${JSON.stringify(join(root, 'main/vault/keychain.ts'))};
import { createVault } from ${JSON.stringify(join(root, 'main/vault/vault.ts'))};
import { policySchema } from ${JSON.stringify(join(root, 'main/policy/schema.ts'))};
import { silentLogger } from ${JSON.stringify(join(root, 'main/log.ts'))};
import { systemClock } from ${JSON.stringify(join(root, 'main/clock.ts'))};
const [dataDir, stateDir] = process.argv.slice(2);
const keychain = createOsKeychain({ service: 'clinic-messenger-test-late' });
const vault = createVault({ userDataDir: dataDir, policy: policySchema.parse({ argon2: { memoryKiB: 19456, iterations: 1, parallelism: 1 } }), keychain, clock: systemClock, logger: silentLogger });
const input = { jid: 'alice@clinic.example', displayName: 'Alice', passphrase: 'orbit lantern staple mango' };
const attempt = async () => { try { await vault.createProfile(input); return null; } catch (err) { return err.code; } };
const before = await attempt();
mkdirSync(stateDir + '/data', { recursive: true, mode: 0o700 });
const bus = spawn('dbus-daemon', ['--session', '--nofork', '--address=' + process.env.DBUS_SESSION_BUS_ADDRESS], { stdio: 'ignore' });
const ring = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets', '--control-directory=' + stateDir], { env: { ...process.env, XDG_DATA_HOME: stateDir + '/data' }, stdio: ['pipe', 'ignore', 'ignore'] });
ring.stdin.end('throwaway-test-password');
let owned = false;
for (let i = 0; i < 100 && !owned; i++) {
  await new Promise((r) => setTimeout(r, 100));
  const q = spawnSync('dbus-send', ['--session', '--print-reply=literal', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner', 'string:org.freedesktop.secrets'], { encoding: 'utf8' });
  owned = /true/.test(q.stdout ?? '');
}
const after = await attempt();
const profiles = await vault.listProfiles();
const secret = profiles[0] ? await keychain.get(profiles[0].id) : null;
console.log(JSON.stringify({ before, owned, after, profiles: profiles.length, secretBytes: secret?.length ?? 0 }));
secret?.fill(0);
ring.kill(); bus.kill();
process.exit(0);
`,
    );
    const r = spawnSync(process.execPath, ['--import', 'tsx', child, data, state], {
      cwd: root,
      env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(work.dir, 'late-bus')}` },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const line = r.stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .pop();
    if (!line) throw new Error(`child printed no result (status ${r.status}): ${r.stderr.slice(-800)}`);
    expect(JSON.parse(line)).toEqual({
      before: 'KEYCHAIN_UNAVAILABLE',
      owned: true,
      after: null,
      profiles: 1,
      secretBytes: 32,
    });
  });
});
