/**
 * Issue 10 §2–§5, §11, §12 against a real Prosody: the one receive path with its durable replay
 * guard, honest time, stanzas "from our own account", one commit per catch-up page, and the
 * smaller sender/receipt rules. Hand-crafted stanzas come from raw connections of the same real
 * accounts, as a hostile colleague (or a second device of our own account) could send them.
 */
import { randomUUID } from 'node:crypto';
import { xml, type XmlElement } from '@xmpp/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityAsContact, loadIdentity } from '../../main/crypto';
import { systemClock } from '../../main/clock';
import { IDENTITY_SETTING } from '../../main/xmpp/account-key';
import { MAM_LAST_SETTING } from '../../main/xmpp/catch-up';
import { COMMIT_SLICE } from '../../main/xmpp/receive';
import type { MessagingInspect } from '../../main/xmpp/types';
import type { XmppConnection } from '../../main/xmpp/transport/connection';
import { NS, oxMessage } from '../../main/xmpp/stanzas';
import { craft, signcryptXml, stamp, type Party } from '../support/crypto-fixtures';
import { startTestServer, type TestServer } from '../support/test-server';
import { auditTypes, makeClient, messagesWith, rawConnection, waitFor, type TestClient } from '../support/xmpp-support';

const A = 'alice@clinic.test';
const B = 'bob@clinic.test';
const M = 'mallory@clinic.test';
const C = 'carol@clinic.test';
const D = 'dave@clinic.test';
const E = 'erin@clinic.test';
/** The clients under test run on the system clock; hand-crafted messages are signed by the same one. */
const now = () => new Date(systemClock.now());

async function partyOf(c: TestClient): Promise<Party> {
  const identity = await loadIdentity(
    c.store.getSetting<{ armoredSecretKey: string }>(IDENTITY_SETTING)!.armoredSecretKey,
  );
  return { jid: c.jid, identity, contact: identityAsContact(identity) };
}

const settled = (c: TestClient) => c.messaging.inspect.settled();
const rejections = (c: TestClient, reason: string) =>
  auditTypes(c).filter((a) => a.type === 'message-rejected' && a.detail.reason === reason);
const notifications = (c: TestClient) => c.events.filter((e) => e.name === 'notification:shown');

describe('the receive path keeps its promises across every way a message can arrive', () => {
  let server: TestServer;
  let alice: TestClient;
  let bob: TestClient;
  let mallory: TestClient;
  let malRaw: XmppConnection;
  let bobRaw: XmppConnection;
  let bobP: Party;
  let malP: Party;
  const toMallory: XmlElement[] = [];

  beforeAll(async () => {
    server = await startTestServer({
      users: [
        { jid: A, password: 'alice-pw-1', name: 'Alice Adams' },
        { jid: B, password: 'bob-pw-1', name: 'Bob Baker' },
        { jid: M, password: 'mallory-pw-1', name: 'Mallory Mills' },
        { jid: C, password: 'carol-pw-1', name: 'Carol Cook' },
        { jid: D, password: 'dave-pw-1', name: 'Dave Dunn' },
        { jid: E, password: 'erin-pw-1', name: 'Erin Ellis' },
      ],
    });
    [alice, bob, mallory] = await Promise.all([
      makeClient(server, A, 'alice-pw-1'),
      makeClient(server, B, 'bob-pw-1', { resource: 'desk' }),
      makeClient(server, M, 'mallory-pw-1'),
    ]);
    [bobP, malP] = await Promise.all([partyOf(bob), partyOf(mallory)]);
    malRaw = rawConnection(server, M, 'mallory-pw-1', 'raw', (el) => toMallory.push(el));
    bobRaw = rawConnection(server, B, 'bob-pw-1', 'intruder');
    await Promise.all([malRaw.start(), bobRaw.start()]);
    // Bob's second resource is online as every app session is (available presence; priority -1 so
    // messages to his bare address still go to the desk). ejabberd treats a message to a resource
    // without presence like one to the bare address and copies it to nobody (mod_carboncopy
    // send_copies: "unavailable resources are handled like bare JIDs"), though it delivers it.
    await bobRaw.send(xml('presence', {}, xml('priority', {}, '-1')));
    // Bob's desk learns Mallory's key the ordinary way: a real message from her app.
    await mallory.messaging.send(mallory.store.conversations.getOrCreate(B).id, 'hello');
    await waitFor('first message', () => messagesWith(bob, M).find((m) => m.state === 'delivered'));
  });
  afterAll(async () => {
    await Promise.all([malRaw, bobRaw].filter(Boolean).map((c) => c.stop()));
    await Promise.all([alice, bob, mallory].filter(Boolean).map((c) => c.close()));
    await server?.stop();
  });

  const signedByMallory = (text: string, opts: { time?: Date } = {}) =>
    craft({
      plaintext: signcryptXml({ to: [B], time: stamp(opts.time ?? now()), body: text }),
      encryptTo: [bobP, malP],
      signedBy: malP,
      date: now(),
    });

  // The carbon step needs the server to copy a message addressed to another of Bob's resources to
  // the desk (XEP-0280 §6): Prosody and ejabberd do, ejabberd only when that resource is available.
  it('one signed message replayed live, as a carbon, through the archive and after a restart: stored once, notified once (§3)', async () => {
    const b64 = await signedByMallory('the one genuine message');
    const notifiedBefore = notifications(bob).length;
    const replayedBefore = rejections(bob, 'replayed').length;

    // 1. live
    const first = randomUUID();
    await malRaw.sendAcked(oxMessage(B, first, b64));
    await waitFor('live copy stored', () => messagesWith(bob, M).find((m) => m.originId === first));
    // 2. as a carbon: sent to Bob's other resource, Prosody copies it to the desk (XEP-0280)
    const second = randomUUID();
    await malRaw.sendAcked(oxMessage(`${B}/intruder`, second, b64));
    await waitFor('carbon copy stored', () => messagesWith(bob, M).find((m) => m.originId === second));
    // 3. through the archive, after a restart: written while Bob's desk was away
    await bob.messaging.stop();
    const third = randomUUID();
    await malRaw.sendAcked(oxMessage(B, third, b64));
    await bob.restart();
    await settled(bob);
    await waitFor('archived copy stored', () => messagesWith(bob, M).find((m) => m.originId === third));
    // 4. live again after another restart (a new session of the profile, as after unlock)
    await bob.restart();
    await settled(bob);
    const fourth = randomUUID();
    await malRaw.sendAcked(oxMessage(B, fourth, b64));
    await waitFor('late live copy stored', () => messagesWith(bob, M).find((m) => m.originId === fourth));

    // In sending order (the archive's stamps have whole seconds, so sorting may interleave them).
    const copies = [first, second, third, fourth].map((id) => messagesWith(bob, M).find((m) => m.originId === id)!);
    expect(copies.map((m) => m.state)).toEqual(['delivered', 'unverified', 'unverified', 'unverified']);
    expect(copies.filter((m) => m.body !== null)).toHaveLength(1);
    expect(rejections(bob, 'replayed').length - replayedBefore).toBe(3);
    expect(notifications(bob).length - notifiedBefore).toBe(1);
    expect(bob.audit.verify()).toMatchObject({ ok: true, unaudited: { count: 0 } });
  });

  it('trusts a delay stamp only from our own server: a forged one cannot date a message into the future (§4)', async () => {
    const later = new Date(systemClock.now() + 2 * 86_400_000);
    const b64 = await signedByMallory('from the future', { time: later });
    const id = randomUUID();
    const forged = oxMessage(B, id, b64);
    // A colleague's client can write a <delay/> that names our server; it is not our server's.
    forged.append(xml('delay', { xmlns: NS.delay, from: 'clinic.test', stamp: later.toISOString() }));
    await malRaw.sendAcked(forged);
    const row = await waitFor('row', () => messagesWith(bob, M).find((m) => m.originId === id));
    expect(row).toMatchObject({ state: 'unverified', body: null });
    expect(row.sentAt).toBeLessThanOrEqual(systemClock.now());
    await waitFor('audited as bad-time', () =>
      auditTypes(bob).find(
        (a) => a.type === 'message-rejected' && a.detail.messageId === row.id && a.detail.reason === 'bad-time',
      ),
    );
  });

  it('a claim a little ahead of the clock is kept as the claim but never sorts above newer messages (§4)', async () => {
    const claimed = new Date(systemClock.now() + 4 * 60_000); // inside the allowed skew
    const early = randomUUID();
    await malRaw.sendAcked(oxMessage(B, early, await signedByMallory('claims four minutes ahead', { time: claimed })));
    const row = await waitFor('row', () => messagesWith(bob, M).find((m) => m.originId === early));
    expect(row.state).toBe('delivered');
    expect(row.claimedAt).toBe(Math.floor(claimed.getTime() / 1000) * 1000);
    // Ordered by receipt; the claim is kept (and shown, being within the skew: common/message-time.ts).
    expect(row.sentAt).toBe(row.receivedAt);
    expect(row.sentAt).toBeLessThan(row.claimedAt!);
    const next = await mallory.messaging.send(mallory.store.conversations.getOrCreate(B).id, 'sent after it');
    await waitFor('next', () => messagesWith(bob, M).find((m) => m.originId === next.originId));
    const order = messagesWith(bob, M).map((m) => m.originId);
    expect(order.indexOf(next.originId)).toBeGreaterThan(order.indexOf(early));
  });

  it('what the archive holds after a message stored live sorts after it, whatever the two clocks say (§4)', async () => {
    // Carol's workstation clock runs two minutes ahead of the server's once she is set up (her key
    // was made on the right time): a live receipt is stamped by her clock, an archived message by
    // the server's, so the later archived one would sort above the earlier live one.
    let ahead = 0;
    const clock = { ...systemClock, now: () => systemClock.now() + ahead };
    const carol = await makeClient(server, C, 'carol-pw-1', { clock });
    try {
      const conv = alice.store.conversations.getOrCreate(C);
      ahead = 2 * 60_000;
      const first = await alice.messaging.send(conv.id, 'stored live');
      await waitFor('live copy', () => messagesWith(carol, A).find((m) => m.originId === first.originId));
      await carol.messaging.stop();
      const second = await alice.messaging.send(conv.id, 'archived while away');
      expect(await alice.outboxIdle()).toBe(true);
      await carol.restart();
      await settled(carol);
      const got = await waitFor('archived copy', () => {
        const ins = messagesWith(carol, A);
        return ins.length === 2 ? ins : null;
      });
      expect(got.map((m) => [m.originId, m.state])).toEqual([
        [first.originId, 'delivered'],
        [second.originId, 'delivered'],
      ]);
      // Not moved up to now: it sorts with the one it followed, the rest of its times are the server's.
      expect(got[1]!.sentAt).toBe(got[0]!.sentAt);
      expect(got[1]!.receivedAt).toBeLessThan(got[0]!.sentAt);
    } finally {
      await carol.close();
    }
  });

  it('roster pushes and carbons from another resource of our own account are refused (§5)', async () => {
    const before = bob.store.contacts.get(M)?.displayName;
    expect(before).toBeTruthy();
    const push = xml(
      'iq',
      { type: 'set', to: `${B}/desk`, id: randomUUID() },
      xml('query', { xmlns: NS.roster }, xml('item', { jid: M, name: 'IT Administrator' })),
    );
    await bobRaw.iq(push).catch(() => undefined); // answered (with an error) once Bob's desk handled it
    expect(bob.store.contacts.get(M)?.displayName).toBe(before);

    const b64 = await craft({
      plaintext: signcryptXml({ to: [B], time: stamp(now()), body: 'x' }),
      encryptTo: [bobP],
      signedBy: malP,
      date: now(),
    });
    const forgedBefore = rejections(bob, 'forged-carbon').length;
    await bobRaw.send(
      xml(
        'message',
        { to: `${B}/desk`, type: 'chat' },
        xml(
          'received',
          { xmlns: NS.carbons },
          xml(
            'forwarded',
            { xmlns: NS.forward },
            xml('message', { from: `${C}/phone`, to: B, type: 'chat' }, xml('openpgp', { xmlns: NS.ox }, b64)),
          ),
        ),
      ),
    );
    await waitFor('forged carbon audited', () => rejections(bob, 'forged-carbon').length > forgedBefore);
    expect(messagesWith(bob, C)).toEqual([]);
  });

  it('sends no delivery receipt for a message that failed verification (§12)', async () => {
    const unsigned = await craft({
      plaintext: signcryptXml({ to: [B], time: stamp(now()), body: 'x' }),
      encryptTo: [bobP, malP],
      date: now(),
    });
    const bad = randomUUID();
    const good = randomUUID();
    await malRaw.sendAcked(oxMessage(B, bad, unsigned));
    await malRaw.sendAcked(oxMessage(B, good, await signedByMallory('genuine')));
    // Bob's desk handles stanzas in arrival order: once the good one's receipt is here, the bad one was handled.
    const receiptOf = (id: string) => toMallory.find((el) => el.getChild('received', NS.receipts)?.attrs.id === id);
    await waitFor('receipt for the genuine message', () => receiptOf(good));
    expect(messagesWith(bob, M).find((m) => m.originId === bad)?.state).toBe('unverified');
    expect(receiptOf(bad)).toBeUndefined();
  });

  it('refuses in main to write to someone outside the clinic domain (§12)', async () => {
    const conv = bob.store.conversations.getOrCreate('eve@elsewhere.example', systemClock.now());
    await expect(bob.messaging.send(conv.id, 'x')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(bob.store.outbox.all()).toEqual([]);
  });

  it("marks a sent message 'sent', removes it from the outbox and audits it in one commit: a fault leaves it queued and it is retried (§11)", async () => {
    const append = alice.audit.append.bind(alice.audit);
    let faults = 0;
    alice.audit.append = (type, detail) => {
      if (type === 'message-sent' && faults++ === 0)
        throw new Error('injected fault between the state and its audit entry');
      append(type, detail);
    };
    let m;
    try {
      m = await alice.messaging.send(alice.store.conversations.getOrCreate(B).id, 'sent once, audited once');
      expect(await alice.outboxIdle()).toBe(true);
    } finally {
      alice.audit.append = append;
    }
    expect(faults).toBe(2); // the first commit failed; the retry committed (it was on the wire already)
    expect(alice.store.messages.get(m.id)?.state).toMatch(/sent|delivered|read/);
    const sentEntries = auditTypes(alice).filter((a) => a.type === 'message-sent' && a.detail.messageId === m.id);
    expect(sentEntries).toHaveLength(1);
    expect(alice.audit.verify()).toMatchObject({ ok: true, unaudited: { count: 0 } });
    // The re-send carried the same origin-id: Bob has it once.
    await waitFor('bob has it', () => messagesWith(bob, A).find((x) => x.originId === m.originId));
    expect(messagesWith(bob, A).filter((x) => x.originId === m.originId)).toHaveLength(1);
  });

  it('stores a catch-up page with its audit entries and archive pointer in one commit: a fault between them stores nothing (§11)', async () => {
    await bob.messaging.stop();
    const pointerBefore = bob.store.getSetting<string>(MAM_LAST_SETTING);
    const conv = alice.store.conversations.getOrCreate(B);
    const sent = [];
    for (let i = 0; i < 3; i++) sent.push(await alice.messaging.send(conv.id, `while away ${i}`));
    expect(await alice.outboxIdle()).toBe(true);
    const ids = sent.map((m) => m.originId ?? '');

    const append = bob.audit.append.bind(bob.audit);
    let received = 0;
    bob.audit.append = (type, detail) => {
      if (type === 'message-received' && ++received === 2)
        throw new Error('injected fault between the row and its audit entry');
      append(type, detail);
    };
    try {
      await bob.restart();
      await settled(bob);
    } finally {
      bob.audit.append = append;
    }
    expect(received).toBeGreaterThanOrEqual(2); // the fault really fired
    expect(messagesWith(bob, A).filter((m) => ids.includes(m.originId ?? ''))).toEqual([]);
    expect(bob.store.getSetting<string>(MAM_LAST_SETTING)).toBe(pointerBefore);
    expect(bob.audit.verify()).toMatchObject({ ok: true, unaudited: { count: 0 } });

    await bob.restart();
    await settled(bob);
    const stored = await waitFor('all three', () => {
      const got = messagesWith(bob, A).filter((m) => ids.includes(m.originId ?? ''));
      return got.length === 3 && got;
    });
    expect(stored.every((m) => m.state === 'delivered')).toBe(true);
    const audited = auditTypes(bob).filter(
      (a) => a.type === 'message-received' && stored.some((m) => m.id === a.detail.messageId),
    );
    expect(audited).toHaveLength(3);
    expect(bob.audit.verify()).toMatchObject({ ok: true, unaudited: { count: 0 } });
  });

  it(`a page larger than one commit slice (${COMMIT_SLICE}) cut by a fault in its second slice: the first slice stays stored, the pointer stays, the next catch-up stores the rest once and in order (§11)`, async () => {
    const erin = await makeClient(server, E, 'erin-pw-1');
    try {
      await erin.messaging.stop();
      const pointerBefore = erin.store.getSetting<string>(MAM_LAST_SETTING) ?? null;
      const conv = alice.store.conversations.getOrCreate(E);
      const n = COMMIT_SLICE + 10;
      const sent = [];
      for (let i = 0; i < n; i++) sent.push(await alice.messaging.send(conv.id, `slice ${i}`));
      expect(await alice.outboxIdle()).toBe(true);
      const ids = sent.map((m) => m.originId ?? '');
      const mine = () => messagesWith(erin, A).filter((m) => ids.includes(m.originId ?? ''));

      const append = erin.audit.append.bind(erin.audit);
      let received = 0;
      erin.audit.append = (type, detail) => {
        if (type === 'message-received' && ++received === COMMIT_SLICE + 5)
          throw new Error('injected fault in the second slice');
        append(type, detail);
      };
      erin.events.length = 0;
      try {
        await erin.restart();
        await settled(erin);
      } finally {
        erin.audit.append = append;
      }
      expect(received).toBeGreaterThanOrEqual(COMMIT_SLICE + 5); // the fault really fired
      // The first slice committed with its audit entries; nothing of the failed slice; no pointer move.
      expect(mine().map((m) => m.originId)).toEqual(ids.slice(0, COMMIT_SLICE));
      expect(erin.store.getSetting<string>(MAM_LAST_SETTING) ?? null).toBe(pointerBefore);
      expect(erin.audit.verify()).toMatchObject({ ok: true, unaudited: { count: 0 } });
      // What was stored was announced, though the page as a whole failed.
      expect(erin.events.some((e) => e.name === 'conversation:updated')).toBe(true);

      await erin.restart();
      await settled(erin);
      const stored = await waitFor('all of them', () => mine().length === n && mine());
      // Once each, in the order written, each audited once.
      expect(stored.map((m) => m.originId)).toEqual(ids);
      expect(messagesWith(erin, A)).toHaveLength(n);
      const audited = auditTypes(erin).filter(
        (a) => a.type === 'message-received' && stored.some((m) => m.id === a.detail.messageId),
      );
      expect(audited).toHaveLength(n);
      expect(erin.audit.verify()).toMatchObject({ ok: true, unaudited: { count: 0 } });
    } finally {
      await erin.close();
    }
  });

  it('never moves the archive pointer past a message that failed for an internal reason: it is fetched and stored on the next catch-up (§11)', async () => {
    const inspect: MessagingInspect = {};
    const dave = await makeClient(server, D, 'dave-pw-1', { inspect });
    try {
      await dave.messaging.stop();
      const conv = alice.store.conversations.getOrCreate(D);
      const sent = [];
      for (let i = 0; i < 3; i++) sent.push(await alice.messaging.send(conv.id, `to dave ${i}`));
      expect(await alice.outboxIdle()).toBe(true);
      const ids = sent.map((m) => m.originId ?? '');
      const stored = () => ids.map((id) => messagesWith(dave, A).find((m) => m.originId === id));

      // Everything after the first message fails internally, in both catch-ups of the session.
      let calls = 0;
      inspect.beforeDecrypt = () => {
        if (++calls >= 2) throw new Error('injected: the decrypt pool died');
      };
      await dave.restart();
      await settled(dave);
      expect(calls).toBeGreaterThanOrEqual(3);
      const [first, second, third] = stored();
      expect(first?.state).toBe('delivered');
      // Not stored as "could not be verified": it was not the messages' fault.
      expect(second).toBeUndefined();
      expect(third).toBeUndefined();
      expect(auditTypes(dave).filter((a) => a.type === 'message-rejected')).toEqual([]);

      // Had the pointer moved past the second message, this catch-up would never see it again.
      inspect.beforeDecrypt = undefined;
      await dave.restart();
      await settled(dave);
      const after = stored();
      expect(after.map((m) => m?.state)).toEqual(['delivered', 'delivered', 'delivered']);
      expect(messagesWith(dave, A)).toHaveLength(3); // the third was not stored twice
      const audited = auditTypes(dave).filter((a) => a.type === 'message-received');
      expect(audited).toHaveLength(3);
      expect(dave.audit.verify()).toMatchObject({ ok: true, unaudited: { count: 0 } });
    } finally {
      await dave.close();
    }
  });
});
