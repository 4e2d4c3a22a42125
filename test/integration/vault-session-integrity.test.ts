/**
 * Issue 10 items 7 and 12 through the real router and session: a restored older cache.db is
 * reported at unlock and audited (the audit head is mirrored in the keychain); removing the open
 * profile and showing the key-backup code need the passphrase, counted like unlock attempts.
 * Real keychain (gnome-keyring), SQLCipher files and Prosody; fake clock.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventName } from '../../common/ipc-contract';
import type { Result } from '../../common/result';
import { createEventBus } from '../../main/events';
import { createHandlers } from '../../main/ipc/handlers';
import { createRouter } from '../../main/ipc/router';
import { silentLogger } from '../../main/log';
import { loadPolicy } from '../../main/policy/load';
import { createSession } from '../../main/session/session';
import { readDeviceLog } from '../../main/vault/device-log';
import { startProsody } from '../support/prosody';
import { fakeClock, FAST_ARGON2, OTHER, PASS, requireKeychain, tempDir, testKeychain } from './vault-support';

let prosody: Awaited<ReturnType<typeof startProsody>>;
const password = randomBytes(12).toString('hex');
beforeAll(async () => {
  await requireKeychain();
  prosody = await startProsody({
    domain: 'clinic.test',
    users: [{ jid: 'alice@clinic.test', password, name: 'Alice Moreau' }],
  });
});
afterAll(async () => {
  await prosody?.stop();
});
const disposers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const d of disposers.splice(0)) await d();
});

type Audit = { items: { seq: number; type: string; detail: Record<string, unknown> }[] };

async function world(policy: Record<string, unknown> = {}) {
  const { dir, cleanup } = tempDir('vault-integrity-');
  const clock = fakeClock();
  const events = createEventBus(silentLogger);
  const loaded = loadPolicy(null, { argon2: FAST_ARGON2, ...policy });
  const session = createSession({
    userDataDir: dir,
    policy: loaded,
    keychain: testKeychain().keychain,
    clock,
    logger: silentLogger,
    events,
    tls: { ca: prosody.caPem },
  });
  const router = createRouter({
    handlers: createHandlers({
      app: { name: 'Clinic Messenger', version: 'test', platform: process.platform, harness: true },
      session,
      events,
      policy: loaded,
      logger: silentLogger,
    }),
    isLocked: () => !session.isUnlocked(),
    logger: silentLogger,
  });
  const seen: EventName[] = [];
  events.subscribe((name) => seen.push(name));
  disposers.push(async () => {
    await session.dispose();
    cleanup();
  });
  const call = <T = unknown>(channel: string, payload: unknown = null) =>
    router.dispatch(channel, payload) as Promise<Result<T>>;
  const { profileId } = value(
    await call<{ profileId: string }>('vault:createProfile', {
      jid: `alice@${prosody.domain}`,
      displayName: 'Alice Moreau',
      xmppPassword: password,
      passphrase: PASS,
      server: { host: prosody.host, port: prosody.c2sPort, tls: 'starttls' },
      policyAcknowledged: true,
      replaceAccountKey: true,
    }),
  );
  const audit = async () => value(await call<Audit>('audit:list', { before: null, limit: 200 })).items;
  return { dir, clock, session, seen, call, profileId, audit, profileDir: join(dir, 'profiles', profileId) };
}

function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value;
}
const code = (r: Result<unknown>) => (r.ok ? 'ok' : r.error.code);

/** cache.db and any -wal/-shm beside it. */
const dbFiles = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('cache.db'));

describe('audit rollback', () => {
  it('a restored older cache.db is reported at unlock, audited, and reported once', async () => {
    const w = await world();
    value(await w.call('vault:lock', { reason: 'manual' }));
    const aside = join(w.dir, 'aside');
    const old = dbFiles(w.profileDir);
    for (const f of old) copyFileSync(join(w.profileDir, f), `${aside}-${f}`);

    // Unlocking a database that is not rolled back reports nothing; it adds unlock + lock rows.
    const normal = value(
      await w.call<{ auditRollback?: unknown }>('vault:unlock', { profileId: w.profileId, passphrase: PASS }),
    );
    expect(normal.auditRollback).toBeUndefined();
    const newest = (await w.audit())[0]!;
    value(await w.call('vault:lock', { reason: 'manual' }));

    for (const f of dbFiles(w.profileDir)) rmSync(join(w.profileDir, f));
    for (const f of old) copyFileSync(`${aside}-${f}`, join(w.profileDir, f));
    const rolled = value(
      await w.call<{ auditRollback?: { expectedSeq: number; foundSeq: number } }>('vault:unlock', {
        profileId: w.profileId,
        passphrase: PASS,
      }),
    );
    // The mirror holds the second lock's row, after `newest`; the restored copy ends before `newest`.
    const { expectedSeq, foundSeq } = rolled.auditRollback!;
    expect(expectedSeq).toBeGreaterThan(newest.seq);
    expect(foundSeq).toBeLessThan(newest.seq);
    const entry = (await w.audit()).find((i) => i.type === 'audit-rollback');
    expect(entry?.detail).toEqual({ profileId: w.profileId, expectedSeq, foundSeq });
    expect(readDeviceLog(w.dir).find((e) => e.event === 'audit-rollback')).toMatchObject({
      profileId: w.profileId,
      detail: rolled.auditRollback,
    });
    // The restored chain itself is intact: only the mirror can tell it is old.
    expect(value(await w.call<{ ok: boolean }>('audit:verify')).ok).toBe(true);

    value(await w.call('vault:lock', { reason: 'manual' }));
    const again = value(
      await w.call<{ auditRollback?: unknown }>('vault:unlock', { profileId: w.profileId, passphrase: PASS }),
    );
    expect(again.auditRollback).toBeUndefined();
  });

  it('a mirror that lags the database (rows since the last write) is no rollback', async () => {
    const w = await world();
    // No lock and no timer yet: the keychain holds nothing newer than the database.
    for (let i = 0; i < 50; i++) w.session.active().audit.append('export', { kind: 'test', allowed: false });
    w.clock.advance(10_000); // the coalesced mirror write
    for (let i = 0; i < 50; i++) w.session.active().audit.append('export', { kind: 'test', allowed: false });
    value(await w.call('vault:lock', { reason: 'manual' }));
    expect(
      value(await w.call<{ auditRollback?: unknown }>('vault:unlock', { profileId: w.profileId, passphrase: PASS }))
        .auditRollback,
    ).toBeUndefined();
    expect((await w.audit()).some((i) => i.type === 'audit-rollback')).toBe(false);
  });
});

describe('passphrase again', () => {
  it('removing the open profile needs its passphrase; a wrong one changes nothing', async () => {
    const w = await world();
    expect(code(await w.call('vault:removeProfile', { profileId: w.profileId }))).toBe('WRONG_PASSPHRASE');
    expect(code(await w.call('vault:removeProfile', { profileId: w.profileId, passphrase: OTHER }))).toBe(
      'WRONG_PASSPHRASE',
    );
    expect(w.session.isUnlocked()).toBe(true);
    expect(existsSync(w.profileDir)).toBe(true);
    w.clock.advance(60_000);
    value(await w.call('vault:removeProfile', { profileId: w.profileId, passphrase: PASS }));
    expect(existsSync(w.profileDir)).toBe(false);
  });

  it('showing the key-backup code needs the passphrase: a wrong one reveals nothing and is audited as nothing shown', async () => {
    const w = await world();
    const wrong = await w.call('account:keyBackup', { passphrase: OTHER });
    expect(code(wrong)).toBe('WRONG_PASSPHRASE');
    expect(wrong.ok ? null : wrong.error.details).toMatchObject({ failures: 1 });
    expect((await w.audit()).some((i) => i.type === 'key-backup-shown')).toBe(false);
    // The backup is published once the first connect finishes.
    let shown: { code: string } | null = null;
    for (let i = 0; i < 200 && !shown; i++) {
      shown = value(await w.call<{ code: string } | null>('account:keyBackup', { passphrase: PASS }));
      if (!shown) await new Promise((r) => setTimeout(r, 50));
    }
    expect(shown?.code).toMatch(/^([A-HJ-NP-Z2-9]{4}-){5}[A-HJ-NP-Z2-9]{4}$/);
    expect((await w.audit()).some((i) => i.type === 'key-backup-shown')).toBe(true);
  });

  it('wrong key-backup passphrases are throttled like unlocks, and at the maximum the session locks; the next wrong unlock wipes', async () => {
    const w = await world({ maxFailedUnlocks: 3 });
    expect(code(await w.call('account:keyBackup', { passphrase: OTHER }))).toBe('WRONG_PASSPHRASE');
    expect(code(await w.call('account:keyBackup', { passphrase: OTHER }))).toBe('WRONG_PASSPHRASE');
    const throttled = await w.call('account:keyBackup', { passphrase: PASS });
    expect(code(throttled)).toBe('THROTTLED');
    w.clock.advance(1_000);
    const last = await w.call('account:keyBackup', { passphrase: OTHER });
    expect(last.ok ? null : last.error.details).toMatchObject({ lockRequired: true });
    expect(w.session.isUnlocked()).toBe(false);
    expect(w.seen).toContain('session:locked');
    w.clock.advance(60_000);
    expect(code(await w.call('vault:unlock', { profileId: w.profileId, passphrase: OTHER }))).toBe('PROFILE_WIPED');
    expect(existsSync(w.profileDir)).toBe(false);
  });
});
