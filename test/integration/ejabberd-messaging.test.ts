// Issue 19 §1–2: the unchanged client against a single ejabberd node (Debian's 23.01), started from
// deploy/ejabberd/ejabberd.yml by test/support/ejabberd.ts. Two colleagues find each other in the
// directory (shared-roster role groups), exchange OX messages live, and one who was offline catches
// up from the archive — each message stored exactly once although ejabberd also floods the same
// messages from offline storage after the archive query (PROTOCOL.md "ejabberd").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../common/contract/domain';
import { startEjabberd, type EjabberdServer } from '../support/ejabberd';
import { makeClient, messagesWith, waitFor, type TestClient } from '../support/xmpp-support';

const A = 'alice@clinic.test';
const B = 'bob@clinic.test';

describe('the client against a single ejabberd node', () => {
  let server: EjabberdServer;
  const clients: TestClient[] = [];
  const track = (c: TestClient) => (clients.push(c), c);

  beforeAll(async () => {
    server = await startEjabberd({
      users: [
        { jid: A, password: 'alice-pw-1', name: 'Alice Archer', role: 'physician' },
        { jid: B, password: 'bob-pw-1', name: 'Bob Baker', role: 'nurse' },
      ],
    });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server?.stop();
  });

  it('signs in, finds the colleague in the directory with their role, and messages both ways', async () => {
    const alice = track(await makeClient(server, A, 'alice-pw-1'));
    const bob = track(await makeClient(server, B, 'bob-pw-1'));
    const bobInDirectory = await waitFor('alice sees bob in the directory', () =>
      alice.store.contacts.list().find((c) => c.jid === B),
    );
    expect(bobInDirectory).toMatchObject({ role: 'nurse', displayName: 'Bob Baker' });

    const out = await alice.messaging.send(alice.store.conversations.getOrCreate(B).id, 'hello over ejabberd');
    const got = await waitFor('bob receives it', () => messagesWith(bob, A).find((m) => m.originId === out.originId));
    expect(got).toMatchObject({ direction: 'in', state: 'delivered', body: 'hello over ejabberd' });
    const back = await bob.messaging.send(bob.store.conversations.getOrCreate(A).id, 'and back');
    await waitFor('alice receives the answer', () => messagesWith(alice, B).find((m) => m.originId === back.originId));
  });

  it('a colleague who was offline catches up each message exactly once, in order', async () => {
    const alice = clients.find((c) => c.jid === A)!;
    const bob = clients.find((c) => c.jid === B)!;
    await bob.messaging.stop();
    const conv = alice.store.conversations.getOrCreate(B).id;
    const sent: Message[] = [];
    for (let i = 0; i < 5; i++) sent.push(await alice.messaging.send(conv, `while you were away ${i}`));
    expect(await alice.outboxIdle(30_000)).toBe(true);
    await bob.restart();
    const ids = new Set(sent.map((m) => m.originId));
    await waitFor('bob has all five', () => messagesWith(bob, A).filter((m) => ids.has(m.originId)).length >= 5);
    await bob.messaging.inspect.settled();
    const rows = messagesWith(bob, A).filter((m) => ids.has(m.originId));
    expect(rows.map((m) => m.originId)).toEqual(sent.map((m) => m.originId));
    expect(rows.every((m) => m.state === 'delivered')).toBe(true);
  });
});
