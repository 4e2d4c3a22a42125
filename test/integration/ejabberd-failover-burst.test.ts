// Issue 19 item 3: during a 1,000-message burst between colleagues on different nodes of the
// 2-node ejabberd cluster (test/support/ejabberd-cluster.ts), one node is killed (kill -9). The
// sender's client moves to the surviving node by itself (its settings name both nodes,
// ServerConfig.alternates), and every message reaches the colleague exactly once: what was queued
// goes after the reconnect, and what the dead node had acknowledged (XEP-0198) without the
// colleague's receipt (XEP-0184) is sent again with the same origin-id (outbox-resend.ts), which
// the colleague stores once. Then the node is started again, rejoins the cluster, and the same
// holds the other way round when the other node is killed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../common/contract/domain';
import { ALICE, BOB, clusterOfAliceAndBob, type EjabberdCluster, type EjabberdNode } from '../support/ejabberd-cluster';
import { makeClient, messagesWith, recordingLogger, waitFor, type TestClient } from '../support/xmpp-support';

const A = ALICE.jid;
const B = BOB.jid;
const BURST = Number(process.env.XMPP_BURST ?? 1000);

describe(`a ${BURST}-message burst across the 2-node ejabberd cluster while a node is killed`, () => {
  let cluster: EjabberdCluster;
  const clients: TestClient[] = [];
  const logs = new Map<string, string[]>();

  beforeAll(async () => {
    cluster = await clusterOfAliceAndBob();
  }, 90_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await cluster?.stop();
  }, 60_000);

  /** A client on `home` with the other node as its alternate address. */
  const clientOn = async (home: EjabberdNode, other: EjabberdNode, jid: string, password: string) => {
    const lines: string[] = [];
    logs.set(jid, lines);
    const c = await makeClient(home, jid, password, {
      server: { port: home.c2sPort, alternates: [`127.0.0.1:${other.c2sPort}`] },
      logger: recordingLogger(lines),
    });
    clients.push(c);
    return c;
  };

  /**
   * `sender` writes BURST messages to `receiver`; once a third of them are acknowledged, `node`
   * (the sender's) is killed. Returns what was written, after checking exactly-once delivery.
   */
  async function burstThroughCrash(sender: TestClient, receiver: TestClient, node: EjabberdNode) {
    try {
      return await burst(sender, receiver, node);
    } catch (err) {
      for (const c of [sender, receiver]) {
        const states = c.store.messages
          .page(c.store.conversations.getOrCreate(c === sender ? receiver.jid : sender.jid).id, {
            before: null,
            limit: BURST + 10,
          })
          .items.reduce<Record<string, number>>(
            (acc, m) => ((acc[`${m.direction}:${m.state}`] = (acc[`${m.direction}:${m.state}`] ?? 0) + 1), acc),
            {},
          );
        console.log(
          `[burst] ${c.jid} ${JSON.stringify(c.messaging.connection())} rows ${JSON.stringify(states)} outbox ${c.store.outbox.all().length} log ${JSON.stringify((logs.get(c.jid) ?? []).slice(-15))}`,
        );
      }
      throw err;
    }
  }

  async function burst(sender: TestClient, receiver: TestClient, node: EjabberdNode) {
    const conv = sender.store.conversations.getOrCreate(receiver.jid).id;
    const sent: Message[] = [];
    for (let i = 0; i < BURST; i++) sent.push(await sender.messaging.send(conv, `burst ${i}`));
    const state = (m: Message) => sender.store.messages.get(m.id)?.state;
    await waitFor('a third acked', () => sent.filter((m) => state(m) !== 'queued').length >= BURST / 3, 120_000);
    await node.crash();
    const queuedAtCrash = sent.filter((m) => state(m) === 'queued').length;
    expect(queuedAtCrash).toBeGreaterThan(0); // the crash really cut the burst
    expect(await sender.outboxIdle(180_000)).toBe(true);
    const ids = new Set(sent.map((m) => m.originId));
    const got = () => messagesWith(receiver, sender.jid).filter((m) => ids.has(m.originId));
    await waitFor(`all ${BURST} at ${receiver.jid}`, () => got().length >= BURST, 180_000);
    await receiver.messaging.inspect.settled();
    const rows = got();
    expect(new Set(rows.map((m) => m.originId)).size).toBe(BURST);
    expect(rows).toHaveLength(BURST);
    expect(rows.every((m) => m.state === 'delivered' && m.body?.startsWith('burst '))).toBe(true);
    // Every one went out, and the colleague's receipts confirm them.
    await waitFor(
      'every receipt back',
      () => sent.every((m) => state(m) === 'delivered' || state(m) === 'read'),
      120_000,
    );
    return sent;
  }

  it('alice on node a writes to bob on node b; node a is killed mid-burst; she moves to node b and bob has each message once', async () => {
    const [a, b] = cluster.nodes;
    const alice = await clientOn(a, b, A, ALICE.password);
    const bob = await clientOn(b, a, B, BOB.password);
    // Both have each other's key before the burst.
    const hi = await alice.messaging.send(alice.store.conversations.getOrCreate(B).id, 'hello bob');
    await waitFor('bob gets alice', () => messagesWith(bob, A).find((m) => m.originId === hi.originId));
    const yo = await bob.messaging.send(bob.store.conversations.getOrCreate(A).id, 'hello alice');
    await waitFor('alice gets bob', () => messagesWith(alice, B).find((m) => m.originId === yo.originId));

    await burstThroughCrash(alice, bob, a);
    const sessions = await cluster.sessions(b);
    expect(sessions.filter((s) => s.jid.startsWith(`${A}/`)).map((s) => s.node)).toEqual([b.name]);
    await a.restart();
    expect((await cluster.members()).sort()).toEqual([a.name, b.name].sort());
  }, 600_000);

  it('and the other way: bob, now beside alice on node b, writes to her; node b is killed; both move to node a', async () => {
    const [a, b] = cluster.nodes;
    const alice = clients.find((c) => c.jid === A)!;
    const bob = clients.find((c) => c.jid === B)!;
    await burstThroughCrash(bob, alice, b);
    const sessions = await cluster.sessions(a);
    expect(sessions.filter((s) => s.jid.startsWith(`${B}/`)).map((s) => s.node)).toEqual([a.name]);
  }, 600_000);
});
