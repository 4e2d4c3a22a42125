/**
 * Nothing typed is lost (issue 12 §2), at the IPC boundary with a real session: drafts in the
 * encrypted store across lock and unlock and retention, and the warning before the idle lock,
 * timed with the fake clock (no waiting).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventName } from '../../common/ipc-contract';
import type { Result } from '../../common/result';
import type { Session } from '../../main/session/types';
import { newOriginId } from '../../main/xmpp/origin-id';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { routedSession } from './session-support';
import { fakeClock, PASS, requireKeychain, type FakeClock } from './vault-support';

let prosody: ProsodyServer;
const pw = randomBytes(12).toString('hex');
const ALICE = 'alice@clinic.test';
const BOB = 'bob@clinic.test';
const DAY = 24 * 60 * 60 * 1000;

beforeAll(async () => {
  await requireKeychain();
  prosody = await startProsody({
    domain: 'clinic.test',
    users: [
      { jid: ALICE, password: pw, name: 'Alice Moreau' },
      { jid: BOB, password: randomBytes(12).toString('hex'), name: 'Bob Stone' },
    ],
  });
});
afterAll(async () => {
  await prosody?.stop();
});

interface World {
  clock: FakeClock;
  session: Session;
  seen: { name: EventName; payload: unknown }[];
  call<T = unknown>(channel: string, payload?: unknown): Promise<Result<T>>;
  value<T>(r: Promise<Result<T>>): Promise<T>;
}
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function signedIn(policy: Record<string, unknown>): Promise<World & { profileId: string }> {
  const clock = fakeClock();
  const core = await routedSession({
    server: prosody,
    account: { jid: ALICE, password: pw, name: 'Alice Moreau' },
    prefix: 'session-drafts-',
    policy,
    clock,
    replaceAccountKey: true,
  });
  cleanups.push(() => core.dispose());
  return {
    clock,
    session: core.session,
    seen: core.seen,
    call: core.call,
    value: core.value,
    profileId: core.profileId,
  };
}

const warnings = (w: World) =>
  w.seen
    .filter((e) => e.name === 'session:idleWarning')
    .map((e) => (e.payload as { lockInSeconds: number | null }).lockInSeconds);

describe('drafts over IPC', () => {
  it('keeps a draft per conversation in the store, across lock and unlock; refused while locked', async () => {
    const w = await signedIn({ lockTimeoutMaxMinutes: 60 });
    const { conversationId } = await w.value(
      w.call<{ conversationId: string }>('conversations:open', { peerJid: BOB }),
    );
    expect(await w.value(w.call('drafts:get', { conversationId }))).toEqual({ text: '' });
    await w.value(w.call('drafts:set', { conversationId, text: 'Bed 7 is asking for' }));
    expect(await w.value(w.call('drafts:get', { conversationId }))).toEqual({ text: 'Bed 7 is asking for' });

    await w.value(w.call('vault:lock', { reason: 'manual' }));
    expect((await w.call('drafts:get', { conversationId })).ok).toBe(false);
    expect(await w.call('drafts:set', { conversationId, text: 'typed while locked' })).toMatchObject({
      ok: false,
      error: { code: 'LOCKED' },
    });
    await w.value(w.call('vault:unlock', { profileId: w.profileId, passphrase: PASS }));
    expect(await w.value(w.call('drafts:get', { conversationId }))).toEqual({ text: 'Bed 7 is asking for' });

    // Blank text removes it; a conversation that is not ours is NOT_FOUND, not a new row.
    await w.value(w.call('drafts:set', { conversationId, text: '' }));
    expect(await w.value(w.call('drafts:get', { conversationId }))).toEqual({ text: '' });
    expect(await w.call('drafts:set', { conversationId: '424242', text: 'x' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    expect(await w.call('drafts:get', { conversationId: '424242' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
  });

  it('retention deletes drafts left as long as the messages it purges, and audits the count', async () => {
    // Advancing days locks the session (idle) meanwhile: each unlock runs a purge.
    const w = await signedIn({ retentionDays: 30, lockTimeoutMaxMinutes: 60 * 24 });
    const { conversationId } = await w.value(
      w.call<{ conversationId: string }>('conversations:open', { peerJid: BOB }),
    );
    await w.value(w.call('drafts:set', { conversationId, text: 'never finished' }));
    // Touched again at day 20 (kept), then left: gone at the first purge after day 50.
    w.clock.advance(20 * DAY);
    await w.value(w.call('vault:lock', { reason: 'manual' }));
    await w.value(w.call('vault:unlock', { profileId: w.profileId, passphrase: PASS }));
    expect(await w.value(w.call('drafts:get', { conversationId }))).toEqual({ text: 'never finished' });
    await w.value(w.call('drafts:set', { conversationId, text: 'never finished, really' }));
    w.clock.advance(31 * DAY);
    await w.value(w.call('vault:lock', { reason: 'manual' }));
    await w.value(w.call('vault:unlock', { profileId: w.profileId, passphrase: PASS }));
    // The purge at unlock runs on the store worker: give it time to start.
    await expect
      .poll(async () => (await w.value(w.call<{ text: string }>('drafts:get', { conversationId }))).text, {
        timeout: 20_000,
      })
      .toBe('');
    const { items } = await w.value(
      w.call<{ items: { type: string; detail: Record<string, unknown> }[] }>('audit:list', {
        before: null,
        limit: 100,
      }),
    );
    expect(items.filter((i) => i.type === 'retention-purged').map((i) => i.detail.drafts)).toEqual([1]);
  });
});

describe('a message the outbox gives up on', () => {
  it('is stored failed with the reason, which messages:page returns and a retry clears', async () => {
    const w = await signedIn({ lockTimeoutMaxMinutes: 60 });
    // Queued before the clinic's domain changed (messages:send refuses a foreign peer up front):
    // the outbox refuses it on its next pass, with nothing sent.
    const { store } = w.session.active();
    const conv = store.conversations.getOrCreate('zed@elsewhere.test');
    const id = store.transaction(() => {
      const ins = store.messages.insert({
        conversationId: conv.id,
        direction: 'out',
        state: 'queued',
        body: 'for the old domain',
        originId: newOriginId(w.clock.now()),
        sentAt: w.clock.now(),
      });
      store.outbox.enqueue(ins.id, w.clock.now());
      return ins.id;
    });
    const page = async () =>
      (
        await w.value(
          w.call<{ items: { id: string; state: string; failure?: string | null }[] }>('messages:page', {
            conversationId: conv.id,
            before: null,
            limit: 10,
          }),
        )
      ).items.find((m) => m.id === id);
    await expect.poll(page, { timeout: 20_000 }).toMatchObject({ state: 'failed', failure: 'FORBIDDEN' });
    const retried = await w.value(
      w.call<{ state: string; failure?: string | null }>('messages:retry', { messageId: id }),
    );
    expect(retried).toMatchObject({ state: 'queued', failure: null });
    // Refused again, for the same reason, until a person does something else.
    await expect.poll(page, { timeout: 20_000 }).toMatchObject({ state: 'failed', failure: 'FORBIDDEN' });
  });
});

describe('warning before the idle lock', () => {
  it('warns 30 s before the lock; activity ends the warning and postpones the lock', async () => {
    const w = await signedIn({ lockTimeoutMaxMinutes: 5 });
    w.clock.advance(4 * 60_000 + 29_000);
    expect(warnings(w)).toEqual([]);
    w.clock.advance(1_000);
    expect(warnings(w)).toEqual([30]);
    // "Stay signed in" reports activity through the same channel as any input.
    await w.value(w.call('app:activity'));
    expect(warnings(w)).toEqual([30, null]);
    w.clock.advance(60_000); // past the lock the warning announced
    expect(w.session.isUnlocked()).toBe(true);
    w.clock.advance(3 * 60_000 + 29_000);
    expect(warnings(w)).toEqual([30, null]);
    w.clock.advance(1_000); // 4 min 30 s after the activity: warned again
    expect(warnings(w)).toEqual([30, null, 30]);
    expect(w.session.isUnlocked()).toBe(true);
  });

  it('without activity, the lock comes when the warning said', async () => {
    const w = await signedIn({ lockTimeoutMaxMinutes: 5 });
    w.clock.advance(4 * 60_000 + 30_000);
    expect(warnings(w)).toEqual([30]);
    w.clock.advance(29_000);
    await Promise.resolve();
    expect(w.session.isUnlocked()).toBe(true);
    w.clock.advance(1_000);
    await expect.poll(() => w.session.isUnlocked()).toBe(false);
    expect(w.seen.find((e) => e.name === 'session:locked')?.payload).toEqual({ reason: 'idle' });
    // One warning, not a warning per timer re-arm.
    expect(warnings(w)).toEqual([30]);
  });

  it('a short timeout warns a quarter of it ahead, after more quiet than input reports leave', async () => {
    const w = await signedIn({ lockTimeoutMaxMinutes: 0.5 });
    w.clock.advance(22_000);
    expect(warnings(w)).toEqual([]);
    w.clock.advance(500);
    expect(warnings(w)).toEqual([8]);
  });
});
