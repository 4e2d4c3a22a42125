import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type NewMessage, type Store } from '../../main/store';
import { idKey } from '../../main/store/dedup-key';
import { openDb } from '../../main/store/open-db';
import { newOriginId } from '../../main/xmpp/origin-id';

let dir: string;
let store: Store;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'store-msg-'));
  store = openStore({ file: join(dir, 'cache.db'), key: randomBytes(32) });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const msg = (conversationId: string, i: number, extra: Partial<NewMessage> = {}): NewMessage => ({
  conversationId,
  direction: 'in',
  state: 'delivered',
  body: `message number ${i}`,
  originId: `origin-${conversationId}-${i}`,
  sentAt: 1_000 + i,
  ...extra,
});

describe('message dedup', () => {
  it('treats a re-delivery with the same origin-id as a no-op returning the first row', () => {
    const c = store.conversations.getOrCreate('bob@clinic.example');
    const first = store.messages.insert(msg(c.id, 1));
    const again = store.messages.insert(msg(c.id, 1, { body: 'different text' }));
    expect(first.inserted).toBe(true);
    expect(again).toEqual({ id: first.id, inserted: false });
    expect(store.messages.get(first.id)?.body).toBe('message number 1');
    expect(store.messages.page(c.id, { before: null, limit: 10 }).items).toHaveLength(1);
  });

  it('records the archive id on a message first seen live, when its archived copy (same origin-id) comes back', () => {
    const c = store.conversations.getOrCreate('bob@clinic.example');
    const live = store.messages.insert(msg(c.id, 1, { stanzaId: null }));
    const mam = store.messages.insert(msg(c.id, 1, { stanzaId: 'mam-1' }));
    expect(mam).toEqual({ id: live.id, inserted: false });
    expect(store.messages.findByOriginId(c.id, 'origin-' + c.id + '-1')?.id).toBe(live.id);
    // The message is identified by its origin-id: the stanza-id is stored on it but does not identify it.
    expect(store.messages.findByStanzaId(c.id, 'mam-1')).toBeUndefined();
  });

  it('identifies a message without an origin-id by its stanza-id', () => {
    const c = store.conversations.getOrCreate('bob@clinic.example');
    const first = store.messages.insert(msg(c.id, 1, { originId: null, stanzaId: 'mam-7' }));
    expect(store.messages.insert(msg(c.id, 1, { originId: null, stanzaId: 'mam-7', body: 'replayed' }))).toEqual({
      id: first.id,
      inserted: false,
    });
    expect(store.messages.insertMany([msg(c.id, 1, { originId: null, stanzaId: 'mam-7' })]).duplicates).toBe(1);
    expect(store.messages.findByStanzaId(c.id, 'mam-7')?.id).toBe(first.id);
    expect(store.messages.get(first.id)?.body).toBe('message number 1');
  });

  it('does not merge two messages with different origin-ids because a stanza-id repeats', () => {
    const c = store.conversations.getOrCreate('bob@clinic.example');
    const a = store.messages.insert(msg(c.id, 1, { stanzaId: 'mam-9' }));
    const b = store.messages.insert(msg(c.id, 2, { stanzaId: 'mam-9' }));
    expect(a.inserted && b.inserted).toBe(true);
    expect(store.messages.page(c.id, { before: null, limit: 10 }).items).toHaveLength(2);
  });

  it('keeps the same UUIDv7 origin-id apart in different conversations and still dedups each', () => {
    const a = store.conversations.getOrCreate('a@clinic.example');
    const b = store.conversations.getOrCreate('b@clinic.example');
    const id = newOriginId(Date.UTC(2026, 10, 28));
    const inA = store.messages.insert(msg(a.id, 1, { originId: id }));
    const inB = store.messages.insert(msg(b.id, 1, { originId: id }));
    expect(inA.inserted && inB.inserted).toBe(true);
    expect(store.messages.insert(msg(a.id, 1, { originId: id }))).toEqual({ id: inA.id, inserted: false });
    expect(store.messages.insert(msg(b.id, 1, { originId: id }))).toEqual({ id: inB.id, inserted: false });
    expect(store.messages.findByOriginId(b.id, id)?.id).toBe(inB.id);
  });

  it('treats an empty origin-id or stanza-id as none: each such message is stored', () => {
    const c = store.conversations.getOrCreate('bob@clinic.example');
    const a = store.messages.insert(msg(c.id, 1, { originId: '', stanzaId: '' }));
    const b = store.messages.insert(msg(c.id, 2, { originId: '', stanzaId: '' }));
    expect(a.inserted && b.inserted).toBe(true);
    expect(store.messages.insertMany([msg(c.id, 3, { originId: '' }), msg(c.id, 4, { originId: '' })]).inserted).toBe(
      2,
    );
    expect(store.messages.get(a.id)?.originId).toBeNull();
  });

  it('keeps the same origin-id apart in different conversations', () => {
    const a = store.conversations.getOrCreate('a@clinic.example');
    const b = store.conversations.getOrCreate('b@clinic.example');
    expect(store.messages.insert(msg(a.id, 1, { originId: 'same' })).inserted).toBe(true);
    expect(store.messages.insert(msg(b.id, 1, { originId: 'same' })).inserted).toBe(true);
  });

  it('bulk-inserts a catch-up batch, counting duplicates inside and outside the batch', () => {
    const c = store.conversations.getOrCreate('bob@clinic.example', 0);
    store.messages.insert(msg(c.id, 3));
    const batch = [1, 2, 3, 4, 2].map((i) => msg(c.id, i));
    const r = store.messages.insertMany(batch);
    expect(r.inserted).toBe(3);
    expect(r.duplicates).toBe(2);
    expect(r.results[4]!.id).toBe(r.results[1]!.id);
    expect(store.conversations.get(c.id)!.lastAt).toBe(1_004);
  });

  it('rolls a whole batch back when one row is invalid', () => {
    const c = store.conversations.getOrCreate('bob@clinic.example');
    const bad = { ...msg(c.id, 2), state: 'nonsense' } as unknown as NewMessage;
    expect(() => store.messages.insertMany([msg(c.id, 1), bad])).toThrow();
    expect(store.messages.page(c.id, { before: null, limit: 10 }).items).toHaveLength(0);
  });
});

describe('newest inbound message (the one a displayed marker names)', () => {
  it('skips our own, unverified and origin-less messages, however many newer ones there are', () => {
    const c = store.conversations.getOrCreate('bob@clinic.example');
    const wanted = store.messages.insert(msg(c.id, 1, { sentAt: 1_000 })).id;
    for (let i = 2; i < 80; i++)
      store.messages.insert(msg(c.id, i, { direction: 'out', state: 'sent', sentAt: 1_000 + i }));
    store.messages.insert(msg(c.id, 80, { state: 'unverified', body: null, sentAt: 2_000 }));
    store.messages.insert(msg(c.id, 81, { originId: null, stanzaId: 'archive-81', sentAt: 2_001 }));
    expect(store.messages.newestInbound(c.id)?.id).toBe(wanted);
    expect(store.messages.newestInbound('999')).toBeUndefined();
  });
});

describe('message state', () => {
  it('moves forward along queued → sent → delivered → read and never back', () => {
    const c = store.conversations.getOrCreate('bob@clinic.example');
    const { id } = store.messages.insert(msg(c.id, 1, { direction: 'out', state: 'queued' }));
    expect(store.messages.updateState(id, 'sent')?.state).toBe('sent');
    expect(store.messages.updateState(id, 'read', 5_000)?.state).toBe('read');
    expect(store.messages.get(id)?.readAt).toBe(5_000);
    expect(store.messages.updateState(id, 'delivered')?.state).toBe('read');
    expect(store.messages.updateState(id, 'failed')?.state).toBe('read');
  });

  it('allows failed → queued for a retry, and updates by origin-id', () => {
    const c = store.conversations.getOrCreate('bob@clinic.example');
    const { id } = store.messages.insert(msg(c.id, 1, { direction: 'out', state: 'sent', originId: 'o-x' }));
    expect(store.messages.updateStateByOriginId(c.id, 'o-x', 'failed')?.state).toBe('failed');
    expect(store.messages.updateState(id, 'queued')?.state).toBe('queued');
    expect(store.messages.updateStateByOriginId(c.id, 'missing', 'sent')).toBeUndefined();
    expect(store.messages.updateState('not-an-id', 'sent')).toBeUndefined();
  });
});

describe('paging and the conversation list', () => {
  it('pages messages newest first with a keyset cursor, no gaps or repeats', () => {
    const c = store.conversations.getOrCreate('bob@clinic.example');
    // Equal timestamps on purpose: the id breaks the tie.
    store.messages.insertMany(
      Array.from({ length: 25 }, (_, i) => msg(c.id, i, { sentAt: 1_000 + Math.floor(i / 3) })),
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = store.messages.page(c.id, { before: cursor, limit: 7 });
      seen.push(...page.items.map((m) => m.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
    const all = store.messages.page(c.id, { before: null, limit: 100 }).items;
    for (let i = 1; i < all.length; i++) expect(all[i - 1]!.sentAt).toBeGreaterThanOrEqual(all[i]!.sentAt);
  });

  it('lists conversations by latest activity with last message and unread count', () => {
    const a = store.conversations.getOrCreate('a@clinic.example', 10);
    const b = store.conversations.getOrCreate('b@clinic.example', 20);
    // The badge is the sum of the list's unread counts (renderer conversations.unreadTotal, main/electron/tray.ts).
    const unreadTotal = () =>
      store.conversations.list({ cursor: null, limit: 10 }).items.reduce((n, c) => n + c.unread, 0);
    store.contacts.upsert({ jid: 'a@clinic.example', displayName: 'Dr. A', role: 'physician' });
    store.messages.insert(msg(a.id, 1, { sentAt: 100 }));
    store.messages.insert(msg(a.id, 2, { sentAt: 300, direction: 'out', state: 'sent' }));
    store.messages.insert(msg(b.id, 1, { sentAt: 200 }));
    store.messages.insert(msg(b.id, 2, { sentAt: 210 }));
    const list = store.conversations.list({ cursor: null, limit: 10 });
    expect(list.items.map((i) => i.peerJid)).toEqual(['a@clinic.example', 'b@clinic.example']);
    expect(list.items[0]).toMatchObject({
      title: 'Dr. A',
      role: 'physician',
      unread: 1,
      lastMessage: { at: 300, direction: 'out', state: 'sent' },
    });
    expect(list.items[1]).toMatchObject({ title: 'b@clinic.example', unread: 2, trust: 'unknown' });
    expect(unreadTotal()).toBe(3);
    expect(store.conversations.markRead(b.id, 999)).toBe(2);
    expect(store.conversations.summary(b.id)?.unread).toBe(0);
    expect(unreadTotal()).toBe(1);
  });

  it("applies a workstation's read mark only to what was stored here by the time the marked message was", () => {
    const c = store.conversations.getOrCreate('a@clinic.example');
    const older = store.messages.insert(msg(c.id, 1, { sentAt: 4_000, receivedAt: 4_000 }));
    // Read on screen here, then the workstation locked.
    const marked = store.messages.insert(msg(c.id, 2, { sentAt: 5_400, receivedAt: 5_400 }));
    expect(store.conversations.markRead(c.id, 6_000, marked.id)).toBe(2);
    // Archived just after it, caught up at unlock: the archive's stamp has whole seconds, so it
    // sorts before the marked one, though it came later and was never on screen.
    const caughtUp = store.messages.insert(msg(c.id, 3, { sentAt: 5_000, receivedAt: 5_000 }));
    expect(store.conversations.summary(c.id)?.unread).toBe(1);
    // markRead (what was on screen, display order) would take it; the mark does not.
    expect(store.conversations.markReadAsMarked(c.id, 7_000, marked.id)).toBe(0);
    expect(store.messages.get(caughtUp.id)?.readAt).toBeNull();
    expect(store.messages.get(older.id)?.readAt).toBe(6_000);
    // A mark naming a message stored after it covers it, as before.
    const later = store.messages.insert(msg(c.id, 4, { sentAt: 8_000, receivedAt: 8_000 }));
    expect(store.conversations.markReadAsMarked(c.id, 9_000, later.id)).toBe(2);
    expect(store.conversations.summary(c.id)?.unread).toBe(0);
  });

  it('marks read only up to the message on screen, in display order, and names the newest such one for the marker', () => {
    const c = store.conversations.getOrCreate('upto@clinic.example', 10);
    // Display order is (sent_at, id): the one inserted last sorts first.
    const early = store.messages.insert(msg(c.id, 3, { sentAt: 100 }));
    const shown = store.messages.insert(msg(c.id, 1, { sentAt: 200 }));
    const later = store.messages.insert(msg(c.id, 2, { sentAt: 300 }));
    const other = store.conversations.getOrCreate('other@clinic.example', 10);
    const elsewhere = store.messages.insert(msg(other.id, 1, { sentAt: 150 }));
    expect(store.messages.newestInbound(c.id, shown.id)?.id).toBe(shown.id);
    expect(store.messages.newestInbound(c.id)?.id).toBe(later.id);
    // A message of another conversation names nothing and marks nothing.
    expect(store.messages.newestInbound(c.id, elsewhere.id)).toBeUndefined();
    expect(store.conversations.markRead(c.id, 999, elsewhere.id)).toBe(0);
    expect(store.conversations.markRead(c.id, 999, shown.id)).toBe(2);
    expect(store.messages.get(early.id)?.readAt).toBe(999);
    expect(store.messages.get(shown.id)?.readAt).toBe(999);
    expect(store.messages.get(later.id)?.readAt).toBeNull();
    expect(store.conversations.summary(c.id)?.unread).toBe(1);
    expect(store.conversations.markRead(c.id, 1_000, 'not-an-id')).toBe(0);
  });

  it('does not count a message that could not be verified as unread, and never previews its text', () => {
    const unreadTotal = () =>
      store.conversations.list({ cursor: null, limit: 10 }).items.reduce((n, c) => n + c.unread, 0);
    const a = store.conversations.getOrCreate('a@clinic.example', 10);
    store.messages.insert(msg(a.id, 1, { sentAt: 100 }));
    // Verification failed: stored without text, state 'unverified' (issue 10 §9).
    const bad = store.messages.insert(msg(a.id, 2, { sentAt: 200, state: 'unverified', body: null }));
    let item = store.conversations.summary(a.id)!;
    expect(item.unread).toBe(1);
    expect(item.lastMessage).toEqual({ id: bad.id, preview: null, at: 200, direction: 'in', state: 'unverified' });
    expect(unreadTotal()).toBe(1);
    expect(store.conversations.list({ cursor: null, limit: 10 }).items[0]!.unread).toBe(1);
    // Even a row that carried text would not have it previewed once it is marked unverified.
    const b = store.conversations.getOrCreate('b@clinic.example', 10);
    store.messages.insert(msg(b.id, 1, { sentAt: 300, state: 'unverified', body: 'forged text' }));
    item = store.conversations.summary(b.id)!;
    expect(item).toMatchObject({ unread: 0, lastMessage: { preview: null, state: 'unverified' } });
    expect(unreadTotal()).toBe(1);
  });

  it('pages the conversation list with a cursor', () => {
    for (let i = 0; i < 12; i++) store.conversations.getOrCreate(`u${i}@clinic.example`, 1_000 + (i % 4));
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page = store.conversations.list({ cursor, limit: 5 });
      ids.push(...page.items.map((c) => c.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(ids).toHaveLength(12);
    expect(new Set(ids).size).toBe(12);
  });
});

describe('contacts, outbox, settings', () => {
  it('pins a key once and keeps first-seen when the key later changes', () => {
    store.contacts.upsert({ jid: 'a@clinic.example', displayName: 'A' });
    const fpr = 'A'.repeat(40);
    store.contacts.setKey(
      'a@clinic.example',
      { trust: 'pinned', fingerprint: fpr, publicKey: new Uint8Array([1, 2, 3]), firstSeen: 50 },
      60,
    );
    const changed = store.contacts.setKey(
      'a@clinic.example',
      { trust: 'changed', pendingFingerprint: 'B'.repeat(40), firstSeen: 70 },
      80,
    );
    expect(changed).toMatchObject({
      trust: 'changed',
      fingerprint: fpr,
      pendingFingerprint: 'B'.repeat(40),
      firstSeen: 50,
      displayName: 'A',
    });
    expect([...changed.publicKey!]).toEqual([1, 2, 3]);
  });

  it('keeps a queued message in the outbox until removed and reschedules attempts', () => {
    const c = store.conversations.getOrCreate('bob@clinic.example');
    const { id } = store.transaction(() => {
      const r = store.messages.insert(msg(c.id, 1, { direction: 'out', state: 'queued' }));
      store.outbox.enqueue(r.id, 100, 90);
      return r;
    });
    expect(store.outbox.all()).toMatchObject([
      { messageId: id, conversationId: c.id, attempts: 0, nextAttemptAt: 100 },
    ]);
    store.outbox.reschedule(id, 500, 'NOT_CONNECTED');
    expect(store.outbox.all()).toMatchObject([{ attempts: 1, nextAttemptAt: 500, lastError: 'NOT_CONNECTED' }]);
    store.outbox.remove(id);
    expect(store.outbox.all()).toEqual([]);
  });

  it('round-trips JSON settings', () => {
    store.setSetting('account', { jid: 'me@clinic.example', server: { tls: 'starttls' } });
    expect(store.getSetting('account')).toEqual({ jid: 'me@clinic.example', server: { tls: 'starttls' } });
    expect(store.getSetting('missing')).toBeUndefined();
  });
});

describe('dedup keys that collide (migrations 0004 and 0005, dedup-key.ts)', () => {
  // A real 53-bit collision cannot be found in a unit test, so a second connection gives an
  // existing row the key of the id under test — what a collision looks like to the new row.
  function tamperedStore() {
    const key = randomBytes(32);
    const file = join(dir, 'collide.db');
    const s = openStore({ file, key, worker: false });
    const raw = openDb({ file, key });
    return { s, raw };
  }

  it('stores a message whose origin-id key is taken by a different id, and dedups its re-delivery', async () => {
    const { s, raw } = tamperedStore();
    const c = s.conversations.getOrCreate('bob@clinic.example');
    const other = s.messages.insert(msg(c.id, 1, { originId: 'other-id' }));
    raw.prepare('UPDATE messages SET origin_key = ? WHERE id = ?').run(idKey('victim-id'), Number(other.id));

    const first = s.messages.insert(msg(c.id, 2, { originId: 'victim-id' }));
    expect(first.inserted).toBe(true);
    expect(first.id).not.toBe(other.id);
    expect(s.messages.insert(msg(c.id, 2, { originId: 'victim-id', body: 'replayed' }))).toEqual({
      id: first.id,
      inserted: false,
    });
    expect(s.messages.insertMany([msg(c.id, 2, { originId: 'victim-id' })]).duplicates).toBe(1);
    expect(s.messages.findByOriginId(c.id, 'victim-id')?.body).toBe('message number 2');
    expect(s.messages.updateStateByOriginId(c.id, 'victim-id', 'read')?.id).toBe(first.id);
    expect(raw.prepare('SELECT origin_key FROM messages WHERE id = ?').get(Number(first.id))).toEqual({
      origin_key: null,
    });
    expect(s.messages.page(c.id, { before: null, limit: 10 }).items).toHaveLength(2);
    raw.close();
    await s.close();
  });

  it('identifies an origin-less message whose stanza-id key is taken by a different id', async () => {
    const { s, raw } = tamperedStore();
    const c = s.conversations.getOrCreate('bob@clinic.example');
    const other = s.messages.insert(msg(c.id, 1, { originId: null, stanzaId: 'mam-other' }));
    raw.prepare('UPDATE messages SET stanza_key = ? WHERE id = ?').run(idKey('mam-2'), Number(other.id));
    const first = s.messages.insert(msg(c.id, 2, { originId: null, stanzaId: 'mam-2' }));
    expect(first.inserted).toBe(true);
    expect(raw.prepare('SELECT stanza_key FROM messages WHERE id = ?').get(Number(first.id))).toEqual({
      stanza_key: null,
    });
    expect(s.messages.insert(msg(c.id, 77, { originId: null, stanzaId: 'mam-2' }))).toEqual({
      id: first.id,
      inserted: false,
    });
    expect(s.messages.findByStanzaId(c.id, 'mam-2')?.id).toBe(first.id);
    // A stanza-id that identifies another row is not copied onto a second origin-less one.
    const third = s.messages.insert(msg(c.id, 3, { originId: null, stanzaId: null }));
    s.messages.setStanzaId(third.id, 'mam-2');
    expect(raw.prepare('SELECT stanza_id FROM messages WHERE id = ?').get(Number(third.id))).toEqual({
      stanza_id: null,
    });
    expect(raw.prepare("SELECT count(*) AS n FROM messages WHERE stanza_id = 'mam-2'").get()).toEqual({ n: 1 });
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    raw.close();
    await s.close();
  });
});

describe('messages around one message (search result jump)', () => {
  it('returns a window around a message in the middle of 1,000 with its neighbours, pageable both ways', () => {
    const c = store.conversations.getOrCreate('bob@clinic.example', 0);
    const other = store.conversations.getOrCreate('eve@clinic.example', 0);
    const ids = store.messages
      .insertMany(Array.from({ length: 1000 }, (_, i) => msg(c.id, i)))
      .results.map((r) => r.id);
    store.messages.insertMany(Array.from({ length: 50 }, (_, i) => msg(other.id, i)));
    const target = ids[500]!;
    const w = store.messages.around(c.id, target, 51);
    // Newest first: 25 newer (525..501), the target, 25 older (499..475).
    expect(w.items.map((m) => m.id)).toEqual([...ids.slice(475, 526)].reverse());
    expect(w.items[25]?.id).toBe(target);
    expect(w.items.every((m) => m.conversationId === c.id)).toBe(true);
    expect(w.hasNewer).toBe(true);
    // Older continues seamlessly with messages:page's cursor.
    const older = store.messages.page(c.id, { before: w.nextCursor, limit: 3 });
    expect(older.items.map((m) => m.id)).toEqual([ids[474], ids[473], ids[472]]);
    // Newer: a window around the newest held row starts right above it.
    const next = store.messages.around(c.id, w.items[0]!.id, 51);
    expect(
      next.items
        .slice(0, 25)
        .reverse()
        .map((m) => m.id),
    ).toEqual(ids.slice(526, 551));
  });

  it('fills the window with older rows near the newest end and says when none is newer', () => {
    const c = store.conversations.getOrCreate('bob@clinic.example', 0);
    const ids = store.messages.insertMany(Array.from({ length: 100 }, (_, i) => msg(c.id, i))).results.map((r) => r.id);
    const w = store.messages.around(c.id, ids[98]!, 10);
    expect(w.items.map((m) => m.id)).toEqual(ids.slice(90, 100).reverse());
    expect(w.hasNewer).toBe(false);
    expect(w.nextCursor).not.toBeNull();
    const all = store.messages.around(c.id, ids[0]!, 200);
    expect(all.items).toHaveLength(100);
    expect(all.nextCursor).toBeNull();
    expect(all.hasNewer).toBe(false);
  });

  it('rejects an unknown message, or one from another conversation, with NOT_FOUND', () => {
    const c = store.conversations.getOrCreate('bob@clinic.example', 0);
    const other = store.conversations.getOrCreate('eve@clinic.example', 0);
    const foreign = store.messages.insert(msg(other.id, 1)).id;
    store.messages.insert(msg(c.id, 1));
    expect(() => store.messages.around(c.id, '999999', 10)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => store.messages.around(c.id, 'not-an-id', 10)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => store.messages.around(c.id, foreign, 10)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});

describe('retention purge (policy retentionDays)', () => {
  it('deletes messages sent before the cutoff, from search too, but keeps what still waits in the outbox', async () => {
    const a = store.conversations.getOrCreate('a@clinic.example', 0);
    const b = store.conversations.getOrCreate('b@clinic.example', 0);
    const put = (c: string, i: number, sentAt: number, word: string) =>
      store.messages.insert(msg(c, i, { sentAt, body: `${word} message ${i}` }));
    put(a.id, 1, 100, 'oldest');
    put(b.id, 2, 200, 'older');
    const unsent = store.messages.insert(
      msg(a.id, 3, { direction: 'out', state: 'queued', sentAt: 150, body: 'queued message 3' }),
    );
    store.outbox.enqueue(unsent.id, 150, 150);
    put(a.id, 4, 5_000, 'kept');
    put(b.id, 5, 6_000, 'kept');

    expect(await store.background.purgeBefore(1_000)).toBe(2);
    expect(store.messages.page(a.id, { before: null, limit: 10 }).items.map((m) => m.body)).toEqual([
      'kept message 4',
      'queued message 3',
    ]);
    expect(store.messages.page(b.id, { before: null, limit: 10 }).items.map((m) => m.body)).toEqual(['kept message 5']);
    await store.background.indexed();
    expect(store.messages.search('oldest', { cursor: null, limit: 5 }).items).toEqual([]);
    expect(store.messages.search('older', { cursor: null, limit: 5 }).items).toEqual([]);
    expect(store.messages.search('kept', { cursor: null, limit: 5 }).items).toHaveLength(2);
    expect(store.messages.purgeBefore(1_000)).toBe(0);
  });

  it('purges by received time: a sender-dated claim can neither keep a message longer nor drop it early (issue 10 §4)', () => {
    const c = store.conversations.getOrCreate('c@clinic.example', 0);
    // A row written before version 6: sorted by the sender's (back-dated) claim, received recently.
    const backDated = store.messages.insert(msg(c.id, 1, { sentAt: 100, receivedAt: 5_000, claimedAt: 100 })).id;
    const old = store.messages.insert(msg(c.id, 2, { sentAt: 200, receivedAt: 200 })).id;
    expect(store.messages.purgeBefore(1_000)).toBe(1);
    expect(store.messages.get(old)).toBeUndefined();
    expect(store.messages.get(backDated)?.claimedAt).toBe(100);
    expect(store.messages.purgeBefore(6_000)).toBe(1);
  });
});
