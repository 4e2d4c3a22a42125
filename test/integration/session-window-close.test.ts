/**
 * Closing the window (issue 12 §4): main/electron/start.ts hides the window and calls the core's
 * windowClosed(), which locks the profile when the policy says so (lockOnWindowClose, on by
 * default for shared PCs) and leaves it open otherwise. Also the first sign-in's name, which comes
 * from the clinic directory (the account's vCard FN, issue 12 §5). Real composition root
 * (createAppCore), real keychain, real SQLCipher files, real Prosody.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventName } from '../../common/ipc-contract';
import type { Result } from '../../common/result';
import { createAppCore, type AppCore } from '../../main/core';
import { silentLogger } from '../../main/log';
import type { PolicyInput } from '../../main/policy/schema';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { setDirectoryNames } from '../support/xmpp-support';
import { FAST_ARGON2, PASS, requireKeychain, tempDir, testKeychain } from './vault-support';

let prosody: ProsodyServer;
const named = { jid: 'robin@clinic.test', password: randomBytes(12).toString('hex'), name: 'Robin Reyes' };
const unnamed = { jid: 'temp@clinic.test', password: randomBytes(12).toString('hex'), name: 'Sam Temp' };

beforeAll(async () => {
  await requireKeychain();
  prosody = await startProsody({ domain: 'clinic.test', users: [named, unnamed] });
  // IT's provisioning gave Robin a name in the directory, and the temp account none.
  await setDirectoryNames(prosody, [named]);
});
afterAll(async () => {
  await prosody?.stop();
});

interface World {
  core: AppCore;
  seen: { name: EventName; payload: unknown }[];
  call<T = unknown>(channel: string, payload?: unknown): Promise<Result<T>>;
}
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function world(policy: PolicyInput = {}): World {
  const { dir, cleanup } = tempDir('window-close-');
  const core = createAppCore({
    userDataDir: dir,
    appVersion: 'test',
    harness: true,
    logger: silentLogger,
    keychain: testKeychain().keychain,
    policy: { argon2: FAST_ARGON2, trustedCaPem: prosody.caPem, ...policy },
  });
  const seen: World['seen'] = [];
  core.events.subscribe((name, payload) => seen.push({ name, payload }));
  cleanups.push(async () => {
    await core.dispose();
    cleanup();
  });
  return { core, seen, call: (channel, payload = null) => core.router.dispatch(channel, payload) as never };
}

function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value;
}

const signIn = (w: World, who: typeof named, extra: Record<string, unknown> = {}) =>
  w.call<{ profileId: string }>('vault:createProfile', {
    jid: who.jid,
    xmppPassword: who.password,
    passphrase: PASS,
    server: { host: prosody.host, port: prosody.c2sPort, tls: 'starttls' },
    policyAcknowledged: true,
    replaceAccountKey: true,
    ...extra,
  });

const lockReasons = (w: World) =>
  w.seen.filter((e) => e.name === 'session:locked').map((e) => (e.payload as { reason: string }).reason);

describe('closing the window', () => {
  it('locks the profile by default (shared PC): LOCKED after, the lock audited with its reason', async () => {
    const w = world();
    const { profileId } = value(await signIn(w, named));
    expect(w.core.policy.policy.lockOnWindowClose).toBe(true);
    expect(await w.core.windowClosed()).toBe('locked');
    expect(w.core.session.isUnlocked()).toBe(false);
    expect(lockReasons(w)).toEqual(['window-closed']);
    const locked = await w.call('account:me');
    expect(locked.ok ? 'ok' : locked.error.code).toBe('LOCKED');
    // Whoever opens the window next meets the lock screen; the owner unlocks and finds the lock audited.
    value(await w.call('vault:unlock', { profileId, passphrase: PASS }));
    const audit = value(
      await w.call<{ items: { type: string; detail: Record<string, unknown> }[] }>('audit:list', {
        before: null,
        limit: 50,
      }),
    ).items;
    expect(audit.find((i) => i.type === 'lock')?.detail).toMatchObject({ reason: 'window-closed' });
    // A second close of a locked window has nothing to lock.
    value(await w.call('vault:lock', { reason: 'manual' }));
    expect(await w.core.windowClosed()).toBe('already-locked');
  });

  it("keeps the session open when the policy turns it off (a person's own laptop)", async () => {
    const w = world({ lockOnWindowClose: false });
    value(await signIn(w, named));
    expect(await w.core.windowClosed()).toBe('kept-open');
    expect(w.core.session.isUnlocked()).toBe(true);
    expect(lockReasons(w)).toEqual([]);
    expect(value(await w.call<{ jid: string }>('account:me')).jid).toBe(named.jid);
  });
});

describe('the name at first sign-in', () => {
  it("comes from the clinic directory (the account's vCard), also over a name typed", async () => {
    const w = world();
    value(await signIn(w, named, { displayName: 'robin' }));
    expect(value(await w.call<{ displayName: string }>('account:me')).displayName).toBe(named.name);
    // The chooser on the lock screen shows the same name.
    expect(value(await w.call<{ displayName: string }[]>('vault:listProfiles')).map((p) => p.displayName)).toEqual([
      named.name,
    ]);
  });

  it('is asked for when the directory has none: nothing is left behind, no key is published', async () => {
    const w = world();
    const r = await signIn(w, unnamed);
    expect(r.ok ? 'ok' : r.error.code).toBe('DISPLAY_NAME_REQUIRED');
    expect(value(await w.call('vault:listProfiles'))).toEqual([]);
    expect(w.core.session.isUnlocked()).toBe(false);
    // Signing in again with the name works without a key step: the first try published no key.
    value(await signIn(w, unnamed, { displayName: unnamed.name, replaceAccountKey: false }));
    expect(value(await w.call<{ displayName: string }>('account:me')).displayName).toBe(unnamed.name);
  });
});
