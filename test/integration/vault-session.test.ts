/**
 * The session end to end in the main process: real keychain (gnome-keyring), real SQLCipher
 * store and audit log, real Prosody on loopback, the real router. Time is a fake clock so the
 * inactivity lock is tested without waiting.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventName } from '../../common/ipc-contract';
import type { Result } from '../../common/result';
import { createEventBus } from '../../main/events';
import { createHandlers } from '../../main/ipc/handlers';
import { createRouter, type Router } from '../../main/ipc/router';
import { silentLogger } from '../../main/log';
import { loadPolicy } from '../../main/policy/load';
import type { Policy } from '../../main/policy/schema';
import { createSession } from '../../main/session/session';
import type { Session } from '../../main/session/types';
import { isAllZero, type VaultKeys } from '../../main/vault/keys';
import { RETENTION_INTERVAL_MS } from '../../main/session/retention';
import { startProsody } from '../support/prosody';
import {
  fakeClock,
  FAST_ARGON2,
  OTHER,
  PASS,
  requireKeychain,
  tempDir,
  testKeychain,
  type FakeClock,
} from './vault-support';

type Prosody = Awaited<ReturnType<typeof startProsody>>;
let prosody: Prosody;
const pw = { alice: randomBytes(12).toString('hex'), bob: randomBytes(12).toString('hex') };

beforeAll(async () => {
  await requireKeychain();
  prosody = await startProsody({
    domain: 'clinic.test',
    users: [
      { jid: 'alice@clinic.test', password: pw.alice, name: 'Alice Moreau' },
      { jid: 'bob@clinic.test', password: pw.bob, name: 'Bob Stone' },
    ],
  });
});
afterAll(async () => {
  await prosody?.stop();
});

interface World {
  dir: string;
  cleanup(): void;
  clock: FakeClock;
  session: Session;
  router: Router;
  seen: { name: EventName; payload: unknown }[];
  keys: VaultKeys[];
  /** The session's policy object: a test may change it as the live policy view would. */
  policy: Policy;
  call<T = unknown>(channel: string, payload?: unknown): Promise<Result<T>>;
  until(name: EventName): Promise<unknown>;
}
const worlds: World[] = [];
afterEach(async () => {
  for (const w of worlds.splice(0)) {
    await w.session.dispose();
    w.cleanup();
  }
});

function world(policy: Record<string, unknown> = {}): World {
  const { dir, cleanup } = tempDir('vault-session-');
  const clock = fakeClock();
  const logger = silentLogger;
  const events = createEventBus(logger);
  const loaded = loadPolicy(null, { argon2: FAST_ARGON2, lockTimeoutMaxMinutes: 5, ...policy });
  const keys: VaultKeys[] = [];
  const session = createSession({
    userDataDir: dir,
    policy: loaded,
    keychain: testKeychain().keychain,
    clock,
    logger,
    events,
    tls: { ca: prosody.caPem },
    inspectKeys: (k) => keys.push(k),
  });
  const app = { name: 'Clinic Messenger', version: 'test', platform: process.platform, harness: true };
  const router = createRouter({
    handlers: createHandlers({ app, session, events, policy: loaded, logger }),
    isLocked: () => !session.isUnlocked(),
    logger,
  });
  const seen: World['seen'] = [];
  const waiters: { name: EventName; resolve: (p: unknown) => void }[] = [];
  events.subscribe((name, payload) => {
    seen.push({ name, payload });
    for (const w of waiters.filter((x) => x.name === name)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(payload);
    }
  });
  const w: World = {
    dir,
    cleanup,
    clock,
    session,
    router,
    seen,
    keys,
    policy: loaded.policy,
    call: (channel, payload = null) => router.dispatch(channel, payload) as never,
    until: (name) => new Promise((resolve) => waiters.push({ name, resolve })),
  };
  worlds.push(w);
  return w;
}

const server = () => ({ host: prosody.host, port: prosody.c2sPort, tls: 'starttls' as const });
const signIn = (w: World, who: 'alice' | 'bob' = 'alice', passphrase = PASS) =>
  w.call<{ profileId: string }>('vault:createProfile', {
    jid: `${who}@${prosody.domain}`,
    displayName: who === 'alice' ? 'Alice Moreau' : 'Bob Stone',
    xmppPassword: pw[who],
    passphrase,
    server: server(),
    policyAcknowledged: true,
    // Every world is a new workstation of the same account: start over with a new key (the
    // key-backup choice itself is tested in xmpp-key-backup.test.ts).
    replaceAccountKey: true,
  });

async function waitUntil(ok: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value;
}

describe('session lifecycle', () => {
  it('signs in on first run, then answers as unlocked with the account', async () => {
    const w = world();
    const { profileId } = value(await signIn(w));
    expect(value(await w.call('vault:status'))).toMatchObject({
      state: 'unlocked',
      activeProfileId: profileId,
      keychain: { available: true, reason: null },
    });
    expect(value(await w.call('account:me'))).toMatchObject({
      jid: `alice@${prosody.domain}`,
      displayName: 'Alice Moreau',
    });
    expect(w.seen.some((e) => e.name === 'session:unlocked')).toBe(true);
    const entries = value(
      await w.call<{ items: { type: string; detail: Record<string, unknown> }[] }>('audit:list', {
        before: null,
        limit: 50,
      }),
    ).items;
    expect(entries.map((i) => i.type)).toEqual(expect.arrayContaining(['sign-in', 'policy-acknowledged']));
    // Which wording was accepted (issue 15 item 5): the SHA-256 of the policy text shown at first sign-in.
    const policyText = value(await w.call<{ messagingPolicyText: string }>('policy:get')).messagingPolicyText;
    expect(entries.find((i) => i.type === 'policy-acknowledged')?.detail.policySha256).toBe(
      createHash('sha256').update(policyText, 'utf8').digest('hex'),
    );
  });

  it('removes the half-made profile when the first sign-in is refused by the server', async () => {
    const w = world();
    const r = await w.call('vault:createProfile', {
      jid: `alice@${prosody.domain}`,
      displayName: 'Alice',
      xmppPassword: 'not-the-password',
      passphrase: PASS,
      server: server(),
      policyAcknowledged: true,
    });
    expect(r.ok ? 'ok' : r.error.code).toBe('AUTH_FAILED');
    expect(value(await w.call('vault:listProfiles'))).toEqual([]);
    expect(w.session.isUnlocked()).toBe(false);
    expect(w.keys[0] && isAllZero(w.keys[0].db)).toBe(true);
  });

  it('locks on demand: closes the store, zero-fills every key, tells the renderer, answers LOCKED', async () => {
    const w = world();
    const { profileId } = value(await signIn(w));
    const locked = w.until('session:locked');
    expect(value(await w.call('vault:lock', { reason: 'manual' }))).toBeNull();
    expect(await locked).toEqual({ reason: 'manual' });
    expect(w.keys).toHaveLength(1);
    for (const k of w.keys) for (const b of [k.master, k.db, k.files, k.audit]) expect(isAllZero(b)).toBe(true);
    for (const [channel, payload] of [
      ['conversations:list', { cursor: null }],
      ['messages:page', { conversationId: '1', before: null }],
      ['contacts:directory', null],
      ['account:me', null],
      ['settings:get', null],
      ['audit:list', { before: null }],
      ['vault:changePassphrase', { current: PASS, next: OTHER }],
    ] as const) {
      const r = await w.call(channel, payload);
      expect(r.ok ? 'ok' : r.error.code, channel).toBe('LOCKED');
    }
    expect(() => w.session.active()).toThrow(/locked/);
    // What still answers: status, profile list, policy, unlock.
    expect(value(await w.call('vault:status'))).toMatchObject({ state: 'locked', activeProfileId: null });
    expect(value(await w.call('vault:listProfiles'))).toEqual([
      { id: profileId, displayName: 'Alice Moreau', openable: true },
    ]);
    expect(value(await w.call('policy:get'))).toMatchObject({ exportAllowed: false });
  });

  it('unlocks again after a wrong passphrase and audits both', async () => {
    const w = world();
    const { profileId } = value(await signIn(w));
    await w.session.lock('manual');
    const wrong = await w.call('vault:unlock', { profileId, passphrase: OTHER });
    expect(wrong.ok ? 'ok' : wrong.error.code).toBe('WRONG_PASSPHRASE');
    value(await w.call('vault:unlock', { profileId, passphrase: PASS }));
    expect(w.session.isUnlocked()).toBe(true);
    const items = value(
      await w.call<{ items: { type: string; detail: Record<string, unknown> }[] }>('audit:list', {
        before: null,
        limit: 50,
      }),
    ).items;
    expect(items.find((i) => i.type === 'unlock-failed')?.detail).toMatchObject({ attempts: 1 });
    expect(items.map((i) => i.type)).toEqual(expect.arrayContaining(['unlock', 'lock']));
    // The second unlock derived a second key set; the first was zeroed at lock.
    expect(w.keys).toHaveLength(2);
    expect(isAllZero(w.keys[0]!.db)).toBe(true);
    expect(isAllZero(w.keys[1]!.db)).toBe(false);
  });

  it('audits at unlock a policy IT changed while the profile was locked (the keys, once)', async () => {
    const w = world({ lockTimeoutMaxMinutes: 5 });
    const { profileId } = value(await signIn(w));
    await w.session.lock('manual');
    // IT changes the policy while nobody is signed in (in the app, the live policy view follows the file).
    Object.assign(w.policy, { lockTimeoutMaxMinutes: 3, exportAllowed: true });
    const applied = async () =>
      value(
        await w.call<{ items: { type: string; detail: Record<string, unknown> }[] }>('audit:list', {
          before: null,
          limit: 50,
        }),
      ).items.filter((i) => i.type === 'policy-applied');
    value(await w.call('vault:unlock', { profileId, passphrase: PASS }));
    expect((await applied()).map((i) => i.detail)).toEqual([
      { keys: 'exportAllowed,lockTimeoutMaxMinutes', source: 'overrides', since: 'last-unlock' },
    ]);
    // Unchanged since: the next unlock records nothing more.
    await w.session.lock('manual');
    value(await w.call('vault:unlock', { profileId, passphrase: PASS }));
    expect(await applied()).toHaveLength(1);
  });

  it('locks after the policy inactivity timeout, and input postpones it', async () => {
    const w = world({ lockTimeoutMaxMinutes: 2 });
    value(await signIn(w));
    w.clock.advance(90_000);
    w.session.reportActivity();
    w.clock.advance(90_000);
    expect(w.session.isUnlocked()).toBe(true);
    const locked = w.until('session:locked');
    w.clock.advance(31_000);
    expect(await locked).toEqual({ reason: 'idle' });
    expect(w.session.isUnlocked()).toBe(false);
  });

  it('purges messages older than the policy retention at unlock and every 6 hours, from search too, audited', async () => {
    const w = world({ retentionDays: 30, lockTimeoutMaxMinutes: 60 * 24 });
    const { profileId } = value(await signIn(w));
    // A day-long lock timeout, so advancing the fake clock 6 hours does not lock first.
    value(await w.call('settings:update', { lockTimeoutMinutes: 60 * 24 }));
    const day = 24 * 60 * 60 * 1000;
    const { store } = w.session.active();
    const conv = store.conversations.getOrCreate(`bob@${prosody.domain}`, w.clock.now());
    const at = (daysAgo: number) => w.clock.now() - daysAgo * day;
    const put = (daysAgo: number, word: string) =>
      store.messages.insert({
        conversationId: conv.id,
        direction: 'in',
        state: 'delivered',
        body: `${word} note`,
        originId: `${word}-${daysAgo}`,
        sentAt: at(daysAgo),
      });
    put(45, 'ancient');
    put(31, 'expired');
    put(29.9, 'recent'); // 29 days 21.6 hours: past 30 days within the next 6 hours
    // Locking and unlocking runs a purge at unlock.
    value(await w.call('vault:lock', { reason: 'manual' }));
    value(await w.call('vault:unlock', { profileId, passphrase: PASS }));
    const active = w.session.active();
    const bodies = async () => {
      await active.store.background.indexed();
      return active.store.messages.page(conv.id, { before: null, limit: 10 }).items.map((m) => m.body);
    };
    await waitUntil(async () => (await bodies()).length === 1);
    expect(await bodies()).toEqual(['recent note']);
    expect(active.store.messages.search('expired', { cursor: null, limit: 5 }).items).toEqual([]);
    // The 6-hourly purge takes it once it has passed 30 days.
    w.clock.advance(RETENTION_INTERVAL_MS);
    await waitUntil(async () => (await bodies()).length === 0);
    const purges = value(
      await w.call<{ items: { type: string; detail: Record<string, unknown> }[] }>('audit:list', {
        before: null,
        limit: 100,
      }),
    ).items.filter((i) => i.type === 'retention-purged');
    expect(purges.map((p) => p.detail.deleted).sort()).toEqual([1, 2]);
    expect(purges.every((p) => p.detail.days === 30)).toBe(true);
  });

  it('lets the user shorten the lock timeout but never lengthen it past policy', async () => {
    const w = world({ lockTimeoutMaxMinutes: 5 });
    value(await signIn(w));
    const loosen = await w.call('settings:update', { lockTimeoutMinutes: 10 });
    expect(loosen.ok ? 'ok' : loosen.error.code).toBe('FORBIDDEN');
    const preview = await w.call('settings:update', { notificationPreview: 'full' });
    expect(preview.ok ? 'ok' : preview.error.code).toBe('FORBIDDEN');
    value(await w.call('settings:update', { lockTimeoutMinutes: 1 }));
    expect(value(await w.call('settings:get'))).toMatchObject({
      lockTimeoutMinutes: 1,
      notificationPreview: 'none',
      limits: { maxLockTimeoutMinutes: 5 },
    });
    const locked = w.until('session:locked');
    w.clock.advance(61_000);
    expect(await locked).toEqual({ reason: 'idle' });
  });

  it('locks on OS lock and suspend with the reason', async () => {
    const w = world();
    const { profileId } = value(await signIn(w));
    await w.session.lock('os-lock');
    value(await w.call('vault:unlock', { profileId, passphrase: PASS }));
    await w.session.lock('suspend');
    expect(w.seen.filter((e) => e.name === 'session:locked').map((e) => e.payload)).toEqual([
      { reason: 'os-lock' },
      { reason: 'suspend' },
    ]);
  });

  it('switches user: locks the current profile and unlocks another', async () => {
    const w = world();
    const alice = value(await signIn(w, 'alice'));
    const bob = value(await signIn(w, 'bob', OTHER));
    expect(w.seen.filter((e) => e.name === 'session:locked').map((e) => e.payload)).toEqual([
      { reason: 'switch-user' },
    ]);
    expect(value(await w.call('account:me'))).toMatchObject({ jid: `bob@${prosody.domain}` });
    value(await w.call('vault:switchUser'));
    expect(w.session.isUnlocked()).toBe(false);
    value(await w.call('vault:unlock', { profileId: alice.profileId, passphrase: PASS }));
    expect(value(await w.call('account:me'))).toMatchObject({ jid: `alice@${prosody.domain}` });
    expect(value(await w.call('vault:listProfiles'))).toHaveLength(2);
    expect(bob.profileId).not.toBe(alice.profileId);
  });

  it('removes the open profile: locks first, then erases its folder', async () => {
    const w = world();
    const { profileId } = value(await signIn(w));
    value(await w.call('vault:removeProfile', { profileId, passphrase: PASS }));
    expect(w.session.isUnlocked()).toBe(false);
    expect(existsSync(join(w.dir, 'profiles', profileId))).toBe(false);
    expect(value(await w.call('vault:status'))).toMatchObject({ state: 'no-profiles' });
  });

  it('changes the passphrase while unlocked and audits it', async () => {
    const w = world();
    const { profileId } = value(await signIn(w));
    const weak = await w.call('vault:changePassphrase', { current: PASS, next: 'password123456' });
    expect(weak.ok ? 'ok' : weak.error.code).toBe('WEAK_PASSPHRASE');
    value(await w.call('vault:changePassphrase', { current: PASS, next: OTHER }));
    await w.session.lock('manual');
    expect((await w.call('vault:unlock', { profileId, passphrase: PASS })).ok).toBe(false);
    w.clock.advance(10_000);
    value(await w.call('vault:unlock', { profileId, passphrase: OTHER }));
    const types = value(
      await w.call<{ items: { type: string }[] }>('audit:list', { before: null, limit: 50 }),
    ).items.map((i) => i.type);
    expect(types).toContain('passphrase-changed');
  });
});
