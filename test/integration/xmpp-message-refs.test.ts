/**
 * Replies on real Prosody (issue 12 §6, XEP-0461 inside the signed OX payload): the reference and
 * its quote travel signed and encrypted, resolve only within the same conversation, and a reply to
 * a message of another conversation is refused before anything is stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverKind, startTestServer, type TestServer } from '../support/test-server';
import { makeClient, messagesWith, waitFor, type TestClient } from '../support/xmpp-support';

const A = 'alice@clinic.test';
const B = 'bob@clinic.test';
const C = 'carol@clinic.test';

describe(`replies between real clients over ${serverKind()}`, () => {
  let server: TestServer;
  let alice: TestClient;
  let bob: TestClient;

  beforeAll(async () => {
    server = await startTestServer({
      users: [
        { jid: A, password: 'alice-pw-1', name: 'Alice Archer', role: 'physician' },
        { jid: B, password: 'bob-pw-1', name: 'Bob Baker', role: 'nurse' },
        { jid: C, password: 'carol-pw-1', name: 'Carol Cook', role: 'reception' },
      ],
    });
    [alice, bob] = await Promise.all([makeClient(server, A, 'alice-pw-1'), makeClient(server, B, 'bob-pw-1')]);
  });
  afterAll(async () => {
    await Promise.all([alice, bob].filter(Boolean).map((c) => c.close()));
    await server?.stop();
  });

  it('a reply arrives with its quote resolved in the conversation, both ways', async () => {
    const ab = alice.store.conversations.getOrCreate(B);
    const question = await alice.messaging.send(ab.id, 'Is room 3 free?');
    const got = await waitFor('bob receives the question', () =>
      messagesWith(bob, A).find((m) => m.originId === question.originId),
    );
    const ba = bob.store.conversations.byPeer(A)!;
    // Bob answers Alice's message: his copy shows the quote at once.
    const answer = await bob.messaging.send(ba.id, 'Yes, it is.', got.id);
    expect(answer.replyTo).toEqual({ messageId: got.id, direction: 'in', excerpt: 'Is room 3 free?' });
    const arrived = await waitFor('alice receives the answer', () =>
      messagesWith(alice, B).find((m) => m.originId === answer.originId),
    );
    // The fallback quote is cut from the body; the reference names Alice's own message.
    expect(arrived.body).toBe('Yes, it is.');
    expect(arrived.replyTo).toEqual({ messageId: question.id, direction: 'out', excerpt: 'Is room 3 free?' });
    // Alice answers Bob's reply in turn: a reply to a received message.
    const again = await alice.messaging.send(ab.id, 'Thanks', arrived.id);
    const back = await waitFor('bob receives the thanks', () =>
      messagesWith(bob, A).find((m) => m.originId === again.originId),
    );
    expect(back.replyTo).toEqual({ messageId: answer.id, direction: 'out', excerpt: 'Yes, it is.' });
  });

  it("refuses a reply to another conversation's message or an unknown id, storing nothing", async () => {
    const ab = alice.store.conversations.getOrCreate(B);
    const ac = alice.store.conversations.getOrCreate(C);
    const toCarol = await alice.messaging.send(ac.id, 'for carol');
    const before = alice.store.messages.page(ab.id, { before: null, limit: 100 }).items.length;
    await expect(alice.messaging.send(ab.id, 'hello', toCarol.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(alice.messaging.send(ab.id, 'hello', '999999')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(alice.store.messages.page(ab.id, { before: null, limit: 100 }).items).toHaveLength(before);
  });
});
