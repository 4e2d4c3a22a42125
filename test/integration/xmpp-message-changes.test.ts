/**
 * Edit (XEP-0308) and delete for everyone (XEP-0424) on real Prosody (issue 12 §6): the change
 * travels inside the signed OX payload, replaces or removes the text on both sides, reaches a
 * workstation that was away through the archive without applying twice, and is audited with ids
 * only. A change signed by anyone but the message's sender, or naming a message of another
 * conversation, changes nothing and is audited as refused.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityAsContact, loadIdentity, signcryptWithDigest, type Identity } from '../../main/crypto';
import { systemClock } from '../../main/clock';
import { IDENTITY_SETTING } from '../../main/xmpp/account-key';
import type { XmppConnection } from '../../main/xmpp/transport/connection';
import { oxMessage } from '../../main/xmpp/stanzas';
import { serverKind, startTestServer, type TestServer } from '../support/test-server';
import { auditTypes, makeClient, messagesWith, rawConnection, waitFor, type TestClient } from '../support/xmpp-support';

const A = 'alice@clinic.test';
const B = 'bob@clinic.test';
const C = 'carol@clinic.test';
const now = () => new Date(systemClock.now());

const identityOf = (c: TestClient): Promise<Identity> =>
  loadIdentity(c.store.getSetting<{ armoredSecretKey: string }>(IDENTITY_SETTING)!.armoredSecretKey);
const changes = (c: TestClient, type: string, messageId?: string) =>
  auditTypes(c).filter((a) => a.type === type && (messageId === undefined || a.detail.messageId === messageId));

describe(`edit and delete for everyone between real clients over ${serverKind()}`, () => {
  let server: TestServer;
  let alice: TestClient;
  let bob: TestClient;
  let carol: TestClient;
  let bobRaw: XmppConnection;
  let carolRaw: XmppConnection;

  beforeAll(async () => {
    server = await startTestServer({
      users: [
        { jid: A, password: 'alice-pw-1', name: 'Alice Archer', role: 'physician' },
        { jid: B, password: 'bob-pw-1', name: 'Bob Baker', role: 'nurse' },
        { jid: C, password: 'carol-pw-1', name: 'Carol Cook', role: 'reception' },
      ],
    });
    [alice, bob, carol] = await Promise.all([
      makeClient(server, A, 'alice-pw-1'),
      makeClient(server, B, 'bob-pw-1'),
      makeClient(server, C, 'carol-pw-1'),
    ]);
    bobRaw = rawConnection(server, B, 'bob-pw-1', 'raw');
    carolRaw = rawConnection(server, C, 'carol-pw-1', 'raw');
    await Promise.all([bobRaw.start(), carolRaw.start()]);
  });
  afterAll(async () => {
    await Promise.all([bobRaw, carolRaw].filter(Boolean).map((c) => c.stop()));
    await Promise.all([alice, bob, carol].filter(Boolean).map((c) => c.close()));
    await server?.stop();
  });

  /** Alice sends, Bob has it: both rows. */
  async function exchanged(text: string) {
    const ab = alice.store.conversations.getOrCreate(B);
    const sent = await alice.messaging.send(ab.id, text);
    const got = await waitFor('bob receives it', () =>
      messagesWith(bob, A).find((m) => m.originId === sent.originId && m.body !== null),
    );
    await waitFor('alice sees it sent', () =>
      ['sent', 'delivered', 'read'].includes(alice.store.messages.get(sent.id)!.state),
    );
    return { sent, got };
  }

  it('an edit replaces the text on both screens in place, marked edited, and is audited with ids only', async () => {
    const { sent, got } = await exchanged('Mrs Lee is in room four');
    const rowsBefore = messagesWith(bob, A).length;
    const edited = await alice.messaging.change(sent.id, { kind: 'edit', body: 'Mrs Lee is in room five' });
    expect(edited).toMatchObject({ id: sent.id, body: 'Mrs Lee is in room five' });
    expect(edited.editedAt).toBeTypeOf('number');
    const seen = await waitFor('bob sees the edit', () => {
      const m = bob.store.messages.get(got.id)!;
      return m.body === 'Mrs Lee is in room five' && m;
    });
    expect(seen.editedAt).toBeTypeOf('number');
    // In place: no new row for the correction, and the renderer heard of the change.
    expect(messagesWith(bob, A)).toHaveLength(rowsBefore);
    expect(bob.events.some((e) => e.name === 'message:updated' && (e.payload as { id: string }).id === got.id)).toBe(
      true,
    );
    expect(bob.store.messages.search('four', { cursor: null, limit: 10 }).items).toHaveLength(0);
    expect(changes(alice, 'message-edited', sent.id)).toEqual([
      { type: 'message-edited', detail: { messageId: sent.id, peer: B, by: 'me' } },
    ]);
    expect(changes(bob, 'message-edited', got.id)).toEqual([
      { type: 'message-edited', detail: { messageId: got.id, peer: A, by: 'peer' } },
    ]);
    const log = JSON.stringify([auditTypes(alice), auditTypes(bob)]);
    expect(log).not.toContain('room');
  });

  it('a deletion removes the text on both sides for good; a later edit of it is refused', async () => {
    const { sent, got } = await exchanged('wrong chart attached');
    const deleted = await alice.messaging.change(sent.id, { kind: 'retract' });
    expect(deleted).toMatchObject({ body: null });
    expect(deleted.deletedAt).toBeTypeOf('number');
    const gone = await waitFor('bob sees the deletion', () => {
      const m = bob.store.messages.get(got.id)!;
      return m.deletedAt !== undefined && m;
    });
    expect(gone.body).toBeNull();
    expect(changes(bob, 'message-deleted', got.id)).toHaveLength(1);
    expect(bob.store.messages.search('chart', { cursor: null, limit: 10 }).items).toHaveLength(0);
    await expect(alice.messaging.change(sent.id, { kind: 'edit', body: 'again' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('a workstation that was away gets the edit from the archive; neither side applies it twice', async () => {
    const { sent, got } = await exchanged('call back at 3');
    await bob.messaging.stop();
    await alice.messaging.change(sent.id, { kind: 'edit', body: 'call back at 4' });
    await bob.restart();
    await bob.messaging.inspect.settled();
    await waitFor('bob catches up the edit', () => bob.store.messages.get(got.id)!.body === 'call back at 4');
    // Alice's own copy of the correction comes back from her archive after a restart: no second apply.
    await alice.restart();
    await alice.messaging.inspect.settled();
    await bob.restart();
    await bob.messaging.inspect.settled();
    expect(changes(alice, 'message-edited', sent.id)).toHaveLength(1);
    expect(changes(bob, 'message-edited', got.id)).toHaveLength(1);
    expect(alice.audit.verify()).toMatchObject({ ok: true, unaudited: { count: 0 } });
    expect(bob.audit.verify()).toMatchObject({ ok: true, unaudited: { count: 0 } });
  });

  it("refuses an edit signed by the other person, or naming another conversation's message, and audits it", async () => {
    const { sent } = await exchanged('dose is 5 mg');
    const rejectedBefore = changes(alice, 'message-change-rejected').length;
    // Bob, with his own real key, tries to rewrite Alice's message in their conversation.
    const bobId = await identityOf(bob);
    const aliceKey = identityAsContact(await identityOf(alice));
    const forged = await signcryptWithDigest({
      identity: bobId,
      recipients: [aliceKey],
      to: A,
      body: 'dose is 50 mg',
      now: now(),
      change: { kind: 'edit', id: sent.originId! },
    });
    await bobRaw.sendAcked(oxMessage(A, randomUUID(), forged.base64));
    // Carol, a colleague of Alice's with her own conversation, names the same message.
    const carolId = await identityOf(carol);
    await carol.messaging.send(carol.store.conversations.getOrCreate(A).id, 'hi');
    await waitFor('alice knows carol', () => messagesWith(alice, C).some((m) => m.body === 'hi'));
    const fromCarol = await signcryptWithDigest({
      identity: carolId,
      recipients: [aliceKey],
      to: A,
      body: '',
      now: now(),
      change: { kind: 'retract', id: sent.originId! },
    });
    await carolRaw.sendAcked(oxMessage(A, randomUUID(), fromCarol.base64));
    const refused = await waitFor('both refused', () => {
      const r = changes(alice, 'message-change-rejected').slice(rejectedBefore);
      return r.length >= 2 && r;
    });
    expect(refused.map((r) => r.detail)).toEqual(
      expect.arrayContaining([
        { messageId: sent.id, peer: B, direction: 'in', change: 'edit', reason: 'not-original-sender' },
        { messageId: null, peer: C, direction: 'in', change: 'retract', reason: 'unknown-message' },
      ]),
    );
    expect(alice.store.messages.get(sent.id)).toMatchObject({ body: 'dose is 5 mg' });
    expect(alice.store.messages.get(sent.id)?.editedAt).toBeUndefined();
    expect(alice.store.messages.get(sent.id)?.deletedAt).toBeUndefined();
    expect(messagesWith(alice, B).filter((m) => m.body?.includes('50 mg'))).toHaveLength(0);
  });

  it('refuses to change a received message, and changes nothing offline', async () => {
    const { sent, got } = await exchanged('see you at noon');
    await expect(bob.messaging.change(got.id, { kind: 'edit', body: 'x' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(bob.messaging.change(got.id, { kind: 'retract' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await alice.messaging.stop();
    await expect(alice.messaging.change(sent.id, { kind: 'edit', body: 'see you at one' })).rejects.toMatchObject({
      code: 'NOT_CONNECTED',
    });
    expect(alice.store.messages.get(sent.id)).toMatchObject({ body: 'see you at noon' });
    await alice.restart();
  });
});
