/**
 * Replies in the store (issue 12 §6, migration 0008): a reply keeps the origin-id it answers, and
 * reading it resolves that id only within its own conversation.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type NewMessage, type Store } from '../../main/store';

let dir: string;
let store: Store;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'store-refs-'));
  store = openStore({ file: join(dir, 'cache.db'), key: randomBytes(32) });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const msg = (conversationId: string, originId: string, extra: Partial<NewMessage> = {}): NewMessage => ({
  conversationId,
  direction: 'in',
  state: 'delivered',
  body: `text of ${originId}`,
  originId,
  sentAt: 1_000,
  ...extra,
});

describe('reply references', () => {
  it('resolves the answered message of the same conversation, in get, page and state moves', () => {
    const c = store.conversations.getOrCreate('bob@clinic.example');
    const asked = store.messages.insert(msg(c.id, 'q1', { body: 'x'.repeat(500) }));
    const answer = store.messages.insert(
      msg(c.id, 'a1', { direction: 'out', state: 'queued', replyToOriginId: 'q1', sentAt: 2_000 }),
    );
    const expected = { messageId: asked.id, direction: 'in', excerpt: 'x'.repeat(200) };
    expect(store.messages.get(answer.id)?.replyTo).toEqual(expected);
    expect(store.messages.page(c.id, { before: null, limit: 10 }).items[0]?.replyTo).toEqual(expected);
    expect(store.messages.updateState(answer.id, 'sent')?.replyTo).toEqual(expected);
    // A message that answers nothing has no reference.
    expect(store.messages.get(asked.id)?.replyTo).toBeUndefined();
  });

  it("never quotes another conversation's message, nor one it does not know", () => {
    const ours = store.conversations.getOrCreate('bob@clinic.example');
    const other = store.conversations.getOrCreate('carol@clinic.example');
    store.messages.insert(msg(other.id, 'secret-1', { body: 'for carol only' }));
    const cross = store.messages.insert(msg(ours.id, 'r1', { replyToOriginId: 'secret-1' }));
    const unknown = store.messages.insert(msg(ours.id, 'r2', { replyToOriginId: 'never-seen' }));
    const none = { messageId: null, direction: null, excerpt: null };
    expect(store.messages.get(cross.id)?.replyTo).toEqual(none);
    expect(store.messages.get(unknown.id)?.replyTo).toEqual(none);
  });

  it('shows no text of an answered message that could not be verified', () => {
    const c = store.conversations.getOrCreate('bob@clinic.example');
    const bad = store.messages.insert(msg(c.id, 'u1', { state: 'unverified', body: null }));
    const r = store.messages.insert(msg(c.id, 'r1', { replyToOriginId: 'u1' }));
    expect(store.messages.get(r.id)?.replyTo).toEqual({ messageId: bad.id, direction: 'in', excerpt: null });
  });
});
