// Issue 19 §2: the unchanged client against a 2-node ejabberd cluster (Debian's 23.01), started from
// deploy/ejabberd/ejabberd.yml by test/support/ejabberd-cluster.ts and joined with
// `ejabberdctl join_cluster`. The two colleagues are deliberately served by DIFFERENT nodes (each
// client is given one node's client port; the cluster's session list confirms which node serves
// whom): they find each other in the directory, exchange OX messages both ways, and one who was
// offline catches up on the OTHER node, each message exactly once and in order. Failover (issue 19
// item 3, first part): a client that reached node a through a TCP front door (the README's load
// balancer) loses it to kill -9 and carries on on node b, nothing lost or doubled; node a restarts
// into the cluster, and the same holds the other way round when node b is killed. Then without the
// front door: a client given node b's address and node a's as its alternate (ServerConfig.alternates)
// moves to node a by itself when node b is killed, again nothing lost or doubled.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../common/contract/domain';
import {
  ALICE,
  BOB,
  startEjabberdCluster,
  startFrontDoor,
  type EjabberdCluster,
  type EjabberdNode,
  type FrontDoor,
} from '../support/ejabberd-cluster';
import { inWrittenOrder, makeClient, messagesWith, waitFor, type TestClient } from '../support/xmpp-support';

const A = ALICE.jid;
const B = BOB.jid;
const C = 'carol@clinic.test';
const D = 'dave@clinic.test';

describe('the client against a 2-node ejabberd cluster, colleagues on different nodes', () => {
  let cluster: EjabberdCluster;
  const clients: TestClient[] = [];
  const track = (c: TestClient) => (clients.push(c), c);
  let door: FrontDoor | undefined;
  const nodeOf = async (bare: string, via?: EjabberdNode) => {
    const sessions = await cluster.sessions(via);
    return sessions.filter((s) => s.jid.startsWith(`${bare}/`)).map((s) => s.node);
  };
  /**
   * Kills `node` (kill -9: a crash, not a shutdown), runs `body`, and starts the node again as a
   * member of the cluster whatever `body` did, so a failure here is this test's alone and the next
   * test still finds both nodes.
   */
  const whileDown = async (node: EjabberdNode, body: () => Promise<void>) => {
    await node.crash();
    let ok = false;
    try {
      await body();
      ok = true;
    } finally {
      const back = node.restart();
      // After a failed body its own error is the one to report; the next test then fails on the members.
      await (ok ? back : back.catch(() => undefined));
    }
    expect((await cluster.members()).sort()).toEqual(cluster.nodes.map((n) => n.name).sort());
  };

  beforeAll(async () => {
    cluster = await startEjabberdCluster({
      users: [
        ALICE,
        BOB,
        { jid: C, password: 'carol-pw-1', name: 'Carol Cole', role: 'reception' },
        { jid: D, password: 'dave-pw-1', name: 'Dave Dunn', role: 'nurse' },
      ],
    });
  }, 90_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await door?.close();
    await cluster?.stop();
  });

  it('is one cluster of two nodes', async () => {
    const [a, b] = cluster.nodes;
    expect(a.name).not.toBe(b.name);
    expect(a.c2sPort).not.toBe(b.c2sPort);
    expect((await cluster.members()).sort()).toEqual([a.name, b.name].sort());
  });

  it('alice on node a and bob on node b find each other and message both ways', async () => {
    const [a, b] = cluster.nodes;
    const alice = track(await makeClient(a, A, ALICE.password));
    const bob = track(await makeClient(b, B, BOB.password));
    expect(await nodeOf(A)).toEqual([a.name]);
    expect(await nodeOf(B)).toEqual([b.name]);

    const bobInDirectory = await waitFor('alice sees bob in the directory', () =>
      alice.store.contacts.list().find((c) => c.jid === B),
    );
    expect(bobInDirectory).toMatchObject({ role: 'nurse', displayName: 'Bob Baker' });
    const aliceInDirectory = await waitFor('bob sees alice in the directory', () =>
      bob.store.contacts.list().find((c) => c.jid === A),
    );
    expect(aliceInDirectory).toMatchObject({ role: 'physician', displayName: 'Alice Archer' });

    const out = await alice.messaging.send(alice.store.conversations.getOrCreate(B).id, 'hello across the cluster');
    const got = await waitFor('bob receives it', () => messagesWith(bob, A).find((m) => m.originId === out.originId));
    expect(got).toMatchObject({ direction: 'in', state: 'delivered', body: 'hello across the cluster' });
    const back = await bob.messaging.send(bob.store.conversations.getOrCreate(A).id, 'and back from node b');
    const answer = await waitFor('alice receives the answer', () =>
      messagesWith(alice, B).find((m) => m.originId === back.originId),
    );
    expect(answer).toMatchObject({ direction: 'in', state: 'delivered', body: 'and back from node b' });
  });

  it('bob, offline while alice writes on node a, catches up on node b exactly once, in order', async () => {
    const alice = clients.find((c) => c.jid === A)!;
    const bob = clients.find((c) => c.jid === B)!;
    await bob.messaging.stop();
    const conv = alice.store.conversations.getOrCreate(B).id;
    const sent: Message[] = [];
    for (let i = 0; i < 5; i++) sent.push(await alice.messaging.send(conv, `while you were away ${i}`));
    expect(await alice.outboxIdle(30_000)).toBe(true);
    await bob.restart();
    expect(await nodeOf(B)).toEqual([cluster.nodes[1].name]);
    const ids = new Set(sent.map((m) => m.originId));
    await waitFor('bob has all five', () => messagesWith(bob, A).filter((m) => ids.has(m.originId)).length >= 5);
    await bob.messaging.inspect.settled();
    const rows = messagesWith(bob, A).filter((m) => ids.has(m.originId));
    expect(rows.map((m) => m.originId)).toEqual(sent.map((m) => m.originId));
    expect(rows.every((m) => m.state === 'delivered')).toBe(true);
  });

  it('alice, offline while bob writes on node b, catches up on node a exactly once, in order', async () => {
    const alice = clients.find((c) => c.jid === A)!;
    const bob = clients.find((c) => c.jid === B)!;
    await alice.messaging.stop();
    const conv = bob.store.conversations.getOrCreate(A).id;
    const sent: Message[] = [];
    for (let i = 0; i < 5; i++) sent.push(await bob.messaging.send(conv, `from node b ${i}`));
    expect(await bob.outboxIdle(30_000)).toBe(true);
    await alice.restart();
    expect(await nodeOf(A)).toEqual([cluster.nodes[0].name]);
    const ids = new Set(sent.map((m) => m.originId));
    await waitFor('alice has all five', () => messagesWith(alice, B).filter((m) => ids.has(m.originId)).length >= 5);
    await alice.messaging.inspect.settled();
    const rows = messagesWith(alice, B).filter((m) => ids.has(m.originId));
    expect(rows.map((m) => m.originId)).toEqual(sent.map((m) => m.originId));
    expect(rows.every((m) => m.state === 'delivered')).toBe(true);
    // Nothing doubled across the whole conversation either (live, archive and offline flood).
    const all = messagesWith(alice, B).map((m) => m.originId);
    expect(new Set(all).size).toBe(all.length);
  });

  it('failover: when her node is killed, carol reconnects through the front door to the other node; nothing lost or doubled', async () => {
    const [a, b] = cluster.nodes;
    const alice = clients.find((c) => c.jid === A)!;
    const bob = clients.find((c) => c.jid === B)!;
    await alice.messaging.stop(); // alice is on node a too, given its port only: not part of this
    const front = await startFrontDoor([a, b]);
    door = front;
    const carol = track(await makeClient(front, C, 'carol-pw-1'));
    expect(await nodeOf(C)).toEqual([a.name]);
    // Both have each other's key before the outage.
    const hi = await carol.messaging.send(carol.store.conversations.getOrCreate(B).id, 'hello bob');
    await waitFor('bob gets carol', () => messagesWith(bob, C).find((m) => m.originId === hi.originId));
    const yo = await bob.messaging.send(bob.store.conversations.getOrCreate(C).id, 'hello carol');
    await waitFor('carol gets bob', () => messagesWith(carol, B).find((m) => m.originId === yo.originId));

    await whileDown(a, async () => {
      // While carol's connection is gone (or coming back on node b), both write.
      const fromBob: Message[] = [];
      const fromCarol: Message[] = [];
      for (let i = 0; i < 5; i++) {
        fromBob.push(await bob.messaging.send(bob.store.conversations.getOrCreate(C).id, `node a is down ${i}`));
        fromCarol.push(await carol.messaging.send(carol.store.conversations.getOrCreate(B).id, `still here ${i}`));
      }
      const bobIds = new Set(fromBob.map((m) => m.originId));
      const carolIds = new Set(fromCarol.map((m) => m.originId));
      await waitFor(
        "carol has bob's five",
        () => messagesWith(carol, B).filter((m) => bobIds.has(m.originId)).length >= 5,
        60_000,
      );
      await waitFor(
        "bob has carol's five",
        () => messagesWith(bob, C).filter((m) => carolIds.has(m.originId)).length >= 5,
        60_000,
      );
      expect(await carol.outboxIdle(30_000)).toBe(true);
      expect(await nodeOf(C, b)).toEqual([b.name]);
      expect(front.forwarded().get(b.c2sPort) ?? 0).toBeGreaterThanOrEqual(1);
      await carol.messaging.inspect.settled();
      await bob.messaging.inspect.settled();

      const atCarol = messagesWith(carol, B);
      expect(inWrittenOrder("bob's at carol", atCarol, fromBob)).toEqual(fromBob.map((m) => m.originId));
      expect(new Set(atCarol.map((m) => m.originId)).size).toBe(atCarol.length);
      const atBob = messagesWith(bob, C);
      expect(inWrittenOrder("carol's at bob", atBob, fromCarol)).toEqual(fromCarol.map((m) => m.originId));
      expect(new Set(atBob.map((m) => m.originId)).size).toBe(atBob.length);
      const received = [...atCarol, ...atBob].filter((m) => m.direction === 'in');
      expect(received.length).toBe(atCarol.length + atBob.length - received.length);
      expect(received.every((m) => m.state === 'delivered')).toBe(true);
    }); // the killed node comes back as a member of the same cluster
  }, 120_000);

  it('and back: node a, rejoined, takes carol over when node b is killed; nothing lost or doubled', async () => {
    const [a, b] = cluster.nodes;
    const alice = clients.find((c) => c.jid === A)!;
    const carol = clients.find((c) => c.jid === C)!;
    expect(await nodeOf(C, b)).toEqual([b.name]);
    await alice.restart(); // on node a, restarted and rejoined in the test above
    expect(await nodeOf(A, a)).toEqual([a.name]);
    const hi = await alice.messaging.send(alice.store.conversations.getOrCreate(C).id, 'hello carol');
    await waitFor('carol gets alice', () => messagesWith(carol, A).find((m) => m.originId === hi.originId));
    const yo = await carol.messaging.send(carol.store.conversations.getOrCreate(A).id, 'hello alice');
    await waitFor('alice gets carol', () => messagesWith(alice, C).find((m) => m.originId === yo.originId));

    await whileDown(b, async () => {
      const fromAlice: Message[] = [];
      const fromCarol: Message[] = [];
      for (let i = 0; i < 5; i++) {
        fromAlice.push(await alice.messaging.send(alice.store.conversations.getOrCreate(C).id, `node b is down ${i}`));
        fromCarol.push(await carol.messaging.send(carol.store.conversations.getOrCreate(A).id, `back on a ${i}`));
      }
      const aliceIds = new Set(fromAlice.map((m) => m.originId));
      const carolIds = new Set(fromCarol.map((m) => m.originId));
      await waitFor(
        "carol has alice's five",
        () => messagesWith(carol, A).filter((m) => aliceIds.has(m.originId)).length >= 5,
        60_000,
      );
      await waitFor(
        "alice has carol's five",
        () => messagesWith(alice, C).filter((m) => carolIds.has(m.originId)).length >= 5,
        60_000,
      );
      expect(await carol.outboxIdle(30_000)).toBe(true);
      expect(await nodeOf(C, a)).toEqual([a.name]);
      await carol.messaging.inspect.settled();
      await alice.messaging.inspect.settled();

      const atCarol = messagesWith(carol, A);
      expect(inWrittenOrder("alice's at carol", atCarol, fromAlice)).toEqual(fromAlice.map((m) => m.originId));
      expect(new Set(atCarol.map((m) => m.originId)).size).toBe(atCarol.length);
      const atAlice = messagesWith(alice, C);
      expect(inWrittenOrder("carol's at alice", atAlice, fromCarol)).toEqual(fromCarol.map((m) => m.originId));
      expect(new Set(atAlice.map((m) => m.originId)).size).toBe(atAlice.length);
      expect([...atCarol, ...atAlice].filter((m) => m.direction === 'in').every((m) => m.state === 'delivered')).toBe(
        true,
      );
    });
  }, 120_000);
  it('with both nodes’ addresses in its settings (no front door), dave moves to node a when node b is killed', async () => {
    const [a, b] = cluster.nodes;
    const carol = clients.find((c) => c.jid === C)!; // on node a since the test above
    expect((await cluster.members()).sort()).toEqual([a.name, b.name].sort()); // b is back since the test above
    const dave = track(
      await makeClient(b, D, 'dave-pw-1', { server: { port: b.c2sPort, alternates: [`127.0.0.1:${a.c2sPort}`] } }),
    );
    expect(await nodeOf(D, b)).toEqual([b.name]);
    const hi = await dave.messaging.send(dave.store.conversations.getOrCreate(C).id, 'hello carol');
    await waitFor('carol gets dave', () => messagesWith(carol, D).find((m) => m.originId === hi.originId));
    const yo = await carol.messaging.send(carol.store.conversations.getOrCreate(D).id, 'hello dave');
    await waitFor('dave gets carol', () => messagesWith(dave, C).find((m) => m.originId === yo.originId));

    await b.crash();
    const fromCarol: Message[] = [];
    const fromDave: Message[] = [];
    for (let i = 0; i < 5; i++) {
      fromCarol.push(await carol.messaging.send(carol.store.conversations.getOrCreate(D).id, `node b is gone ${i}`));
      fromDave.push(await dave.messaging.send(dave.store.conversations.getOrCreate(C).id, `on the next address ${i}`));
    }
    const carolIds = fromCarol.map((m) => m.originId);
    const daveIds = fromDave.map((m) => m.originId);
    await waitFor(
      "dave has carol's five",
      () => messagesWith(dave, C).filter((m) => carolIds.includes(m.originId)).length >= 5,
      60_000,
    );
    await waitFor(
      "carol has dave's five",
      () => messagesWith(carol, D).filter((m) => daveIds.includes(m.originId)).length >= 5,
      60_000,
    );
    expect(await dave.outboxIdle(30_000)).toBe(true);
    expect(await nodeOf(D, a)).toEqual([a.name]);
    await dave.messaging.inspect.settled();
    await carol.messaging.inspect.settled();
    const atDave = messagesWith(dave, C);
    const atCarol = messagesWith(carol, D);
    expect(inWrittenOrder("carol's at dave", atDave, fromCarol)).toEqual(carolIds);
    expect(inWrittenOrder("dave's at carol", atCarol, fromDave)).toEqual(daveIds);
    for (const list of [atDave, atCarol]) expect(new Set(list.map((m) => m.originId)).size).toBe(list.length);
    expect([...atDave, ...atCarol].filter((m) => m.direction === 'in').every((m) => m.state === 'delivered')).toBe(
      true,
    );
  }, 180_000);
});
