// Issue 12: the user's own stricter notification setting wins over the policy, and no
// notification fires after 'session:locked'. Bob is the whole app core (real keychain, real
// SQLCipher profile, real Prosody); Alice is a messaging client on the same server.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventName } from '../../common/ipc-contract';
import type { Result } from '../../common/result';
import { createMessaging } from '../../main/xmpp';
import type { MessagingInspect } from '../../main/xmpp/types';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { makeClient, waitFor, type TestClient } from '../support/xmpp-support';
import { routedSession, type RoutedSession } from './session-support';
import { PASS, requireKeychain } from './vault-support';

const A = 'alice@clinic.test';
const B = 'bob@clinic.test';
const pw = { alice: randomBytes(12).toString('hex'), bob: randomBytes(12).toString('hex') };

let server: ProsodyServer;
let alice: TestClient;
let bob: RoutedSession;
/** The lock state each messaging service the session created was handed (one per unlock). */
const gates: (() => boolean)[] = [];
let profileId = '';
let seen: { name: EventName; payload: unknown }[] = [];
/** Fault injection handed to every messaging service the session creates (issue 10: hold a decryption). */
const inspect: MessagingInspect = {};

const value = <T>(r: Result<T>): T => {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value;
};
const call = <T = unknown>(channel: string, payload: unknown = null) => bob.call<T>(channel, payload);
const notes = (from = 0) =>
  seen
    .slice(from)
    .filter((e) => e.name === 'notification:shown')
    .map((e) => e.payload as { conversationId: string; title: string; body: string });

beforeAll(async () => {
  await requireKeychain();
  server = await startProsody({
    users: [
      { jid: A, password: pw.alice, name: 'Alice Archer' },
      { jid: B, password: pw.bob, name: 'Bob Baker' },
    ],
  });
  bob = await routedSession({
    server,
    account: { jid: B, password: pw.bob, name: 'Bob Baker' },
    prefix: 'session-notify-',
    // The clinic allows full previews: anything stricter Bob sees comes from Bob's own setting.
    policy: { notificationPreview: 'full' },
    // The real messaging service; the test only keeps the lock state the session hands it.
    services: {
      createMessaging: (o) => {
        if (o.locked) gates.push(o.locked);
        return createMessaging({ ...o, inspect });
      },
    },
  });
  ({ profileId, seen } = bob);
  alice = await makeClient(server, A, pw.alice);
  await waitFor('bob online', () => (bob.session.connection().state === 'online' ? true : null));
});

afterAll(async () => {
  await alice?.close();
  await bob?.dispose();
  await server?.stop();
});

const send = (text: string) => alice.messaging.send(alice.store.conversations.getOrCreate(B).id, text);

describe('notifications of a real session', () => {
  it("follows the policy until the user's own stricter setting, which wins", async () => {
    let from = seen.length;
    await send('first note');
    const full = await waitFor('notification', () => notes(from)[0]);
    expect(full).toEqual({ conversationId: expect.any(String), title: 'Alice Archer', body: 'first note' });

    value(await call('settings:update', { notificationPreview: 'sender' }));
    from = seen.length;
    await send('second note');
    expect(await waitFor('notification', () => notes(from)[0])).toMatchObject({ title: 'Alice Archer', body: '' });

    value(await call('settings:update', { notificationPreview: 'none' }));
    from = seen.length;
    await send('third note');
    expect(await waitFor('notification', () => notes(from)[0])).toMatchObject({ title: 'New message', body: '' });
  });

  it("fires no notification after 'session:locked', even for messages already on their way in", async () => {
    value(await call('settings:update', { notificationPreview: 'full' }));
    const from = seen.length;
    // The lock state the open session handed its messaging service: open…
    const gate = gates.at(-1) as () => boolean;
    expect(gate()).toBe(false);
    // …and locked from the moment 'session:locked' is emitted (checked inside that very event).
    let atLockEvent: boolean | null = null;
    const offLocked = bob.events.subscribe((name) => {
      if (name === 'session:locked') atLockEvent = gate();
    });
    // Lock as the first message of a burst arrives: the rest are in flight, queued or decrypting.
    // Declared by a cast: assigned in a callback, it must not narrow to null for the awaits below.
    let locking = null as Promise<void> | null;
    const unsubscribe = bob.events.subscribe((name) => {
      if (name === 'message:added' && !locking) locking = bob.session.lock('manual');
    });
    const burst = Array.from({ length: 20 }, (_, i) => `burst ${i}`);
    for (const text of burst) await send(text);
    await waitFor('locked', () => locking);
    await locking;
    unsubscribe();
    offLocked();
    expect(atLockEvent).toBe(true);
    const lockedAt = seen.findIndex((e, i) => i >= from && e.name === 'session:locked');
    expect(lockedAt).toBeGreaterThan(from);
    expect(notes(lockedAt)).toEqual([]);
    // Nor any message text or preview: messages still arriving are stored, not shown.
    const phi = seen
      .slice(lockedAt)
      .filter((e) => ['message:added', 'message:updated', 'conversation:updated'].includes(e.name));
    expect(phi).toEqual([]);
    expect(bob.session.isUnlocked()).toBe(false);
    await waitFor('bob away for alice', () => alice.messaging.presenceOf(B) !== 'available');

    // Unlocked again, a new live message notifies: the gate re-opens for the session that is open now.
    value(await call('vault:unlock', { profileId, passphrase: PASS }));
    // Bob sends presence after the archive catch-up; only then do new messages arrive live (PROTOCOL.md).
    await waitFor('bob online again', () => (bob.session.connection().state === 'online' ? true : null));
    await waitFor('bob available to alice', () => alice.messaging.presenceOf(B) === 'available');
    const after = seen.length;
    await send('after unlock');
    const shown = await waitFor('notification', () => notes(after).find((n) => n.body === 'after unlock'));
    expect(shown).toMatchObject({ title: 'Alice Archer' });
    // The renderer heard of it: the live path adds it; when the catch-up after our presence stored
    // it first, it announces the conversation and the open one loads its tail (wiring.ts).
    const { conversationId } = shown;
    const heard = seen.slice(after).flatMap((e) => {
      if (e.name === 'message:added') return [(e.payload as { conversationId: string }).conversationId];
      return e.name === 'conversation:updated' ? [(e.payload as { id: string }).id] : [];
    });
    expect(heard).toContain(conversationId);
    const page = value(
      await call<{ items: { body: string }[] }>('messages:page', { conversationId, before: null, limit: 5 }),
    );
    expect(page.items.map((m) => m.body)).toContain('after unlock');
    // The service stopped at the lock stays gated although a session is open again.
    expect(gate()).toBe(true);
    expect(gates.at(-1)?.()).toBe(false);
  });

  it('a message still decrypting when the session locks is stored, but neither it nor a preview reaches the renderer', async () => {
    if (!bob.session.isUnlocked()) value(await call('vault:unlock', { profileId, passphrase: PASS }));
    await waitFor('bob online', () => (bob.session.connection().state === 'online' ? true : null));
    await waitFor('bob available to alice', () => alice.messaging.presenceOf(B) === 'available');
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    let holding = false;
    inspect.beforeDecrypt = () => {
      if (holding) return undefined;
      holding = true;
      return held;
    };
    const from = seen.length;
    try {
      const m = await send('arrives while the desk locks');
      await waitFor('decryption under way', () => holding);
      const locking = bob.session.lock('manual');
      await waitFor('session:locked', () => seen.slice(from).some((e) => e.name === 'session:locked'));
      release(); // the message finishes its way in after the lock
      await locking;
      const lockedAt = seen.findIndex((e, i) => i >= from && e.name === 'session:locked');
      const phi = seen
        .slice(lockedAt)
        .filter((e) =>
          ['message:added', 'message:updated', 'conversation:updated', 'notification:shown'].includes(e.name),
        );
      expect(phi).toEqual([]);

      // Nothing lost: it is in the profile at the next unlock.
      inspect.beforeDecrypt = undefined;
      value(await call('vault:unlock', { profileId, passphrase: PASS }));
      const store = bob.session.active().store;
      const conv = store.conversations.byPeer(A)!;
      expect(store.messages.findByOriginId(conv.id, m.originId!)).toMatchObject({
        state: 'delivered',
        body: 'arrives while the desk locks',
      });
    } finally {
      inspect.beforeDecrypt = undefined;
      release();
    }
  });
});
