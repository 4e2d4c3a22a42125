import { randomUUID } from 'node:crypto';
import { xml, type XmlElement } from '@xmpp/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityAsContact, loadIdentity, type Identity } from '../../main/crypto';
import { systemClock } from '../../main/clock';
import type { XmppConnection } from '../../main/xmpp/transport/connection';
import { IDENTITY_SETTING } from '../../main/xmpp/account-key';
import { oxMessage } from '../../main/xmpp/stanzas';
import { craft, makeParty, signcryptXml, stamp, type Party } from '../support/crypto-fixtures';
import { startTestServer, type TestServer } from '../support/test-server';
import { auditTypes, makeClient, messagesWith, rawConnection, waitFor, type TestClient } from '../support/xmpp-support';

const B = 'bob@clinic.test';
const M = 'mallory@clinic.test';
const C = 'carol@clinic.test';
/** The clients under test run on the system clock; hand-crafted messages are signed by the same one. */
const now = () => new Date(systemClock.now());

async function partyOf(c: TestClient): Promise<Party> {
  const identity: Identity = await loadIdentity(
    c.store.getSetting<{ armoredSecretKey: string }>(IDENTITY_SETTING)!.armoredSecretKey,
  );
  return { jid: c.jid, identity, contact: identityAsContact(identity) };
}

describe('hostile input from a signed-in colleague is rejected, audited, and does not crash the client', () => {
  let server: TestServer;
  let bob: TestClient;
  let mallory: TestClient;
  let raw: XmppConnection;
  let bobP: Party;
  let malP: Party;
  let eve: Party;

  beforeAll(async () => {
    server = await startTestServer({
      users: [
        { jid: B, password: 'bob-pw-1', name: 'Bob Baker', role: 'nurse' },
        { jid: M, password: 'mallory-pw-1', name: 'Mallory Mills' },
        { jid: C, password: 'carol-pw-1', name: 'Carol Cook' },
      ],
    });
    [bob, mallory] = await Promise.all([makeClient(server, B, 'bob-pw-1'), makeClient(server, M, 'mallory-pw-1')]);
    [bobP, malP, eve] = await Promise.all([partyOf(bob), partyOf(mallory), makeParty('eve@clinic.test')]);
    raw = rawConnection(server, M, 'mallory-pw-1', 'raw');
    await raw.start();
  });
  afterAll(async () => {
    await raw?.stop();
    await Promise.all([bob, mallory].filter(Boolean).map((c) => c.close()));
    await server?.stop();
  });

  const body = (text: string, to = B, time = now()) => signcryptXml({ to: [to], time: stamp(time), body: text });
  const sendRaw = async (base64: string, originId = randomUUID()) => {
    await raw.sendAcked(oxMessage(B, originId, base64));
    return originId;
  };
  const rejection = async (originId: string) => {
    const row = await waitFor(`row ${originId}`, () => messagesWith(bob, M).find((m) => m.originId === originId));
    const audit = await waitFor('audit', () =>
      auditTypes(bob).find((a) => a.type === 'message-rejected' && a.detail.messageId === row.id),
    );
    return { row, reason: audit.detail.reason };
  };

  const cases: [string, () => Promise<string>, readonly string[]][] = [
    [
      'wrong signer',
      () => craft({ plaintext: body('x'), encryptTo: [bobP, malP], signedBy: eve, date: now() }),
      ['wrong-signer'],
    ],
    ['unsigned', () => craft({ plaintext: body('x'), encryptTo: [bobP, malP], date: now() }), ['not-signed']],
    [
      're-addressed <to>',
      () => craft({ plaintext: body('x', C), encryptTo: [bobP, malP], signedBy: malP, date: now() }),
      ['bad-recipient'],
    ],
    [
      'stale <time>',
      () =>
        craft({
          plaintext: body('x', B, new Date(systemClock.now() - 86_400_000)),
          encryptTo: [bobP, malP],
          signedBy: malP,
          date: now(),
        }),
      ['bad-time'],
    ],
    [
      'truncated base64',
      async () =>
        (await craft({ plaintext: body('x'), encryptTo: [bobP, malP], signedBy: malP, date: now() })).slice(0, 120),
      ['malformed', 'decrypt-failed'],
    ],
    ['garbage base64', async () => '%%%not*base64%%%', ['malformed']],
    ['oversized', async () => 'A'.repeat(140_000), ['too-large']],
    [
      'deeply nested XML inside the signcrypt',
      () =>
        craft({
          plaintext: signcryptXml({
            to: [B],
            time: stamp(now()),
            body: 'x',
            extra: '<a>'.repeat(200) + '</a>'.repeat(200),
          }),
          encryptTo: [bobP, malP],
          signedBy: malP,
          date: now(),
        }),
      ['malformed', 'too-large'],
    ],
  ];
  it.each(cases)('%s → unverified, no body, audited with the reason', async (_name, make, reasons) => {
    const originId = await sendRaw(await make());
    const { row, reason } = await rejection(originId);
    expect(row).toMatchObject({ state: 'unverified', body: null, direction: 'in' });
    expect(reasons).toContain(reason);
  });

  it('a replayed ciphertext under a new origin-id is rejected; the same stanza again is a no-op', async () => {
    const b64 = await craft({ plaintext: body('genuine once'), encryptTo: [bobP, malP], signedBy: malP, date: now() });
    const first = await sendRaw(b64);
    const ok = await waitFor('genuine arrives', () => messagesWith(bob, M).find((m) => m.originId === first));
    expect(ok).toMatchObject({ state: 'delivered', body: 'genuine once' });
    await sendRaw(b64, first); // exact duplicate
    const replay = await sendRaw(b64); // same ciphertext, fresh id
    const { reason } = await rejection(replay);
    expect(reason).toBe('replayed');
    expect(messagesWith(bob, M).filter((m) => m.originId === first)).toHaveLength(1);
  });

  it('a forged carbon and a deeply nested stanza do not crash the client; real messages still arrive', async () => {
    const forged = xml(
      'message',
      { to: B, type: 'chat' },
      xml(
        'received',
        { xmlns: 'urn:xmpp:carbons:2' },
        xml(
          'forwarded',
          { xmlns: 'urn:xmpp:forward:0' },
          xml('message', { from: 'carol@clinic.test/x', to: B }, xml('body', {}, 'fake')),
        ),
      ),
    );
    await raw.send(forged);
    let deep: XmlElement = xml('x', { xmlns: 'urn:example:deep' });
    for (let i = 0; i < 500; i++) deep = xml('x', {}, deep);
    await raw.send(
      xml(
        'message',
        { to: B, type: 'chat', id: randomUUID() },
        deep,
        xml('openpgp', { xmlns: 'urn:xmpp:openpgp:0' }, '!!'),
      ),
    );
    await waitFor('forged carbon audited', () =>
      auditTypes(bob).some((a) => a.type === 'message-rejected' && a.detail.reason === 'forged-carbon'),
    );
    const legit = await mallory.messaging.send(mallory.store.conversations.getOrCreate(B).id, 'still working');
    const got = await waitFor('legit arrives', () => messagesWith(bob, M).find((m) => m.originId === legit.originId));
    expect(got).toMatchObject({ state: 'delivered', body: 'still working' });
    expect(bob.messaging.connection().state).toBe('online');
    expect(messagesWith(bob, C)).toEqual([]); // the forged carbon created nothing
  });
});
