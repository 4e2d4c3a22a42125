// Issue 12 §6 (XEP-0490) through the IPC boundary: the physician's first workstation is the whole
// app core driven through the router as the renderer drives it; conversations:markRead there is what
// publishes the read state, and the second workstation (same key, own store) shows it. The wire
// format and the hostile cases are in xmpp-read-sync.test.ts.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../common/contract/domain';
import { IDENTITY_SETTING } from '../../main/xmpp/account-key';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { makeClient, messagesWith, waitFor, type TestClient } from '../support/xmpp-support';
import { routedSession, type RoutedSession } from './session-support';
import { requireKeychain } from './vault-support';

const A = 'alice@clinic.test';
const B = 'bob@clinic.test';
const pw = { alice: randomBytes(12).toString('hex'), bob: randomBytes(12).toString('hex') };

let server: ProsodyServer;
let desk1: RoutedSession;
let desk2: TestClient | undefined;
let bob: TestClient | undefined;

beforeAll(async () => {
  await requireKeychain();
  server = await startProsody({
    users: [
      { jid: A, password: pw.alice, name: 'Alice Archer' },
      { jid: B, password: pw.bob, name: 'Bob Baker' },
    ],
  });
  desk1 = await routedSession({
    server,
    account: { jid: A, password: pw.alice, name: 'Alice Archer' },
    prefix: 'session-read-sync-',
  });
  // The second workstation: the account's key (as restored from the backup code), its own store.
  desk2 = await makeClient(server, A, pw.alice, { start: false, resource: 'desk-2' });
  desk2.store.setSetting(IDENTITY_SETTING, desk1.session.active().store.getSetting(IDENTITY_SETTING));
  await desk2.messaging.start({ firstRun: true });
  bob = await makeClient(server, B, pw.bob);
  await waitFor('desk 1 online', () => desk1.session.connection().state === 'online');
});

afterAll(async () => {
  await desk2?.close();
  await bob?.close();
  await desk1?.dispose();
  await server?.stop();
});

describe('conversations:markRead on one workstation', () => {
  it('shows the conversation read up to the same message on the other workstation', async () => {
    const conv = bob!.store.conversations.getOrCreate(A).id;
    const sent: Message[] = [];
    for (const t of ['one', 'two']) sent.push(await bob!.messaging.send(conv, t));
    const desk1Store = () => desk1.session.active().store;
    const atDesk1 = await waitFor('desk 1 stores both', () => {
      const c = desk1Store().conversations.byPeer(B);
      const got = c && sent.map((s) => desk1Store().messages.findByOriginId(c.id, s.originId!));
      return got?.every((m) => m !== undefined) ? got : null;
    });
    const atDesk2 = await waitFor('desk 2 stores both', () => {
      const got = sent.map((s) => messagesWith(desk2!, B).find((m) => m.originId === s.originId));
      return got.every((m) => m !== undefined) ? got : null;
    });

    await desk1.value(
      desk1.call('conversations:markRead', { conversationId: atDesk1[0]!.conversationId, upTo: atDesk1[0]!.id }),
    );
    await waitFor('desk 2 shows the first read', () => desk2!.store.messages.get(atDesk2[0]!.id)?.readAt != null);
    expect(desk2!.store.messages.get(atDesk2[1]!.id)?.readAt).toBeNull();
    expect(desk2!.store.conversations.summary(atDesk2[0]!.conversationId)?.unread).toBe(1);
  });
});
