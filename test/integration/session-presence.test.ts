// Issue 12 §7: the presence a person sets reaches a colleague over real Prosody (show + status),
// survives lock and unlock (the settings repo), and Do not disturb / mute silence notifications
// while an Urgent message — flagged inside the signed payload only — still notifies.
// Bob is the whole app core (real keychain, real SQLCipher profile); Alice a messaging client.
import { randomBytes } from 'node:crypto';
import { xml, type XmlElement } from '@xmpp/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Contact, EventName } from '../../common/ipc-contract';
import type { Result } from '../../common/result';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { makeClient, rawConnection, waitFor, type TestClient } from '../support/xmpp-support';
import { routedSession, type RoutedSession } from './session-support';
import { PASS, requireKeychain } from './vault-support';

const A = 'alice@clinic.test';
const B = 'bob@clinic.test';
const pw = { alice: randomBytes(12).toString('hex'), bob: randomBytes(12).toString('hex') };

let server: ProsodyServer;
let alice: TestClient;
let bob: RoutedSession;
let profileId = '';
let seen: { name: EventName; payload: unknown }[] = [];

const value = <T>(r: Result<T>): T => {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value;
};
const call = <T = unknown>(channel: string, payload: unknown = null) => bob.call<T>(channel, payload);
const notes = (from: number) =>
  seen
    .slice(from)
    .filter((e) => e.name === 'notification:shown')
    .map((e) => e.payload as { title: string; urgent?: boolean });
const added = (from: number) =>
  seen
    .slice(from)
    .filter((e) => e.name === 'message:added')
    .map((e) => e.payload as { originId: string; urgent?: boolean });
/** Bob as Alice sees him: presence and status text. */
const bobForAlice = (): Pick<Contact, 'presence' | 'presenceStatus'> => {
  const c = alice.messaging.contact(B);
  return { presence: c.presence, presenceStatus: c.presenceStatus ?? null };
};
const sees = (want: Pick<Contact, 'presence' | 'presenceStatus'>) =>
  waitFor(`alice sees ${want.presence}`, () => {
    const got = bobForAlice();
    return got.presence === want.presence && got.presenceStatus === want.presenceStatus ? got : null;
  });

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
    prefix: 'session-presence-',
    policy: { notificationPreview: 'sender' },
  });
  ({ profileId, seen } = bob);
  alice = await makeClient(server, A, pw.alice);
  await waitFor('bob online', () => (bob.session.connection().state === 'online' ? true : null));
  await sees({ presence: 'available', presenceStatus: null });
});

afterAll(async () => {
  await alice?.close();
  await bob?.dispose();
  await server?.stop();
});

describe('presence a person sets', () => {
  it('reaches a colleague as show and status, at once', async () => {
    value(await call('settings:update', { presence: { show: 'patient', status: '' } }));
    await sees({ presence: 'dnd', presenceStatus: 'With a patient' });
    value(await call('settings:update', { presence: { show: 'away', status: 'Back at 2 pm' } }));
    await sees({ presence: 'away', presenceStatus: 'Back at 2 pm' });
    // Alice's renderer hears of it as an event too.
    expect(
      alice.events.some(
        (e) => e.name === 'presence:changed' && (e.payload as { status?: string }).status === 'Back at 2 pm',
      ),
    ).toBe(true);
    const s = value(await call<{ presence: unknown }>('settings:get'));
    expect(s.presence).toEqual({ show: 'away', status: 'Back at 2 pm' });
  });

  it('refuses a status longer than 80 characters and keeps the one set', async () => {
    const r = await call('settings:update', { presence: { show: 'away', status: 'x'.repeat(81) } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('BAD_INPUT');
    expect(value(await call<{ presence: unknown }>('settings:get')).presence).toEqual({
      show: 'away',
      status: 'Back at 2 pm',
    });
  });

  it('is Offline while locked and comes back as it was after unlock', async () => {
    await bob.session.lock('manual');
    await sees({ presence: 'offline', presenceStatus: null });
    value(await call('vault:unlock', { profileId, passphrase: PASS }));
    await sees({ presence: 'away', presenceStatus: 'Back at 2 pm' });
  });
});

describe('Do not disturb, mute and Urgent', () => {
  const conversation = () => alice.store.conversations.getOrCreate(B).id;

  it('under Do not disturb a normal message is shown but does not notify; an urgent one does', async () => {
    value(await call('settings:update', { presence: { show: 'dnd', status: '' } }));
    await sees({ presence: 'dnd', presenceStatus: null });
    const from = seen.length;
    const normal = await alice.messaging.send(conversation(), 'a normal note');
    await waitFor('normal arrives', () => added(from).find((m) => m.originId === normal.originId));
    const urgent = await alice.messaging.send(conversation(), 'an urgent note', undefined, true);
    const got = await waitFor('urgent arrives', () => added(from).find((m) => m.originId === urgent.originId));
    expect(got.urgent).toBe(true);
    const shown = await waitFor('urgent notifies', () => notes(from)[0]);
    expect(shown).toMatchObject({ title: 'Alice Archer', urgent: true });
    // Only the urgent one notified: the normal one arrived first and was silenced.
    expect(notes(from)).toHaveLength(1);
  });

  it('the Urgent mark travels only inside the encrypted payload: the stanza on the wire has none', async () => {
    // A second device of Bob's account, raw: it receives what the server delivers, as it is.
    const wire: XmlElement[] = [];
    const raw = rawConnection(server, B, pw.bob, 'wire', (el) => {
      if (el.name === 'message') wire.push(el);
    });
    await raw.start();
    try {
      await raw.send(xml('presence', {}));
      const from = seen.length;
      const m = await alice.messaging.send(conversation(), 'urgent on the wire', undefined, true);
      const got = await waitFor('raw copy', () => wire.find((el) => el.attrs.id === m.originId));
      expect(got.getChild('openpgp', 'urn:xmpp:openpgp:0')).toBeDefined();
      expect(got.toString()).not.toMatch(/urgent|clinicmessenger/i);
      // …and yet the app, which decrypts it, knows it is urgent.
      expect((await waitFor('bob has it', () => added(from).find((x) => x.originId === m.originId))).urgent).toBe(true);
    } finally {
      await raw.stop();
    }
  });

  it('a muted conversation does not notify, except an urgent message; unmuted it notifies again', async () => {
    value(await call('settings:update', { presence: { show: 'available', status: '' } }));
    await sees({ presence: 'available', presenceStatus: null });
    const convId = bob.session.active().store.conversations.byPeer(A)!.id;
    value(await call('settings:update', { mute: { conversationId: convId, muted: true } }));
    expect(value(await call<{ mutedConversations: string[] }>('settings:get')).mutedConversations).toEqual([convId]);
    let from = seen.length;
    const normal = await alice.messaging.send(conversation(), 'muted note');
    await waitFor('muted arrives', () => added(from).find((m) => m.originId === normal.originId));
    await alice.messaging.send(conversation(), 'urgent in a muted conversation', undefined, true);
    expect(await waitFor('urgent notifies', () => notes(from)[0])).toMatchObject({ urgent: true });
    expect(notes(from)).toHaveLength(1);

    value(await call('settings:update', { mute: { conversationId: convId, muted: false } }));
    from = seen.length;
    await alice.messaging.send(conversation(), 'unmuted note');
    expect(await waitFor('notifies again', () => notes(from)[0])).toEqual({
      conversationId: convId,
      title: 'Alice Archer',
      body: '',
    });
  });
});
