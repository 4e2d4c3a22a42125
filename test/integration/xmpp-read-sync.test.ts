// Issue 12 §6: read state synced across a person's workstations (XEP-0490), on real Prosody. Two
// workstations of one account (same OpenPGP key, each its own store) and a colleague: what one
// workstation read, the other shows read — up to the same message, never newer ones — live or when
// it comes back online, without telling the colleague a second time. A mark that is not ours
// (signed by another key, or a plain XEP-0490 item) changes nothing and is logged without content.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as openpgp from 'openpgp';
import { xml, type XmlElement } from '@xmpp/client';
import type { Message } from '../../common/contract/domain';
import { generateIdentity, loadIdentity, type Identity } from '../../main/crypto';
import { buildReadMarkXml, MDS_NS } from '../../main/crypto/read-sync';
import type { Logger, LogFields } from '../../main/log';
import { IDENTITY_SETTING } from '../../main/xmpp/account-key';
import { publishWith } from '../../main/xmpp/pep-keys';
import { MDS_NODE, MDS_OPTIONS } from '../../main/xmpp/read-sync';
import type { XmppConnection } from '../../main/xmpp/transport/connection';
import { serverKind, startTestServer, type TestServer } from '../support/test-server';
import { makeClient, messagesWith, rawConnection, waitFor, type TestClient } from '../support/xmpp-support';

const A = 'alice@clinic.test';
const B = 'bob@clinic.test';
const C = 'carol@clinic.test';
const MARKERS = 'urn:xmpp:chat-markers:0';
const PUBSUB = 'http://jabber.org/protocol/pubsub';

interface Line {
  lvl: string;
  msg: string;
  fields: LogFields | undefined;
}
/** waitFor for a check that must ask the server. */
async function poll(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function recordingLogger(lines: Line[]): Logger {
  const at = (lvl: string) => (msg: string, fields?: LogFields) => void lines.push({ lvl, msg, fields });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe(`read state across workstations (XEP-0490) over ${serverKind()}`, () => {
  let server: TestServer;
  const clients: TestClient[] = [];
  const raws: XmppConnection[] = [];
  const track = (c: TestClient) => (clients.push(c), c);
  let desk1: TestClient, desk2: TestClient, bob: TestClient;
  const desk2Log: Line[] = [];
  /** What the colleague's other resource received: every displayed marker, and every chat message. */
  const atBob: XmlElement[] = [];

  beforeAll(async () => {
    server = await startTestServer({
      users: [
        { jid: A, password: 'alice-pw-1', name: 'Alice Archer', role: 'physician' },
        { jid: B, password: 'bob-pw-1', name: 'Bob Baker', role: 'nurse' },
        { jid: C, password: 'carol-pw-1', name: 'Carol Cole', role: 'reception' },
      ],
    });
    desk1 = track(await makeClient(server, A, 'alice-pw-1', { resource: 'desk-1' }));
    bob = track(await makeClient(server, B, 'bob-pw-1'));
    // The second workstation: the key restored (as from the backup code), its own store.
    desk2 = track(
      await makeClient(server, A, 'alice-pw-1', {
        start: false,
        resource: 'desk-2',
        logger: recordingLogger(desk2Log),
      }),
    );
    desk2.store.setSetting(IDENTITY_SETTING, desk1.store.getSetting(IDENTITY_SETTING));
    await desk2.messaging.start({ firstRun: true });
    const watch = rawConnection(server, B, 'bob-pw-1', 'watch', (el) => {
      if (el.name === 'message' && !el.getChild('received', 'urn:xmpp:carbons:2')) atBob.push(el);
    });
    raws.push(watch);
    await watch.start();
    await watch.send(xml('presence'));
  });
  afterAll(async () => {
    await Promise.all(raws.map((r) => r.stop()));
    await Promise.all(clients.map((c) => c.close()));
    await server?.stop();
  });

  const inbound = (c: TestClient) => messagesWith(c, B).filter((m) => m.direction === 'in');
  const convOf = (c: TestClient) => c.store.conversations.byPeer(B)!.id;
  const readFlags = (c: TestClient, ms: Message[]) => ms.map((m) => c.store.messages.get(m.id)?.readAt != null);

  /** The colleague writes `n` messages; both workstations store them (unread). */
  async function colleagueWrites(texts: string[]): Promise<{ d1: Message[]; d2: Message[] }> {
    const conv = bob.store.conversations.getOrCreate(A).id;
    const sent: Message[] = [];
    for (const t of texts) sent.push(await bob.messaging.send(conv, t));
    const ids = sent.map((m) => m.originId);
    const on = async (c: TestClient) =>
      waitFor(`${c === desk1 ? 'desk 1' : 'desk 2'} stores them`, () => {
        const got = ids.map((id) => inbound(c).find((m) => m.originId === id));
        return got.every((m) => m !== undefined) ? got : null;
      });
    return { d1: await on(desk1), d2: await on(desk2) };
  }

  /** What conversations:markRead does on desk 1 (main/ipc/handlers/conversations.ts). */
  async function desk1Reads(upTo: Message) {
    expect(desk1.store.conversations.markRead(convOf(desk1), undefined, upTo.id)).toBeGreaterThan(0);
    await desk1.messaging.markDisplayed(convOf(desk1), upTo.id);
  }

  const displayedAtBob = () => atBob.filter((el) => el.getChild('displayed', MARKERS));

  it('what desk 1 read up to the 2nd of 3 messages, desk 2 shows read up to the same one; the colleague hears once', async () => {
    const { d1, d2 } = await colleagueWrites(['first', 'second', 'third']);
    // Live messages carry our archive's stanza-id on both desks (Prosody mod_mam adds <stanza-id by=our bare JID/>).
    for (const [c, ms] of [
      [desk1, d1],
      [desk2, d2],
    ] as const)
      for (const m of ms) expect(c.store.messages.newestReadMarker(convOf(c), m.id)?.messageId).toBe(m.id);
    expect(desk2.store.conversations.summary(convOf(desk2))?.unread).toBe(3);

    await desk1Reads(d1[1]!);
    await waitFor('desk 2 shows the first two read', () => readFlags(desk2, d2).join() === 'true,true,false');
    expect(desk2.store.conversations.summary(convOf(desk2))?.unread).toBe(1);
    // The renderer hears of it (inbox row and open conversation refresh).
    expect(
      desk2.events.some(
        (e) =>
          e.name === 'conversation:updated' &&
          (e.payload as { id: string; unread: number }).id === convOf(desk2) &&
          (e.payload as { unread: number }).unread === 1,
      ),
    ).toBe(true);
    expect(desk2Log.some((l) => l.msg.startsWith('xmpp: read state applied') && l.fields?.via === 'notice')).toBe(true);

    // Barrier: desk 2 now writes to the colleague; a marker desk 2 had sent would arrive before it.
    const ping = await desk2.messaging.send(convOf(desk2), 'ping from desk 2');
    await waitFor('the colleague gets desk 2 message', () =>
      atBob.some((el) => el.getChild('origin-id', 'urn:xmpp:sid:0')?.attrs.id === ping.originId),
    );
    const markers = displayedAtBob();
    expect(markers).toHaveLength(1);
    expect(markers[0]!.attrs.from).toBe(`${A}/desk-1`);
    expect(markers[0]!.getChild('displayed', MARKERS)?.attrs.id).toBe(d1[1]!.originId);
    expect(readFlags(desk1, d1).join()).toBe('true,true,false');
  });

  it('desk 2 was off while desk 1 read: it catches up the read state when it comes back', async () => {
    await desk2.messaging.stop();
    const before = await nodeItem();
    const conv = bob.store.conversations.getOrCreate(A).id;
    const sent: Message[] = [];
    for (const t of ['fourth', 'fifth', 'sixth']) sent.push(await bob.messaging.send(conv, t));
    const d1 = await waitFor('desk 1 stores them', () => {
      const got = sent.map((s) => inbound(desk1).find((m) => m.originId === s.originId));
      return got.every((m) => m !== undefined) ? got : null;
    });
    await desk1Reads(d1[1]!);
    // The mark is on the server before desk 2 comes back.
    const probe = await ownProbe('probe-1');
    await poll('desk 1 published the new mark', async () => (await fetchItem(probe)) !== before);

    const lines = desk2Log.length;
    await desk2.restart();
    const d2 = await waitFor('desk 2 caught up the three', () => {
      const got = sent.map((s) => inbound(desk2).find((m) => m.originId === s.originId));
      return got.every((m) => m !== undefined) ? got : null;
    });
    await waitFor('desk 2 shows the fourth and fifth read', () => readFlags(desk2, d2).join() === 'true,true,false');
    // What was read before stays read. (Whether 'third' is read too depends on where each desk sorts it:
    // a mark covers what sorts before it on this desk, and the archive stamps whole seconds.)
    expect(
      readFlags(
        desk2,
        inbound(desk2).filter((m) => m.body === 'first' || m.body === 'second'),
      ),
    ).toEqual([true, true]);
    expect(
      desk2Log.slice(lines).some((l) => l.msg.startsWith('xmpp: read state applied') && l.fields?.via === 'fetch'),
    ).toBe(true);
  });

  it('reading the node again does not undo "Mark as unread" on this workstation', async () => {
    const fourth = inbound(desk2).find((m) => m.body === 'fourth')!;
    expect(desk2.store.conversations.markUnread(convOf(desk2), fourth.id)).toBeGreaterThan(0);
    const lines = desk2Log.length;
    await desk2.restart();
    await waitFor('desk 2 read the node again', () =>
      desk2Log.slice(lines).some((l) => l.msg === 'xmpp: read-state item already applied' && l.fields?.via === 'fetch'),
    );
    expect(desk2.store.messages.get(fourth.id)?.readAt).toBeNull();
  });

  it('an item our account published that is signed by another key, or plain, changes nothing and is logged without content', async () => {
    const d2 = inbound(desk2);
    const sixth = d2.find((m) => m.body === 'sixth')!;
    const unreadBefore = desk2.store.conversations.summary(convOf(desk2))?.unread;
    expect(sixth.readAt).toBeNull();
    const stanzaId = desk2.store.messages.newestReadMarker(convOf(desk2), sixth.id)!.stanzaId;
    const probe = await ownProbe('rogue');
    const own = await loadIdentity(
      desk1.store.getSetting<{ armoredSecretKey: string }>(IDENTITY_SETTING)!.armoredSecretKey,
    );
    // Another key with our own user ID (an old key, or a forger's), encrypted to our real key.
    const forger = await loadIdentity((await generateIdentity(A)).armoredSecretKey);
    const forged = await forgedMark(own, forger, stanzaId);
    const plain = xml(
      'displayed',
      { xmlns: MDS_NS },
      xml('stanza-id', { xmlns: 'urn:xmpp:sid:0', id: stanzaId, by: A }),
    );
    for (const [payload, reason] of [
      [forged, 'wrong-signer'],
      [plain, 'not-encrypted'],
    ] as const) {
      const from = desk2Log.length;
      await publishWith(probe, MDS_NODE, B, payload, MDS_OPTIONS);
      const line = await waitFor(`desk 2 logs the ${reason} item`, () =>
        desk2Log.slice(from).find((l) => l.msg === 'xmpp: read-state item ignored' && l.fields?.reason === reason),
      );
      expect(line.fields).toEqual({ via: 'notice', reason });
    }
    expect(desk2.store.messages.get(sixth.id)?.readAt).toBeNull();
    expect(desk2.store.conversations.summary(convOf(desk2))?.unread).toBe(unreadBefore);
    // Nothing logged names a message, a colleague or an archive id.
    const logged = JSON.stringify(desk2Log);
    for (const secret of [stanzaId, B, 'sixth', ...d2.map((m) => m.originId ?? '-')])
      expect(logged).not.toContain(secret);
  });

  it('the node keeps one item per conversation and is our account’s alone (every server)', async () => {
    // A second colleague's conversation, read on desk 1: the node now holds both (on ejabberd 23.01
    // a node made with the default max_items of 1 would have dropped the first).
    const carol = track(await makeClient(server, C, 'carol-pw-1'));
    const sent = await carol.messaging.send(carol.store.conversations.getOrCreate(A).id, 'from the desk');
    const got = await waitFor('desk 1 stores carol’s message', () =>
      messagesWith(desk1, C).find((m) => m.originId === sent.originId),
    );
    const conv = desk1.store.conversations.byPeer(C)!.id;
    expect(desk1.store.conversations.markRead(conv, undefined, got.id)).toBeGreaterThan(0);
    await desk1.messaging.markDisplayed(conv, got.id);
    const probe = await ownProbe('probe-items');
    let ids: string[] = [];
    await poll('the node holds both conversations', async () => {
      const res = await probe.iq(
        xml('iq', { type: 'get', to: A }, xml('pubsub', { xmlns: PUBSUB }, xml('items', { node: MDS_NODE }))),
      );
      const items = res.getChild('pubsub', PUBSUB)?.getChild('items')?.getChildren('item') ?? [];
      ids = items.map((i) => String(i.attrs.id)).sort();
      return ids.includes(C);
    });
    expect(ids).toEqual([B, C].sort());
    // A colleague asking for the node gets an error, never its items (whitelist access).
    const asked = await raws[0]!
      .iq(xml('iq', { type: 'get', to: A }, xml('pubsub', { xmlns: PUBSUB }, xml('items', { node: MDS_NODE }))))
      .then(
        (res) =>
          `answered with ${res.getChild('pubsub', PUBSUB)?.getChild('items')?.getChildren('item').length ?? 0} items`,
        (err: unknown) => (err as { condition?: string }).condition ?? 'error',
      );
    expect(asked).not.toMatch(/^answered/);
  });

  // --- helpers that act as our own account by hand (the server's PEP node) ---

  async function ownProbe(resource: string): Promise<XmppConnection> {
    const c = rawConnection(server, A, 'alice-pw-1', resource);
    raws.push(c);
    await c.start();
    return c;
  }

  async function fetchItem(c: XmppConnection): Promise<string | null> {
    const res = await c.iq(
      xml('iq', { type: 'get', to: A }, xml('pubsub', { xmlns: PUBSUB }, xml('items', { node: MDS_NODE }))),
    );
    const item = res
      .getChild('pubsub', PUBSUB)
      ?.getChild('items')
      ?.getChildren('item')
      .find((i) => i.attrs.id === B);
    return item ? item.toString() : null;
  }

  /** The node's item for the colleague now (null: none yet). */
  async function nodeItem(): Promise<string | null> {
    const probe = await ownProbe('probe-0');
    try {
      return await fetchItem(probe);
    } catch {
      return null;
    }
  }

  async function forgedMark(own: Identity, signer: Identity, stanzaId: string): Promise<XmlElement> {
    const now = new Date();
    const plaintext = buildReadMarkXml(own, { peer: B, stanzaId }, now);
    const sealed = await openpgp.encrypt({
      message: await openpgp.createMessage({ binary: new TextEncoder().encode(plaintext) }),
      encryptionKeys: own.publicKey,
      signingKeys: signer.privateKey,
      format: 'binary',
      date: now,
    });
    return xml('openpgp', { xmlns: 'urn:xmpp:openpgp:0' }, Buffer.from(sealed).toString('base64'));
  }
});
