/** "Mark as unread" in the store (issue 12 §6): from one received message on, in its conversation only. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type NewMessage, type Store } from '../../main/store';

let dir: string;
let store: Store;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'store-unread-'));
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
  body: `m${i}`,
  originId: `o-${conversationId}-${i}`,
  sentAt: 1_000 + i,
  readAt: 5_000,
  ...extra,
});

describe('markUnread', () => {
  it('makes the received messages from the chosen one on unread, and nothing else', () => {
    const c = store.conversations.getOrCreate('bob@clinic.example');
    const other = store.conversations.getOrCreate('carol@clinic.example');
    const ids = [1, 2, 3].map((i) => store.messages.insert(msg(c.id, i)).id);
    const mine = store.messages.insert(msg(c.id, 4, { direction: 'out', state: 'read', readAt: null })).id;
    const elsewhere = store.messages.insert(msg(other.id, 5)).id;
    expect(store.conversations.summary(c.id)?.unread).toBe(0);

    expect(store.conversations.markUnread(c.id, ids[1]!)).toBe(2);
    expect(ids.map((id) => store.messages.get(id)?.readAt ?? null)).toEqual([5_000, null, null]);
    expect(store.conversations.summary(c.id)?.unread).toBe(2);
    // Our own message keeps its state; another conversation is untouched.
    expect(store.messages.get(mine)?.state).toBe('read');
    expect(store.messages.get(elsewhere)?.readAt).toBe(5_000);
    // A message id of another conversation, or none, changes nothing.
    expect(store.conversations.markUnread(c.id, elsewhere)).toBe(0);
    expect(store.conversations.markUnread(c.id, 'x')).toBe(0);
    expect(store.messages.get(ids[0]!)?.readAt).toBe(5_000);
  });
});
