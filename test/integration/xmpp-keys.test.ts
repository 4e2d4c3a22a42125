import { xml } from '@xmpp/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../main/log';
import { createConnection } from '../../main/xmpp/transport/connection';
import { CAPS_NODE, capsVer, NS_DISCO_INFO } from '../../main/xmpp/caps';
import { KEYS_LIST_NODE } from '../../main/xmpp/pep-keys';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { auditTypes, makeClient, messagesWith, waitFor, type TestClient } from '../support/xmpp-support';

const A = 'alice@clinic.test';
const B = 'bob@clinic.test';
const C = 'carol@clinic.test';
const D = 'dave@clinic.test';
const E = 'erin@clinic.test';
const F = 'frank@clinic.test';

describe('XEP-0373 keys and trust against real Prosody', () => {
  let server: ProsodyServer;
  let alice: TestClient;
  let bob: TestClient;
  const extra: TestClient[] = [];

  beforeAll(async () => {
    server = await startProsody({
      users: [
        { jid: A, password: 'alice-pw-1', name: 'Alice Archer', role: 'physician' },
        { jid: B, password: 'bob-pw-1', name: 'Bob Baker', role: 'nurse' },
        { jid: C, password: 'carol-pw-1', name: 'Carol Cook' },
        { jid: D, password: 'dave-pw-1', name: 'Dave Dunn' },
        { jid: E, password: 'erin-pw-1', name: 'Erin Eze' },
        { jid: F, password: 'frank-pw-1', name: 'Frank Fox' },
      ],
    });
    [alice, bob] = await Promise.all([makeClient(server, A, 'alice-pw-1'), makeClient(server, B, 'bob-pw-1')]);
  });
  afterAll(async () => {
    await Promise.all([alice, bob, ...extra].filter(Boolean).map((c) => c.close()));
    await server?.stop();
  });

  it('a message to a colleague without a published key waits, queued (issue 12 §3); the missing key is audited', async () => {
    const conv = alice.store.conversations.getOrCreate(C);
    const m = await alice.messaging.send(conv.id, 'hello');
    expect(m.state).toBe('queued');
    // Plaintext never: nothing went out, and it waits for Carol's key (xmpp-not-set-up.test.ts sends it).
    expect(messagesWith(alice, C).map((x) => x.state)).toEqual(['queued']);
    expect(alice.store.contacts.get(C)?.trust).toBe('unavailable');
    expect(alice.messaging.contact(C).keyStatus).toBe('none');
    expect(auditTypes(alice).some((a) => a.type === 'key-unavailable' && a.detail.jid === C)).toBe(true);
  });

  it('publishes with open access over a list node another client created with the default access model', async () => {
    // Another client created the list node with Prosody's default access model first.
    const raw = createConnection({
      jid: D,
      password: 'dave-pw-1',
      host: server.host,
      port: server.c2sPort,
      tls: 'starttls',
      caPems: [server.caPem],
      logger: silentLogger,
      onState: () => {},
      onStanza: () => {},
      onReady: () => {},
    });
    await raw.start();
    await raw.iq(
      xml(
        'iq',
        { type: 'set' },
        xml(
          'pubsub',
          { xmlns: 'http://jabber.org/protocol/pubsub' },
          xml(
            'publish',
            { node: KEYS_LIST_NODE },
            xml('item', { id: 'current' }, xml('public-keys-list', { xmlns: 'urn:xmpp:openpgp:0' })),
          ),
        ),
      ),
    );
    await raw.stop();
    const dave = await makeClient(server, D, 'dave-pw-1');
    extra.push(dave);
    expect(auditTypes(dave).some((a) => a.type === 'key-published')).toBe(true);
    const owner = createConnection({
      jid: D,
      password: 'dave-pw-1',
      host: server.host,
      port: server.c2sPort,
      tls: 'starttls',
      caPems: [server.caPem],
      resource: 'probe',
      logger: silentLogger,
      onState: () => {},
      onStanza: () => {},
      onReady: () => {},
    });
    await owner.start();
    const cfg = await owner.iq(
      xml(
        'iq',
        { type: 'get' },
        xml('pubsub', { xmlns: 'http://jabber.org/protocol/pubsub#owner' }, xml('configure', { node: KEYS_LIST_NODE })),
      ),
    );
    const fields = cfg.getChild('pubsub')?.getChild('configure')?.getChild('x')?.getChildren('field') ?? [];
    expect(fields.find((f) => f.attrs.var === 'pubsub#access_model')?.getChildText('value')).toBe('open');
    await owner.stop();
    const conv = alice.store.conversations.getOrCreate(D);
    await alice.messaging.send(conv.id, 'welcome');
    expect(alice.store.contacts.get(D)).toMatchObject({
      trust: 'pinned',
      fingerprint: dave.messaging.ownFingerprint(),
    });
    await waitFor('dave receives', () => messagesWith(dave, A).some((m) => m.body === 'welcome'));
  });

  it('a changed key blocks sending until a person acknowledges the new fingerprint', async () => {
    const conv = bob.store.conversations.getOrCreate(A);
    await bob.messaging.send(conv.id, 'first');
    const oldFpr = alice.messaging.ownFingerprint()!;
    expect(bob.store.contacts.get(A)?.fingerprint).toBe(oldFpr);
    // Alice reinstalls: a new profile (new key) for the same account, published over the old one.
    await alice.close();
    alice = await makeClient(server, A, 'alice-pw-1', { startOptions: { replaceAccountKey: true } });
    const newFpr = alice.messaging.ownFingerprint()!;
    expect(newFpr).not.toBe(oldFpr);
    // Her first message is signed by a key Bob has not accepted: stored unverified, and the change is noticed.
    const aconv = alice.store.conversations.getOrCreate(B);
    const m = await alice.messaging.send(aconv.id, 'new device');
    const got = await waitFor('bob gets it', () => messagesWith(bob, A).find((x) => x.originId === m.originId));
    expect(got).toMatchObject({ state: 'unverified', body: null });
    await waitFor('bob sees change', () => bob.store.contacts.get(A)?.trust === 'changed');
    expect(bob.store.contacts.get(A)).toMatchObject({ fingerprint: oldFpr, pendingFingerprint: newFpr });
    await expect(bob.messaging.send(conv.id, 'blocked')).rejects.toMatchObject({ code: 'KEY_CHANGED' });
    await expect(bob.messaging.acceptKeyChange(A, oldFpr)).rejects.toMatchObject({ code: 'CONFLICT' });
    const accepted = await bob.messaging.acceptKeyChange(A, newFpr);
    expect(accepted).toMatchObject({ trust: 'pinned', fingerprint: newFpr, pendingFingerprint: null });
    const after = await bob.messaging.send(conv.id, 'after accepting');
    await waitFor('alice gets it', () =>
      messagesWith(alice, B).some((x) => x.originId === after.originId && x.body === 'after accepting'),
    );
    const types = auditTypes(bob).map((a) => a.type);
    expect(types).toEqual(
      expect.arrayContaining(['key-pinned', 'key-changed', 'key-change-acknowledged', 'message-rejected']),
    );
  });

  it('notices a changed key live (PEP +notify), while connected and before any message from the new key', async () => {
    let erin = await makeClient(server, E, 'erin-pw-1');
    const frank = await makeClient(server, F, 'frank-pw-1');
    extra.push(frank);
    const conv = frank.store.conversations.getOrCreate(E);
    await frank.messaging.send(conv.id, 'before');
    const oldFpr = erin.messaging.ownFingerprint()!;
    expect(frank.store.contacts.get(E)).toMatchObject({ trust: 'pinned', fingerprint: oldFpr });
    // Erin reinstalls and publishes a new key. She sends nothing; Frank stays connected.
    await erin.close();
    erin = await makeClient(server, E, 'erin-pw-1', { startOptions: { replaceAccountKey: true } });
    extra.push(erin);
    const newFpr = erin.messaging.ownFingerprint()!;
    await waitFor(
      'frank notices the change without a message or a reconnect',
      () => frank.store.contacts.get(E)?.trust === 'changed',
      10_000,
    );
    expect(frank.store.contacts.get(E)).toMatchObject({ fingerprint: oldFpr, pendingFingerprint: newFpr });
    expect(messagesWith(frank, E).filter((m) => m.direction === 'in')).toEqual([]);
    await expect(frank.messaging.send(conv.id, 'blocked')).rejects.toMatchObject({ code: 'KEY_CHANGED' });
    expect(
      auditTypes(frank)
        .filter((a) => a.type === 'key-changed')
        .map((a) => a.detail),
    ).toEqual([{ jid: E, pinned: oldFpr, announced: newFpr }]);
  });

  it('answers disco#info for its capabilities with the +notify feature (XEP-0115)', async () => {
    const carol = await makeClient(server, C, 'carol-pw-1', { resource: 'desk-1' });
    extra.push(carol);
    const probe = createConnection({
      jid: D,
      password: 'dave-pw-1',
      host: server.host,
      port: server.c2sPort,
      tls: 'starttls',
      caPems: [server.caPem],
      logger: silentLogger,
      onState: () => {},
      onStanza: () => {},
      onReady: () => {},
    });
    await probe.start();
    try {
      const node = `${CAPS_NODE}#${capsVer()}`;
      const res = await probe.iq(
        xml('iq', { type: 'get', to: `${C}/desk-1` }, xml('query', { xmlns: NS_DISCO_INFO, node })),
      );
      const query = res.getChild('query', NS_DISCO_INFO)!;
      expect(query.attrs.node).toBe(node);
      expect(query.getChildren('feature').map((f) => f.attrs.var)).toContain('urn:xmpp:openpgp:0:public-keys+notify');
      expect(query.getChild('identity')?.attrs).toMatchObject({ category: 'client', type: 'pc' });
      await expect(
        probe.iq(
          xml('iq', { type: 'get', to: `${C}/desk-1` }, xml('query', { xmlns: NS_DISCO_INFO, node: 'other#node' })),
        ),
      ).rejects.toMatchObject({
        condition: 'item-not-found',
      });
    } finally {
      await probe.stop();
    }
  });
});
