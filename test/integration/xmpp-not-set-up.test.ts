// Colleagues who cannot receive yet (issue 12 §3), against real Prosody: a colleague who never
// signed in has published no OpenPGP key (XEP-0373). The directory says so without pinning anything,
// a message to them is accepted and waits in the outbox (queued, not failed), and it goes by itself
// once their key appears — pinned on first use as usual — exactly once; a reconnect asks again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../common/contract/domain';
import { startTestServer, type TestServer } from '../support/test-server';
import { auditTypes, makeClient, messagesWith, waitFor, type TestClient } from '../support/xmpp-support';

const A = 'alice@clinic.test';
const B = 'bob@clinic.test';
const C = 'carol@clinic.test';
const D = 'dave@clinic.test';

describe('messages to a colleague who has not signed in yet', () => {
  let server: TestServer;
  let alice: TestClient;
  const clients: TestClient[] = [];
  const track = (c: TestClient) => (clients.push(c), c);

  beforeAll(async () => {
    server = await startTestServer({
      users: [
        { jid: A, password: 'alice-pw-1', name: 'Alice Archer', role: 'reception' },
        { jid: B, password: 'bob-pw-1', name: 'Bob Baker', role: 'nurse' },
        { jid: C, password: 'carol-pw-1', name: 'Carol Cook', role: 'physician' },
        { jid: D, password: 'dave-pw-1', name: 'Dave Dunn' },
      ],
    });
    // Bob has signed in before (his key is published); Carol and Dave never have.
    track(await makeClient(server, B, 'bob-pw-1'));
    alice = track(await makeClient(server, A, 'alice-pw-1'));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server?.stop();
  });

  /** Waits until the outbox has tried these messages and set them aside to wait (next attempt minutes later, no attempt counted). */
  const waiting = (c: TestClient, msgs: Message[]) =>
    waitFor('the outbox sets the messages aside to wait', () =>
      msgs.every((m) => {
        const item = c.store.outbox.all().find((i) => i.messageId === m.id);
        return item !== undefined && item.attempts === 0 && item.nextAttemptAt > m.sentAt + 60_000;
      }),
    );
  const sentAudits = (c: TestClient, m: Message) =>
    auditTypes(c).filter((a) => a.type === 'message-sent' && a.detail.messageId === m.id).length;

  it('the directory tells who has no key yet, and pins nobody by looking', async () => {
    alice.messaging.directory();
    await waitFor('the directory knows who has a key', () =>
      [B, C, D].every((j) => alice.messaging.contact(j).keyStatus !== 'unknown'),
    );
    expect(alice.messaging.contact(C)).toMatchObject({ keyStatus: 'none', trust: 'unknown', fingerprint: null });
    expect(alice.messaging.contact(D)).toMatchObject({ keyStatus: 'none', trust: 'unknown', fingerprint: null });
    // Bob has one; it is pinned on first use (a message), not by a look at the directory.
    expect(alice.messaging.contact(B)).toMatchObject({ keyStatus: 'published', trust: 'unknown', fingerprint: null });
    expect(auditTypes(alice).filter((a) => a.type === 'key-pinned')).toEqual([]);
    // The renderer heard of it (contact:updated carries the key status).
    expect(
      alice.events.some(
        (e) => e.name === 'contact:updated' && (e.payload as { jid: string; keyStatus: string }).keyStatus === 'none',
      ),
    ).toBe(true);
  });

  it('accepts messages for a colleague without a key: queued, waiting, not failed; sent once their key appears', async () => {
    const conv = alice.store.conversations.getOrCreate(C);
    const first = await alice.messaging.send(conv.id, 'Welcome to the clinic, see you at 9');
    const second = await alice.messaging.send(conv.id, 'Your badge is at the front desk');
    expect([first.state, second.state]).toEqual(['queued', 'queued']);
    await waiting(alice, [first, second]);
    expect(messagesWith(alice, C).map((m) => m.state)).toEqual(['queued', 'queued']);
    expect(alice.messaging.contact(C)).toMatchObject({ keyStatus: 'none', trust: 'unavailable' });
    expect(auditTypes(alice).some((a) => a.type === 'key-unavailable' && a.detail.jid === C)).toBe(true);

    // Carol signs in for the first time: her key is published, Alice's client pins it and sends.
    const carol = track(await makeClient(server, C, 'carol-pw-1'));
    await waitFor('both messages sent', () =>
      messagesWith(alice, C).every((m) => ['sent', 'delivered', 'read'].includes(m.state)),
    );
    expect(alice.messaging.contact(C)).toMatchObject({
      keyStatus: 'published',
      trust: 'pinned',
      fingerprint: carol.messaging.ownFingerprint(),
    });
    const got = await waitFor('carol decrypts both', () => {
      const ins = messagesWith(carol, A).filter((m) => m.direction === 'in');
      return ins.length >= 2 ? ins : null;
    });
    expect(got.map((m) => [m.originId, m.body, m.state === 'unverified'])).toEqual([
      [first.originId, 'Welcome to the clinic, see you at 9', false],
      [second.originId, 'Your badge is at the front desk', false],
    ]);
    // Each went out once: one sent commit each, and nothing left in the outbox to go again.
    expect(await alice.outboxIdle()).toBe(true);
    expect([sentAudits(alice, first), sentAudits(alice, second)]).toEqual([1, 1]);
    expect(messagesWith(carol, A).filter((m) => m.direction === 'in')).toHaveLength(2);
  });

  it('a colleague who signed in while we were away gets what waited when we reconnect', async () => {
    const conv = alice.store.conversations.getOrCreate(D);
    const m = await alice.messaging.send(conv.id, 'Parking pass is ready');
    await waiting(alice, [m]);
    // Alice's workstation goes away (locked, offline); meanwhile Dave signs in for the first time.
    await alice.messaging.stop();
    const dave = track(await makeClient(server, D, 'dave-pw-1'));
    await alice.restart();
    const got = await waitFor('dave gets it', () =>
      messagesWith(dave, A).find((x) => x.direction === 'in' && x.originId === m.originId),
    );
    expect(got.body).toBe('Parking pass is ready');
    await waitFor('sent', () => ['sent', 'delivered', 'read'].includes(alice.store.messages.get(m.id)?.state ?? ''));
    expect(await alice.outboxIdle()).toBe(true);
    expect(sentAudits(alice, m)).toBe(1);
    expect(alice.store.contacts.get(D)).toMatchObject({
      trust: 'pinned',
      fingerprint: dave.messaging.ownFingerprint(),
    });
  });
});
