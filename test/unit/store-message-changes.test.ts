/**
 * Edits and deletions for everyone in the store (issue 12 §6, migration 0010): the row shows the
 * new text or none, search follows at once, a deletion is final, and the signer is kept so the
 * XMPP side can check a later change against it. Real SQLCipher file.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type NewMessage, type Store } from '../../main/store';

let dir: string;
let store: Store;
const key = randomBytes(32);
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'store-changes-'));
  store = openStore({ file: join(dir, 'cache.db'), key });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const msg = (conversationId: string, originId: string, extra: Partial<NewMessage> = {}): NewMessage => ({
  conversationId,
  direction: 'in',
  state: 'delivered',
  body: `appointment moved ${originId}`,
  originId,
  sentAt: 1_000,
  ...extra,
});
const hits = (q: string) => store.messages.search(q, { cursor: null, limit: 10 }).items.map((h) => h.messageId);

describe('message changes', () => {
  it('an edit replaces the text, marks it edited, and search finds the new words only', () => {
    const c = store.conversations.getOrCreate('bob@clinic.example');
    const { id } = store.messages.insert(msg(c.id, 'o1', { body: 'room four please', signer: 'A'.repeat(40) }));
    expect(hits('four')).toEqual([id]);
    const after = store.messages.applyChange(id, { kind: 'edit', body: 'room five please' }, 5_000);
    expect(after).toMatchObject({ id, body: 'room five please', editedAt: 5_000 });
    expect(after?.deletedAt).toBeUndefined();
    expect(hits('four')).toEqual([]);
    expect(hits('five')).toEqual([id]);
    expect(store.messages.signerOf(id)).toBe('A'.repeat(40));
    // The same text again changes nothing (a copy of the edit applied twice).
    expect(store.messages.applyChange(id, { kind: 'edit', body: 'room five please' }, 6_000)).toBeUndefined();
    expect(store.messages.get(id)?.editedAt).toBe(5_000);
  });

  it('a deletion removes the text from the row, from search and from replies quoting it, and is final', () => {
    const c = store.conversations.getOrCreate('bob@clinic.example');
    const { id } = store.messages.insert(msg(c.id, 'o1', { body: 'wrong patient chart' }));
    const reply = store.messages.insert(msg(c.id, 'o2', { direction: 'out', state: 'sent', replyToOriginId: 'o1' }));
    expect(store.messages.get(reply.id)?.replyTo?.excerpt).toBe('wrong patient chart');
    const after = store.messages.applyChange(id, { kind: 'retract' }, 7_000);
    expect(after).toMatchObject({ id, body: null, deletedAt: 7_000, state: 'delivered' });
    expect(hits('chart')).toEqual([]);
    expect(store.messages.get(reply.id)?.replyTo).toEqual({ messageId: id, direction: 'in', excerpt: null });
    expect(store.messages.applyChange(id, { kind: 'edit', body: 'back again' }, 8_000)).toBeUndefined();
    expect(store.messages.applyChange(id, { kind: 'retract' }, 8_000)).toBeUndefined();
    expect(store.messages.get(id)).toMatchObject({ body: null, deletedAt: 7_000 });
    expect(store.conversations.summary(c.id)?.lastMessage?.preview ?? null).not.toBe('wrong patient chart');
  });

  it('never changes a message that could not be verified, nor an unknown id', () => {
    const c = store.conversations.getOrCreate('bob@clinic.example');
    const { id } = store.messages.insert(msg(c.id, 'o1', { state: 'unverified', body: null }));
    expect(store.messages.applyChange(id, { kind: 'edit', body: 'x' }, 1)).toBeUndefined();
    expect(store.messages.applyChange(id, { kind: 'retract' }, 1)).toBeUndefined();
    expect(store.messages.get(id)).toMatchObject({ body: null, state: 'unverified' });
    expect(store.messages.applyChange('999999', { kind: 'retract' }, 1)).toBeUndefined();
    expect(store.messages.applyChange('not-an-id', { kind: 'retract' }, 1)).toBeUndefined();
    expect(store.messages.signerOf('999999')).toBeNull();
  });

  it('keeps the change across a reopen of the encrypted file', async () => {
    const c = store.conversations.getOrCreate('bob@clinic.example');
    const a = store.messages.insert(msg(c.id, 'o1'));
    const b = store.messages.insert(msg(c.id, 'o2', { sentAt: 2_000 }));
    store.messages.applyChange(a.id, { kind: 'edit', body: 'moved to Friday' }, 3_000);
    store.messages.applyChange(b.id, { kind: 'retract' }, 4_000);
    await store.close();
    store = openStore({ file: join(dir, 'cache.db'), key });
    expect(store.messages.get(a.id)).toMatchObject({ body: 'moved to Friday', editedAt: 3_000 });
    expect(store.messages.get(b.id)).toMatchObject({ body: null, deletedAt: 4_000 });
    expect(hits('friday')).toEqual([a.id]);
  });
});
