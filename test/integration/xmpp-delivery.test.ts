import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../common/contract/domain';
import type { DecryptJob } from '../../main/crypto/pool';
import { NS_DISCO_INFO } from '../../main/xmpp/disco';
import { offlineInfoQuery } from '../../main/xmpp/offline-storage';
import { IDENTITY_SETTING } from '../../main/xmpp/account-key';
import { serverKind, startTestServer, type TestServer } from '../support/test-server';
import { makeClient, messagesWith, rawConnection, waitFor, type TestClient } from '../support/xmpp-support';

const A = 'alice@clinic.test';
const B = 'bob@clinic.test';
const C = 'carol@clinic.test';
const D = 'dave@clinic.test';
const E = 'erin@clinic.test';
const F = 'frank@clinic.test';
const G = 'grace@clinic.test';
const H = 'heidi@clinic.test';
const I = 'ivan@clinic.test';
const J = 'judy@clinic.test';
const BURST = Number(process.env.XMPP_BURST ?? 1000);

describe(`delivery guarantees over ${serverKind()}`, () => {
  let server: TestServer;
  const clients: TestClient[] = [];
  const track = (c: TestClient) => (clients.push(c), c);

  beforeAll(async () => {
    server = await startTestServer({
      users: [
        { jid: A, password: 'alice-pw-1', name: 'Alice Archer', role: 'physician' },
        { jid: B, password: 'bob-pw-1', name: 'Bob Baker', role: 'nurse' },
        { jid: C, password: 'carol-pw-1', name: 'Carol Cook' },
        { jid: D, password: 'dave-pw-1', name: 'Dave Dunn' },
        { jid: E, password: 'erin-pw-1', name: 'Erin Ellis' },
        { jid: F, password: 'frank-pw-1', name: 'Frank Ford' },
        { jid: G, password: 'grace-pw-1', name: 'Grace Gray' },
        { jid: H, password: 'heidi-pw-1', name: 'Heidi Hart' },
        { jid: I, password: 'ivan-pw-1', name: 'Ivan Irons' },
        { jid: J, password: 'judy-pw-1', name: 'Judy Jones' },
      ],
    });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server?.stop();
  });

  /** A second device of the same account: same OpenPGP key (restored from backup), own store. */
  async function secondDevice(first: TestClient, password: string, resource: string) {
    const dev = track(await makeClient(server, first.jid, password, { start: false, resource }));
    dev.store.setSetting(IDENTITY_SETTING, first.store.getSetting(IDENTITY_SETTING));
    await dev.messaging.start({ firstRun: true });
    return dev;
  }

  it('two devices of one user: carbons of sent and received messages, and the archive on a late device', async () => {
    const alice1 = track(await makeClient(server, A, 'alice-pw-1', { resource: 'desk-1' }));
    const bob = track(await makeClient(server, B, 'bob-pw-1'));
    const alice2 = await secondDevice(alice1, 'alice-pw-1', 'desk-2');

    const out = await alice1.messaging.send(alice1.store.conversations.getOrCreate(B).id, 'sent from desk 1');
    const copy = await waitFor('desk 2 gets the sent carbon', () =>
      messagesWith(alice2, B).find((m) => m.originId === out.originId),
    );
    expect(copy).toMatchObject({ direction: 'out', body: 'sent from desk 1' });

    const reply = await bob.messaging.send(bob.store.conversations.getOrCreate(A).id, 'reply to both desks');
    for (const dev of [alice1, alice2]) {
      const got = await waitFor('both desks get the reply', () =>
        messagesWith(dev, B).find((m) => m.originId === reply.originId),
      );
      expect(got).toMatchObject({ direction: 'in', body: 'reply to both desks' });
    }

    const alice3 = await secondDevice(alice1, 'alice-pw-1', 'desk-3');
    await alice3.messaging.inspect.settled();
    expect(
      alice3.events.some(
        (e) => e.name === 'sync:progress' && (e.payload as { finished: boolean; done: number }).finished,
      ),
    ).toBe(true);
    const history = messagesWith(alice3, B);
    expect(history.map((m) => [m.direction, m.body])).toEqual([
      ['out', 'sent from desk 1'],
      ['in', 'reply to both desks'],
    ]);
  });

  it('a message written while signed out stays queued and is sent after the app restarts', async () => {
    const alice = clients.find((c) => c.jid === A) ?? track(await makeClient(server, A, 'alice-pw-1'));
    const bob = clients.find((c) => c.jid === B) ?? track(await makeClient(server, B, 'bob-pw-1'));
    await alice.messaging.stop();
    const m = await alice.messaging.send(alice.store.conversations.getOrCreate(B).id, 'written offline');
    expect(m.state).toBe('queued');
    expect(alice.store.outbox.all().map((o) => o.messageId)).toContain(m.id);
    await alice.restart();
    await waitFor('sent after restart', () => alice.store.messages.get(m.id)?.state !== 'queued');
    await waitFor('bob gets it', () => messagesWith(bob, A).some((x) => x.originId === m.originId));
    await new Promise((r) => setTimeout(r, 500));
    const got = messagesWith(bob, A).filter((x) => x.originId === m.originId);
    expect(got).toHaveLength(1);
    expect(got[0]!.body).toBe('written offline');
  });

  it('a message that reached the colleague through the archive is marked delivered at its sender, once', async () => {
    const alice = clients.find((c) => c.jid === A) ?? track(await makeClient(server, A, 'alice-pw-1'));
    const bob = clients.find((c) => c.jid === B) ?? track(await makeClient(server, B, 'bob-pw-1'));
    await bob.messaging.stop();
    const m = await alice.messaging.send(alice.store.conversations.getOrCreate(B).id, 'written while Bob was away');
    expect(await alice.outboxIdle()).toBe(true);
    expect(alice.store.messages.get(m.id)?.state).toBe('sent');
    await bob.restart();
    await bob.messaging.inspect.settled();
    expect(
      messagesWith(bob, A)
        .filter((x) => x.originId === m.originId)
        .map((x) => x.state),
    ).toEqual(['delivered']);
    await waitFor('delivered at alice', () => alice.store.messages.get(m.id)?.state === 'delivered');
    // Another restart stores it no second time.
    await bob.restart();
    await bob.messaging.inspect.settled();
    expect(messagesWith(bob, A).filter((x) => x.originId === m.originId)).toHaveLength(1);
  });

  it('a colleague who catches up on many messages acknowledges them at once: each is marked delivered at its sender once, its conversation announced per batch of receipts', async () => {
    const alice = clients.find((c) => c.jid === A) ?? track(await makeClient(server, A, 'alice-pw-1'));
    const grace = track(await makeClient(server, G, 'grace-pw-1'));
    await grace.messaging.stop();
    const conv = alice.store.conversations.getOrCreate(G);
    const sent: Message[] = [];
    for (let i = 0; i < 120; i++) sent.push(await alice.messaging.send(conv.id, `written while Grace was away ${i}`));
    expect(await alice.outboxIdle()).toBe(true);
    const ids = new Set(sent.map((m) => m.id));
    const from = alice.events.length;
    await grace.restart();
    await grace.messaging.inspect.settled();
    await waitFor('all delivered at alice', () =>
      sent.every((m) => alice.store.messages.get(m.id)?.state === 'delivered'),
    );
    const events = alice.events.slice(from);
    const delivered = events.flatMap((e) => {
      const p = e.payload as Message;
      return e.name === 'message:updated' && ids.has(p.id) && p.state === 'delivered' ? [p.id] : [];
    });
    // Each message heard of once as delivered: no receipt lost, none applied twice.
    expect(delivered.sort()).toEqual([...ids].sort());
    // The conversation list is told per batch of receipts, not once per receipt.
    const listed = events.filter(
      (e) => e.name === 'conversation:updated' && (e.payload as { id: string }).id === conv.id,
    );
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.length).toBeLessThan(sent.length);
  });

  // Issue 13 item 4: a sign-in's presence goes out once the catch-up has its first page, so a new
  // message comes live during the catch-up, decrypted ahead of its work, instead of waiting in
  // offline storage until it ends. The offline flood stays held back (ejabberd: XEP-0013), so
  // nothing is decrypted twice. Here the catch-up's decryptions are held until the live one is in.
  it("a colleague's message during a sign-in's catch-up arrives live, before the catch-up ends", async () => {
    const decrypted = new Map<string, number>();
    let holding = false;
    let heldJobs = 0;
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const inspect = {
      beforeDecrypt: (job: DecryptJob): Promise<void> | undefined => {
        decrypted.set(job.base64, (decrypted.get(job.base64) ?? 0) + 1);
        if (!holding || job.live) return undefined;
        heldJobs += 1;
        return held;
      },
    };
    const heidi = track(await makeClient(server, H, 'heidi-pw-1'));
    const ivan = track(await makeClient(server, I, 'ivan-pw-1', { inspect }));
    const judy = track(await makeClient(server, J, 'judy-pw-1'));
    await ivan.messaging.stop();
    const toIvan = heidi.store.conversations.getOrCreate(I).id;
    const written: Message[] = [];
    for (let i = 0; i < 300; i++) written.push(await heidi.messaging.send(toIvan, `while Ivan was away ${i}`));
    expect(await heidi.outboxIdle()).toBe(true);
    decrypted.clear();
    holding = true;
    const notes = () => ivan.events.filter((e) => e.name === 'notification:shown').length;
    const restarted = ivan.restart();
    try {
      await waitFor("Ivan's catch-up under way", () => heldJobs > 0);
      await waitFor('Ivan available to Judy during his catch-up', () => judy.messaging.presenceOf(I) === 'available');
      const live = await judy.messaging.send(judy.store.conversations.getOrCreate(I).id, 'during the catch-up');
      const got = await waitFor("Judy's message stored at Ivan", () =>
        messagesWith(ivan, J).find((m) => m.originId === live.originId),
      );
      expect(got).toMatchObject({ direction: 'in', state: 'delivered', body: 'during the catch-up' });
      // Nothing of the catch-up was stored yet: the live message did not wait behind it.
      expect(messagesWith(ivan, H)).toHaveLength(0);
      await waitFor('notified', () => notes() > 0);
    } finally {
      holding = false;
      release();
    }
    await restarted;
    await ivan.messaging.inspect.settled();
    const origin = written.map((m) => m.originId);
    const all = await waitFor('all caught up', () => {
      const rows = messagesWith(ivan, H);
      return rows.length >= written.length ? rows : null;
    });
    // Exactly once, in the order written; Judy's message once; one notification (the live one).
    expect(all.map((m) => m.originId)).toEqual(origin);
    expect(all.every((m) => m.state === 'delivered')).toBe(true);
    expect(messagesWith(ivan, J)).toHaveLength(1);
    expect(notes()).toBe(1);
    // No copy was decrypted twice: neither an offline flood beside the archive nor a live copy
    // beside its archived one.
    expect(decrypted.size).toBe(written.length + 1);
    expect([...decrypted.values()].every((n) => n === 1)).toBe(true);
    if (serverKind() !== 'prosody') {
      // ejabberd: what its offline storage held was fetched and purged, as the flood would have left it.
      const raw = rawConnection(server, I, 'ivan-pw-1', 'offline-count');
      await raw.start();
      try {
        const res = await raw.iq(offlineInfoQuery(I));
        const fields = res.getChild('query', NS_DISCO_INFO)?.getChild('x', 'jabber:x:data')?.getChildren('field');
        expect(fields?.find((f) => f.attrs.var === 'number_of_messages')?.getChildText('value')).toBe('0');
      } finally {
        await raw.stop();
      }
    }
  }, 120_000);

  it("a conversation's messages reach the colleague in the order they were written when the outbox seals many at once", async () => {
    const alice = clients.find((c) => c.jid === A) ?? track(await makeClient(server, A, 'alice-pw-1'));
    const bob = clients.find((c) => c.jid === B) ?? track(await makeClient(server, B, 'bob-pw-1'));
    await alice.messaging.stop();
    const conv = alice.store.conversations.getOrCreate(B).id;
    // Queued while signed out, so the restart's outbox pass signcrypts them concurrently (long and
    // short ones); whichever is sealed first must still wait for the ones written before it.
    const long = Array.from({ length: 12_000 }, (_, i) => `w${(i * 7919) % 10_007}`).join(' ');
    const written: Message[] = [];
    for (let i = 0; i < 100; i++) written.push(await alice.messaging.send(conv, i % 10 === 0 ? long : `short ${i}`));
    await alice.restart();
    const origin = new Set(written.map((m) => m.originId));
    const got = await waitFor('bob has them all', () => {
      const rows = messagesWith(bob, A).filter((m) => origin.has(m.originId));
      return rows.length === written.length ? rows : null;
    });
    // Bob's row ids are his arrival order (the live copies; receivers order by receipt).
    const arrival = [...got].sort((x, y) => Number(x.id) - Number(y.id)).map((m) => m.originId);
    expect(arrival).toEqual(written.map((m) => m.originId));
  });

  // On every server of the matrix. The 2-node ejabberd cluster (restarted as a whole: both nodes
  // stop gracefully, test-server.ts) acknowledges some messages (XEP-0198) while stopping and then
  // loses them: in a failing run (2026-12-02) 53 messages that the sender's stream had acked, all in
  // the sender's archive, reached neither the receiver's archive nor a restarted receiver, so no
  // client-side catch-up can find them (deploy/ejabberd/README.md). The sender therefore sends again
  // what the server acknowledged lately and no receipt confirms (main/xmpp/outbox-resend.ts). A node
  // killed mid-burst on the cluster is ejabberd-failover-burst.test.ts.
  it(`the server restarted in the middle of a ${BURST}-message burst: every message arrives exactly once`, async () => {
    const sender = track(await makeClient(server, C, 'carol-pw-1'));
    const receiver = track(await makeClient(server, D, 'dave-pw-1'));
    const conv = sender.store.conversations.getOrCreate(D);
    const before = messagesWith(receiver, C).length;
    const sent: Message[] = [];
    for (let i = 0; i < BURST; i++) sent.push(await sender.messaging.send(conv.id, `burst ${i}`));
    await waitFor(
      'a third acked',
      () => sent.filter((m) => sender.store.messages.get(m.id)?.state !== 'queued').length >= BURST / 3,
      60_000,
    );
    const queuedAtRestart = sent.filter((m) => sender.store.messages.get(m.id)?.state === 'queued').length;
    await server.restart();
    expect(queuedAtRestart).toBeGreaterThan(0); // the restart really cut the burst
    expect(await sender.outboxIdle(120_000)).toBe(true);
    const ids = new Set(sent.map((m) => m.originId));
    const got = await waitFor(
      'all burst messages at bob',
      () => {
        const rows = messagesWith(receiver, C).filter((m) => ids.has(m.originId));
        return rows.length >= BURST ? rows : null;
      },
      120_000,
    );
    await new Promise((r) => setTimeout(r, 1_500)); // late offline / archive copies had their chance
    const final = messagesWith(receiver, C).filter((m) => ids.has(m.originId));
    expect(got.length).toBe(BURST);
    expect(final.length).toBe(BURST);
    expect(new Set(final.map((m) => m.originId)).size).toBe(BURST);
    const states = (xs: { state: string }[]) =>
      xs.reduce<Record<string, number>>((acc, m) => ((acc[m.state] = (acc[m.state] ?? 0) + 1), acc), {});
    expect(states(final)).not.toHaveProperty('unverified');
    expect(final.every((m) => m.state !== 'unverified' && m.body?.startsWith('burst '))).toBe(true);
    expect(messagesWith(receiver, C).length).toBe(before + BURST);
    expect(sent.every((m) => ['sent', 'delivered', 'read'].includes(sender.store.messages.get(m.id)!.state))).toBe(
      true,
    );
  }, 240_000);

  // A fresh session catches up a second time after its presence (session-setup.ts), and a dropped
  // stream catches up again: the archive can store a message whose live copy is still being
  // decrypted. It arrived live, so it notifies, once, whichever path stored it first (a clean-clone
  // CI run on 2026-12-03 missed such a notification after an unlock).
  it('a live message the archive stored first, while its live copy was decrypting, notifies exactly once', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    let armed = false;
    let holding = false;
    const inspect = {
      // Holds the first decryption once armed (the live copy); the archive's copy decrypts at once.
      beforeDecrypt: (): Promise<void> | undefined => {
        if (!armed || holding) return undefined;
        holding = true;
        return held;
      },
    };
    const erin = track(await makeClient(server, E, 'erin-pw-1'));
    const frank = track(await makeClient(server, F, 'frank-pw-1', { inspect }));
    await waitFor('frank available to erin', () => erin.messaging.presenceOf(F) === 'available');
    // Frank's sign-in is done: its second catch-up cannot fetch the message below and be held instead.
    await frank.messaging.inspect.settled();
    armed = true;
    const notes = () => frank.events.filter((e) => e.name === 'notification:shown').length;
    const storedAtFrank = (originId: string | null) => {
      const c = frank.store.conversations.byPeer(E);
      return c && originId ? frank.store.messages.findByOriginId(c.id, originId) : undefined;
    };
    try {
      const to = erin.store.conversations.getOrCreate(F).id;
      const m = await erin.messaging.send(to, 'stored by the archive first');
      await waitFor('the live copy decrypting', () => holding);
      // The stream drops; the fresh session's catch-up stores the message from the archive.
      await server.restart();
      expect(await waitFor('stored from the archive', () => storedAtFrank(m.originId))).toMatchObject({
        state: 'delivered',
        body: 'stored by the archive first',
      });
      expect(notes()).toBe(0); // catch-up alone does not notify
      release(); // the live copy finishes: already stored, it is announced now
      await waitFor('notified', () => notes() > 0);
      // The next message comes live as usual: one notification each, none doubled.
      const n = await erin.messaging.send(to, 'after the drop');
      await waitFor('next stored', () => storedAtFrank(n.originId));
      await waitFor('next notified', () => notes() >= 2);
      expect(notes()).toBe(2);
    } finally {
      release();
    }
  }, 120_000);
});
