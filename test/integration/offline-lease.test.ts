/**
 * The offline lease over a real Prosody (issue 15 item 3, "the lease expiry blocks unlock"): a
 * policy with offlineLeaseHours puts the lease layer on a profile at its first connection and
 * renews the lease at every connection; once it has expired, unlock needs the server; a disabled
 * account gets no new lease and the profile stays unreadable; policy off changes nothing, and
 * turning it on or off re-wraps an existing profile. Real keychain, real SQLCipher files; the
 * session runs on a fake clock, so expiry never depends on the wall clock.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventBus } from '../../main/events';
import { silentLogger } from '../../main/log';
import { loadPolicy } from '../../main/policy/load';
import type { PolicyInput } from '../../main/policy/schema';
import { createSession } from '../../main/session/session';
import type { Session } from '../../main/session/types';
import { openStore } from '../../main/store';
import { readDeviceLog } from '../../main/vault/device-log';
import { profileRecord, type Keychain } from '../../main/vault/keychain';
import { deriveSubkeys, zeroKeys } from '../../main/vault/keys';
import { decodeCachedLease } from '../../main/vault/lease-keys';
import { openMasterKey } from '../../main/vault/passphrase-wrap';
import { readProfile } from '../../main/vault/profiles';
import { createVault } from '../../main/vault/vault';
import { readLease } from '../../main/xmpp/lease-storage';
import { fakeClock, type FakeClock } from '../support/fake-clock';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { rawConnection, waitFor } from '../support/xmpp-support';
import { routedSession, type RoutedSession } from './session-support';
import {
  appError,
  FAST_ARGON2,
  OTHER,
  PASS,
  requireKeychain,
  tempDir,
  testKeychain,
  testPolicy,
} from './vault-support';

const A = 'alice@clinic.test';
const B = 'bob@clinic.test';
const C = 'carol@clinic.test';
const pw = Object.fromEntries(['alice', 'bob', 'carol'].map((k) => [k, randomBytes(12).toString('hex')]));
const HOUR = 3600_000;
const LEASE = { offlineLeaseHours: 24 };

let server: ProsodyServer;
let clock: FakeClock;
const opened: RoutedSession[] = [];
const extra: Session[] = [];

async function workstation(jid: string, password: string, prefix: string, policy: PolicyInput) {
  const s = await routedSession({ server, account: { jid, password, name: jid }, prefix, policy, clock });
  opened.push(s);
  await waitFor(`${jid} online`, () => (s.session.connection().state === 'online' ? true : null));
  return s;
}

/** Another app start on the same workstation (folder, keychain) under another policy. */
function sameWorkstation(s: RoutedSession, policy: PolicyInput): Session {
  const next = createSession({
    userDataDir: s.dir,
    policy: loadPolicy(null, { argon2: FAST_ARGON2, trustedCaPem: server.caPem, ...policy }),
    keychain: s.keychain,
    clock,
    logger: silentLogger,
    events: createEventBus(silentLogger),
  });
  extra.push(next);
  return next;
}

const cached = async (keychain: Keychain, id: string) =>
  decodeCachedLease(await keychain.getRecord(profileRecord(id, 'lease')));
const profileJson = (s: RoutedSession) => readFileSync(join(s.dir, 'profiles', s.profileId, 'profile.json'));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const auditTypes = (session: Session) =>
  session
    .active()
    .audit.list(null, 500)
    .items.map((e) => e.type);

/** The account's lease as its server keeps it (XEP-0049), read over a raw connection of the account. */
async function serverLease(jid: string, password: string): Promise<Buffer | null> {
  const c = rawConnection(server, jid, password, 'lease-reader');
  await c.start();
  try {
    return await readLease(c);
  } finally {
    await c.stop();
  }
}

/** Counts the profile's lease audit entries (the renewal runs after connecting, then audits). */
const leaseAudits = (session: Session) =>
  auditTypes(session).filter((t) => t === 'lease-enabled' || t === 'lease-renewed').length;

/** Waits for one more lease-enabled or lease-renewed entry than `before`, then returns the cached lease. */
async function renewedAfter(s: RoutedSession, session: Session, before: number) {
  await waitFor('the lease renewed', () => leaseAudits(session) > before);
  return (await cached(s.keychain, s.profileId))!;
}

/** The real CLI (admin/bin/clinic-admin.mjs) against this test's Prosody; its exit code and output. */
async function clinicAdmin(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['admin/bin/clinic-admin.mjs', ...args, '--prosody-config', server.configFile],
      { timeout: 120_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  await requireKeychain();
  server = await startProsody({
    users: [
      { jid: A, password: pw.alice!, name: 'Alice Archer' },
      { jid: B, password: pw.bob!, name: 'Bob Baker' },
      { jid: C, password: pw.carol!, name: 'Carol Chen' },
    ],
  });
  clock = fakeClock(Date.parse('2026-06-01T12:00:00Z'));
});

afterAll(async () => {
  for (const s of extra) await s.dispose();
  for (const s of opened) await s.dispose();
  await server?.stop();
});

describe('offline lease', () => {
  let alice: RoutedSession;

  it('puts the lease layer on at the first connection and renews the lease at every connection', async () => {
    alice = await workstation(A, pw.alice!, 'lease-alice-', LEASE);
    const first = await renewedAfter(alice, alice.session, 0);
    expect(first.expiresAt).toBe(clock.now() + 24 * HOUR);
    expect(readProfile(alice.dir, alice.profileId).lease).toBeDefined();
    const onServer = await serverLease(A, pw.alice!);
    expect(onServer?.equals(first.lease)).toBe(true);
    expect(auditTypes(alice.session)).toContain('lease-enabled');

    // Ten hours later, unlocked offline-capable from the cache, then connected: the expiry moves forward.
    await alice.session.lock('manual');
    clock.advance(10 * HOUR);
    await alice.session.unlock(alice.profileId, PASS);
    const renewed = await renewedAfter(alice, alice.session, leaseAudits(alice.session));
    expect(renewed.expiresAt).toBe(clock.now() + 24 * HOUR);
    expect(renewed.expiresAt).toBeGreaterThan(first.expiresAt);
    expect(renewed.lease.equals(first.lease)).toBe(true);
    expect(auditTypes(alice.session)).toContain('lease-renewed');
  });

  it('refuses unlock once the lease has expired and the server is down, loses nothing, and unlocks when it is back', async () => {
    await alice.session.lock('manual');
    await server.halt();
    try {
      // Within the lease: unlocks offline.
      clock.advance(23 * HOUR);
      await alice.session.unlock(alice.profileId, PASS);
      await alice.session.lock('manual');
      clock.advance(2 * HOUR);
      const before = sha(profileJson(alice));
      // The passphrase is still checked first.
      expect((await appError(alice.session.unlock(alice.profileId, OTHER))).code).toBe('WRONG_PASSPHRASE');
      const refused = await appError(alice.session.unlock(alice.profileId, PASS));
      expect(refused.code).toBe('LEASE_EXPIRED');
      expect(refused.details).toMatchObject({ reason: 'unreachable', hours: 24 });
      expect(refused.message).toBe(
        'This computer has been offline longer than your clinic allows (24 hours). Connect to the clinic network and unlock again.',
      );
      expect(alice.session.isUnlocked()).toBe(false);
      expect(sha(profileJson(alice))).toBe(before);
      const log = readDeviceLog(alice.dir).filter((e) => e.event === 'lease-unlock-refused');
      expect(log.at(-1)).toMatchObject({ profileId: alice.profileId, detail: { reason: 'unreachable', hours: 24 } });
      // The expired copy is withdrawn from the keychain.
      expect(await cached(alice.keychain, alice.profileId)).toBeNull();
    } finally {
      await server.restart();
    }
    // The server is back: the same passphrase unlocks, the data is all there, and the lease is cached again.
    await alice.session.unlock(alice.profileId, PASS);
    expect(await cached(alice.keychain, alice.profileId)).toMatchObject({ expiresAt: clock.now() + 24 * HOUR });
    const audit = alice.session.active().audit;
    expect(audit.verify().ok).toBe(true);
    expect(auditTypes(alice.session)).toEqual(expect.arrayContaining(['lease-enabled', 'lease-renewed', 'sign-in']));
  });

  it('gives a disabled account no new lease: the profile stays unreadable, even with the passphrase', async () => {
    const bob = await workstation(B, pw.bob!, 'lease-bob-', LEASE);
    await renewedAfter(bob, bob.session, 0);
    await bob.session.lock('manual');
    // IT disables the account with the real CLI.
    const disabled = await clinicAdmin('disable', B);
    expect(disabled.code, disabled.stderr).toBe(0);
    clock.advance(25 * HOUR);
    for (let i = 0; i < 2; i++) {
      const refused = await appError(bob.session.unlock(bob.profileId, PASS));
      expect(refused.code).toBe('LEASE_EXPIRED');
      expect(refused.details).toMatchObject({ reason: 'refused' });
      expect(refused.message).toMatch(/no longer accepts this account/);
    }
    expect(bob.session.isUnlocked()).toBe(false);
    expect(existsSync(join(bob.dir, 'profiles', bob.profileId))).toBe(true);
    // The passphrase and this PC's keychain secret alone open no data: they unwrap P, not the master key.
    const secret = (await bob.keychain.get(bob.profileId))!;
    const pre = await openMasterKey(readProfile(bob.dir, bob.profileId), PASS, secret);
    secret.fill(0);
    expect(pre).not.toBeNull();
    const keys = deriveSubkeys(pre!);
    try {
      const err = await appError(
        Promise.resolve().then(() =>
          openStore({ file: join(bob.dir, 'profiles', bob.profileId, 'cache.db'), key: keys.db, logger: silentLogger }),
        ),
      );
      expect(err.code).toBe('STORE_WRONG_KEY');
    } finally {
      zeroKeys(keys);
    }
    // Under wipeOnAccountDisabled the refused lease is the disabled account's wipe as well.
    const wiping = sameWorkstation(bob, { ...LEASE, wipeOnAccountDisabled: true });
    const wiped = await appError(wiping.unlock(bob.profileId, PASS));
    expect(wiped.code).toBe('PROFILE_WIPED');
    expect(wiped.details).toMatchObject({ by: 'admin', reason: 'account-disabled' });
    expect(existsSync(join(bob.dir, 'profiles', bob.profileId))).toBe(false);
  }, 240_000);

  it('policy off changes nothing; turning it on, then off again, re-wraps the existing profile', async () => {
    const carol = await workstation(C, pw.carol!, 'lease-carol-', {});
    expect(readProfile(carol.dir, carol.profileId).lease).toBeUndefined();
    expect(await cached(carol.keychain, carol.profileId)).toBeNull();
    expect(await serverLease(C, pw.carol!)).toBeNull();
    await carol.session.lock('manual');
    // Offline for months: no lease, so unlock does not need the server.
    await server.halt();
    try {
      clock.advance(2000 * HOUR);
      await carol.session.unlock(carol.profileId, PASS);
      await carol.session.lock('manual');
    } finally {
      await server.restart();
    }
    expect(readProfile(carol.dir, carol.profileId).lease).toBeUndefined();

    // IT turns the lease on: the next unlock's connection puts the layer on.
    const on = sameWorkstation(carol, LEASE);
    await on.unlock(carol.profileId, PASS);
    expect((await renewedAfter(carol, on, 0)).expiresAt).toBe(clock.now() + 24 * HOUR);
    expect(readProfile(carol.dir, carol.profileId).lease).toBeDefined();
    await on.lock('manual');

    // And off again: the unlock takes the layer off, after which unlock needs no server however long.
    const off = sameWorkstation(carol, {});
    await off.unlock(carol.profileId, PASS);
    expect(readProfile(carol.dir, carol.profileId).lease).toBeUndefined();
    await off.lock('manual');
    await server.halt();
    try {
      clock.advance(2000 * HOUR);
      await off.unlock(carol.profileId, PASS);
      expect(off.isUnlocked()).toBe(true);
      await off.lock('manual');
    } finally {
      await server.restart();
    }
  });

  it('clinic-admin lease revoke: the profile withdraws its cached lease at its next connection and then cannot be unlocked', async () => {
    expect((await clinicAdmin('lease', 'show', A)).stdout).toMatch(/has an offline lease/);
    // The clock moved on in the tests above: unlocking fetches a fresh lease first.
    await alice.session.lock('manual');
    await alice.session.unlock(alice.profileId, PASS);
    await alice.session.lock('manual');
    expect(await cached(alice.keychain, alice.profileId)).toMatchObject({ expiresAt: clock.now() + 24 * HOUR });
    const revoked = await clinicAdmin('lease', 'revoke', A);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toMatch(/^Revoked the offline lease of alice@clinic\.test/);
    expect(await serverLease(A, pw.alice!)).toBeNull();
    expect((await clinicAdmin('lease', 'show', A)).stdout).toMatch(/has no offline lease/);
    expect((await clinicAdmin('lease', 'revoke', A)).stdout).toMatch(/had no offline lease on .*; nothing was changed/);

    // Still within its cached lease: it unlocks, and its connection finds the lease gone.
    await alice.session.unlock(alice.profileId, PASS);
    await waitFor('lease-revoked audited', () => auditTypes(alice.session).includes('lease-revoked'));
    expect(await cached(alice.keychain, alice.profileId)).toBeNull();
    expect(await serverLease(A, pw.alice!)).toBeNull(); // the workstation made no new one
    await alice.session.lock('manual');
    const refused = await appError(alice.session.unlock(alice.profileId, PASS));
    expect(refused.code).toBe('LEASE_EXPIRED');
    expect(refused.details).toMatchObject({ reason: 'revoked' });

    // Bad input: an unknown account exits 1, a wrong action 2; nothing changed.
    const unknown = await clinicAdmin('lease', 'show', 'nobody@clinic.test');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/No such account: nobody@clinic\.test/);
    const otherDomain = await clinicAdmin('lease', 'revoke', 'alice@elsewhere.test');
    expect(otherDomain.code).toBe(1);
    expect((await clinicAdmin('lease', 'renew', A)).code).toBe(2);
  }, 240_000);

  it('never puts the layer on with a passphrase that changed since the unlock', async () => {
    const { dir, cleanup } = tempDir('lease-vault-');
    const { keychain } = testKeychain();
    let id: string | null = null;
    try {
      const vault = createVault({ userDataDir: dir, policy: testPolicy(LEASE), keychain, clock, logger: silentLogger });
      const opened = await vault.createProfile({ jid: 'dana@clinic.test', displayName: 'Dana', passphrase: PASS });
      id = opened.profile.id;
      // Changed while the session waited for its first connection.
      await vault.changePassphrase(id, PASS, OTHER);
      const before = readFileSync(join(dir, 'profiles', id, 'profile.json'));
      const login = {
        jid: 'dana@clinic.test',
        password: 'x',
        server: { host: 'h', port: 5222, tls: 'starttls' as const },
      };
      const stale = await appError(
        vault.addLease(id, { passphrase: PASS, master: opened.keys.master, lease: randomBytes(32), login }),
      );
      expect(stale.code).toBe('CONFLICT');
      expect(readFileSync(join(dir, 'profiles', id, 'profile.json')).equals(before)).toBe(true);
      // With the current passphrase it goes on, and that passphrase still unlocks (through the lease).
      const lease = randomBytes(32);
      expect(await vault.addLease(id, { passphrase: OTHER, master: opened.keys.master, lease, login })).toBe(
        clock.now() + 24 * HOUR,
      );
      const again = await vault.unlock(id, OTHER);
      expect(again.keys.master.equals(opened.keys.master)).toBe(true);
      expect(again.keys.lease?.equals(lease)).toBe(true);
      zeroKeys(again.keys);
      zeroKeys(opened.keys);
    } finally {
      // The entries live under this test's own keychain service; a failed delete leaves nothing that matters.
      if (id) await keychain.delete(id).catch(() => false);
      cleanup();
    }
  });
});
