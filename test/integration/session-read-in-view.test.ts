// Issue 11 §5 "No ping-pong": the renderer tells main once which conversation it follows live
// (conversations:view); main stores live inbound messages to it read as they arrive, so the
// renderer never calls conversations:markRead per message. Issue 12 §1 "Read means read": what
// arrived otherwise (before the view, by catch-up) is read only up to the message the renderer
// says was on screen (conversations:markRead with upTo). A new message, sent or received, is
// 'message:added'. Bob is the whole app core (real keychain, SQLCipher profile, Prosody) driven
// through the router as the renderer drives it; Alice and Carol are messaging clients.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../common/contract/domain';
import type { Result } from '../../common/result';
import type { Router } from '../../main/ipc/router';
import type { Session } from '../../main/session/types';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { makeClient, waitFor, type TestClient } from '../support/xmpp-support';
import { routedSession, type RoutedSession } from './session-support';
import { PASS, requireKeychain } from './vault-support';

const A = 'alice@clinic.test';
const B = 'bob@clinic.test';
const C = 'carol@clinic.test';
const pw = {
  alice: randomBytes(12).toString('hex'),
  bob: randomBytes(12).toString('hex'),
  carol: randomBytes(12).toString('hex'),
};

let server: ProsodyServer;
let alice: TestClient;
let carol: TestClient;
let bob: RoutedSession;
let session: Session;
let router: Router;
let profileId = '';
let seen: { name: string; payload: unknown }[] = [];
/** Every channel the test dispatched, as the renderer would have called it. */
const dispatched: string[] = [];

const value = <T>(r: Result<T>): T => {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value;
};
const call = async <T = unknown>(channel: string, payload: unknown = null): Promise<T> => {
  dispatched.push(channel);
  return value((await router.dispatch(channel, payload)) as Result<T>);
};
const bobStore = () => session.active().store;
const unread = async (peer: string) => {
  const list = await call<{ items: { peerJid: string; unread: number }[] }>('conversations:list', { cursor: null });
  return list.items.find((i) => i.peerJid === peer)?.unread;
};
/** Sends from a client to Bob and waits until Bob's profile holds it. */
async function deliver(from: TestClient, text: string): Promise<Message> {
  const sent = await from.messaging.send(from.store.conversations.getOrCreate(B).id, text);
  return waitFor(
    'stored at bob',
    () => {
      const conv = bobStore().conversations.byPeer(from.jid);
      return conv && bobStore().messages.findByOriginId(conv.id, sent.originId!);
    },
    45_000,
  );
}
const added = (from: number) =>
  seen
    .slice(from)
    .filter((e) => e.name === 'message:added')
    .map((e) => e.payload as Message);

beforeAll(async () => {
  await requireKeychain();
  server = await startProsody({
    users: [
      { jid: A, password: pw.alice, name: 'Alice Archer' },
      { jid: B, password: pw.bob, name: 'Bob Baker' },
      { jid: C, password: pw.carol, name: 'Carol Chen' },
    ],
  });
  bob = await routedSession({
    server,
    account: { jid: B, password: pw.bob, name: 'Bob Baker' },
    prefix: 'session-read-',
  });
  ({ session, router, profileId, seen } = bob);
  alice = await makeClient(server, A, pw.alice);
  carol = await makeClient(server, C, pw.carol);
  await waitFor('bob online', () => (session.connection().state === 'online' ? true : null));
});

afterAll(async () => {
  await alice?.close();
  await carol?.close();
  await bob?.dispose();
  await server?.stop();
});

describe('the conversation in view (conversations:view)', () => {
  it('stores an inbound message to it read, with no mark-read call, and the sender sees it read', async () => {
    const { conversationId } = await call<{ conversationId: string }>('conversations:open', { peerJid: A });
    await call('conversations:view', { conversationId });
    const from = seen.length;
    const calls = dispatched.length;
    const m = await deliver(alice, 'in view');
    expect(m.readAt).not.toBeNull();
    expect(added(from).map((e) => e.id)).toEqual([m.id]);
    // The inbox row the renderer receives already says read: nothing to call back.
    const row = await waitFor(
      'row event',
      () => seen.slice(from).find((e) => e.name === 'conversation:updated')?.payload as { unread: number } | undefined,
    );
    expect(row.unread).toBe(0);
    expect(dispatched.slice(calls)).toEqual([]);
    expect(await unread(A)).toBe(0);
    // XEP-0333: Alice's copy reaches "read" (the displayed marker went out when it was stored read).
    const mine = alice.store.conversations.byPeer(B)!;
    await waitFor(
      'read at alice',
      () => alice.store.messages.findByOriginId(mine.id, m.originId!)?.state === 'read',
      45_000,
    );
    expect(dispatched).not.toContain('conversations:markRead');
  });

  it('leaves a message to another conversation, or to none in view, unread', async () => {
    const fromCarol = await deliver(carol, 'not in view');
    expect(fromCarol.readAt).toBeNull();
    expect(await unread(C)).toBe(1);
    await call('conversations:view', { conversationId: null });
    const fromAlice = await deliver(alice, 'window hidden');
    expect(fromAlice.readAt).toBeNull();
    expect(await unread(A)).toBe(1);
    // In view again: what arrived meanwhile is not read by that alone (issue 12 §1)…
    const conversationId = bobStore().conversations.byPeer(A)!.id;
    await call('conversations:view', { conversationId });
    expect(await unread(A)).toBe(1);
    expect(bobStore().messages.get(fromAlice.id)?.readAt).toBeNull();
    // …but once the renderer says it was on screen.
    await call('conversations:markRead', { conversationId, upTo: fromAlice.id });
    expect(await unread(A)).toBe(1 - 1);
    expect(await unread(C)).toBe(1);
  });

  it('marks read only up to the message that was on screen, and names that one in the displayed marker', async () => {
    await call('conversations:view', { conversationId: null });
    const conversationId = bobStore().conversations.byPeer(A)!.id;
    const first = await deliver(alice, 'seen one');
    const second = await deliver(alice, 'below the fold');
    expect(await unread(A)).toBe(2);
    await call('conversations:markRead', { conversationId, upTo: first.id });
    expect(bobStore().messages.get(first.id)?.readAt).not.toBeNull();
    expect(bobStore().messages.get(second.id)?.readAt).toBeNull();
    expect(await unread(A)).toBe(1);
    // Alice sees "read" on the first only; the second stays delivered.
    const mine = alice.store.conversations.byPeer(B)!;
    await waitFor(
      'first read at alice',
      () => alice.store.messages.findByOriginId(mine.id, first.originId!)?.state === 'read',
      45_000,
    );
    expect(alice.store.messages.findByOriginId(mine.id, second.originId!)?.state).toBe('delivered');
    // A message of another conversation is refused, and marks nothing.
    const fromCarol = await deliver(carol, 'other conversation');
    const r = await router.dispatch('conversations:markRead', { conversationId, upTo: fromCarol.id });
    expect(r).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(await unread(A)).toBe(1);
    await call('conversations:markRead', { conversationId, upTo: second.id });
    expect(await unread(A)).toBe(0);
  });

  it('announces our own message as added, without touching what is read', async () => {
    const conversationId = bobStore().conversations.byPeer(A)!.id;
    const unreadBefore = await unread(C);
    const from = seen.length;
    const sent = await call<Message>('messages:send', { conversationId, body: 'from bob' });
    expect(added(from)).toMatchObject([{ id: sent.id, direction: 'out' }]);
    expect(seen.slice(from).map((e) => e.name)).not.toContain('message:received');
    expect(await unread(C)).toBe(unreadBefore);
    expect(unreadBefore).toBeGreaterThan(0);
  });

  it('refuses an unknown conversation and then has none in view', async () => {
    await call('conversations:view', { conversationId: bobStore().conversations.byPeer(A)!.id });
    const r = await router.dispatch('conversations:view', { conversationId: '999999' });
    expect(r).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect((await deliver(alice, 'after a bad view')).readAt).toBeNull();
  });

  it('forgets the view at lock: after unlock nothing is in view until the renderer says so', async () => {
    await call('conversations:view', { conversationId: bobStore().conversations.byPeer(A)!.id });
    await call('vault:lock', { reason: 'manual' });
    await call('vault:unlock', { profileId, passphrase: PASS });
    await waitFor('bob online again', () => (session.connection().state === 'online' ? true : null), 45_000);
    await waitFor('bob available to alice', () => alice.messaging.presenceOf(B) === 'available', 45_000);
    expect((await deliver(alice, 'after unlock')).readAt).toBeNull();
  });

  it('stores what arrived while locked unread, even in the conversation in view, until it was on screen', async () => {
    const conversationId = bobStore().conversations.byPeer(A)!.id;
    await call('conversations:markRead', {
      conversationId,
      upTo: bobStore().messages.page(conversationId, { before: null, limit: 1 }).items[0]!.id,
    });
    expect(await unread(A)).toBe(0);
    await call('vault:lock', { reason: 'manual' });
    await waitFor('bob offline to alice', () => alice.messaging.presenceOf(B) !== 'available' || null, 45_000);
    const sent = await alice.messaging.send(alice.store.conversations.getOrCreate(B).id, 'while locked');
    // The sender's copy is acknowledged by the server, never "read" until Bob's screen showed it
    // (no receipt comes back for an archived message: XEP-0184 receipts are for live delivery).
    // Acknowledged before the unlock: send() returns once the message is queued, and a message the
    // server took only after Bob was back would come live into the open conversation, read at once
    // (receive.ts rowFor). A clean-clone CI run met that: readAt was set.
    const mine = alice.store.conversations.byPeer(B)!;
    const state = () => alice.store.messages.findByOriginId(mine.id, sent.originId!)?.state;
    await waitFor('acknowledged at alice', () => state() === 'sent' || null, 45_000);
    await call('vault:unlock', { profileId, passphrase: PASS });
    // The renderer follows the open conversation again at once (the case the false "Read" came from).
    await call('conversations:view', { conversationId });
    const stored = await waitFor(
      'caught up at bob',
      () => bobStore().messages.findByOriginId(conversationId, sent.originId!),
      45_000,
    );
    expect(stored.readAt).toBeNull();
    expect(await unread(A)).toBe(1);
    // Bob's session answered a round trip after catch-up: a marker sent at unlock would be here by now.
    const roundTrip = await alice.messaging.send(alice.store.conversations.getOrCreate(B).id, 'round trip');
    await waitFor(
      'round trip at bob',
      () => bobStore().messages.findByOriginId(conversationId, roundTrip.originId!),
      45_000,
    );
    // A marker Bob's session sent when the round trip arrived in view ("read up to here", which
    // would cover the unread message before it) travels ahead of Bob's next message on the same
    // stream: once Alice holds that message, any such marker has reached her too.
    const back = await call<Message>('messages:send', { conversationId, body: 'after the round trip' });
    await waitFor('bob to alice', () => alice.store.messages.findByOriginId(mine.id, back.originId!), 45_000);
    expect(state()).not.toBe('read');
    expect(await unread(A)).toBe(1);
    await call('conversations:markRead', { conversationId, upTo: stored.id });
    await waitFor('read at alice', () => state() === 'read' || null, 45_000);
  });
});
