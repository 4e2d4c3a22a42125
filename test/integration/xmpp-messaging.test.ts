import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverKind, startTestServer, type TestServer } from '../support/test-server';
import { auditTypes, makeClient, messagesWith, waitFor, type TestClient } from '../support/xmpp-support';

const A = 'alice@clinic.test';
const B = 'bob@clinic.test';
const C = 'carol@clinic.test';

// In the server matrix (vitest.config.ts serverMatrix): Prosody, one ejabberd node, a 2-node cluster.
describe(`OX messaging between real clients over ${serverKind()}`, () => {
  let server: TestServer;
  let alice: TestClient;
  let bob: TestClient;
  let carol: TestClient;

  beforeAll(async () => {
    server = await startTestServer({
      users: [
        { jid: A, password: 'alice-pw-1', name: 'Alice Archer', role: 'physician' },
        { jid: B, password: 'bob-pw-1', name: 'Bob Baker', role: 'nurse', group: 'Ward 1' },
        { jid: C, password: 'carol-pw-1', name: 'Carol Cook', role: 'reception' },
      ],
    });
    [alice, bob, carol] = await Promise.all([
      makeClient(server, A, 'alice-pw-1'),
      makeClient(server, B, 'bob-pw-1'),
      makeClient(server, C, 'carol-pw-1'),
    ]);
  });
  afterAll(async () => {
    await Promise.all([alice, bob, carol].filter(Boolean).map((c) => c.close()));
    await server?.stop();
  });

  it('lists the shared-roster directory with display names and roles', async () => {
    const dir = await waitFor('directory', () =>
      alice.messaging.directory().length === 2 ? alice.messaging.directory() : null,
    );
    const byJid = Object.fromEntries(dir.map((c) => [c.jid, c]));
    expect(byJid[B]).toMatchObject({ displayName: 'Bob Baker', role: 'nurse' });
    expect(byJid[C]).toMatchObject({ displayName: 'Carol Cook', role: 'reception' });
    await waitFor('bob online for alice', () => alice.messaging.presenceOf(B) === 'available');
  });

  it('sends an encrypted message that arrives decrypted, delivered and then read', async () => {
    const conv = alice.store.conversations.getOrCreate(B);
    const sent = await alice.messaging.send(conv.id, 'Patient in room 3 is ready');
    expect(sent.state).toBe('queued');
    const got = await waitFor('bob receives', () => messagesWith(bob, A).find((m) => m.originId === sent.originId));
    expect(got).toMatchObject({ direction: 'in', state: 'delivered', body: 'Patient in room 3 is ready' });
    await waitFor('alice sees delivered', () => alice.store.messages.get(sent.id)?.state === 'delivered');
    // Events the renderer relies on: connection state, the new message, a PHI-free notification (policy preview 'none').
    expect(
      bob.events.some((e) => e.name === 'connection:state' && (e.payload as { state: string }).state === 'online'),
    ).toBe(true);
    expect(
      bob.events.some(
        (e) => e.name === 'message:added' && (e.payload as { originId: string }).originId === sent.originId,
      ),
    ).toBe(true);
    const note = bob.events.find((e) => e.name === 'notification:shown');
    expect(note?.payload).toMatchObject({ title: 'New message', body: '' });
    expect(
      alice.events.some((e) => e.name === 'message:updated' && (e.payload as { state: string }).state === 'delivered'),
    ).toBe(true);
    await waitFor('message-sent audited', () => auditTypes(alice).some((a) => a.type === 'message-sent'));
    expect(auditTypes(alice).map((a) => a.type)).toEqual(
      expect.arrayContaining(['key-generated', 'key-published', 'key-pinned', 'message-sent']),
    );
    expect(auditTypes(bob).some((a) => a.type === 'message-received' && a.detail.from === A)).toBe(true);
    // Bob opens the conversation → XEP-0333 displayed → Alice's message is read.
    await bob.messaging.markDisplayed(bob.store.conversations.byPeer(A)!.id);
    await waitFor('alice sees read', () => alice.store.messages.get(sent.id)?.state === 'read');
  });

  it('pins keys on first use and verifies by fingerprint', async () => {
    await waitFor('bob pinned alice', () => bob.store.contacts.get(A)?.trust === 'pinned');
    const fpr = alice.messaging.ownFingerprint()!;
    expect(bob.store.contacts.get(A)?.fingerprint).toBe(fpr);
    await expect(bob.messaging.verifyContact(A, 'F'.repeat(40))).rejects.toMatchObject({ code: 'CONFLICT' });
    const v = await bob.messaging.verifyContact(A, fpr);
    expect(v.trust).toBe('verified');
    expect(auditTypes(bob).some((a) => a.type === 'key-verified')).toBe(true);
  });

  it('three users: each conversation gets only its own messages', async () => {
    const ac = alice.store.conversations.getOrCreate(C);
    const bc = bob.store.conversations.getOrCreate(C);
    await alice.messaging.send(ac.id, 'from alice to carol');
    await bob.messaging.send(bc.id, 'from bob to carol');
    await waitFor('carol gets both', () => messagesWith(carol, A).length === 1 && messagesWith(carol, B).length === 1);
    expect(messagesWith(carol, A)[0]!.body).toBe('from alice to carol');
    expect(messagesWith(carol, B)[0]!.body).toBe('from bob to carol');
  });

  it('delivers to a user who was offline, exactly once', async () => {
    await carol.messaging.stop();
    const conv = alice.store.conversations.getOrCreate(C);
    const sent = await alice.messaging.send(conv.id, 'while you were out');
    await waitFor('alice sent', () => alice.store.messages.get(sent.id)?.state === 'sent');
    await carol.restart();
    await waitFor('carol got it', () => messagesWith(carol, A).some((m) => m.originId === sent.originId));
    await new Promise((r) => setTimeout(r, 1_000)); // offline flood and archive both had their chance
    expect(messagesWith(carol, A).filter((m) => m.originId === sent.originId)).toHaveLength(1);
  });
});
