import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../main/store';

let dir: string;
let file: string;
let key: Buffer;
let store: Store;
let now = 1_800_000_000_000;
const clock = { now: () => now };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'store-drafts-'));
  file = join(dir, 'cache.db');
  key = randomBytes(32);
  store = openStore({ file, key, clock, worker: false });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('drafts', () => {
  it('keeps one draft per conversation with the time from the store clock', () => {
    const a = store.conversations.getOrCreate('ana@clinic.example');
    const b = store.conversations.getOrCreate('ben@clinic.example');
    store.drafts.set(a.id, 'Room 4 needs');
    now += 1_000;
    store.drafts.set(b.id, 'Call the lab about');
    now += 1_000;
    store.drafts.set(a.id, 'Room 4 needs a wheelchair');
    expect(store.drafts.get(a.id)).toEqual({ conversationId: a.id, text: 'Room 4 needs a wheelchair', updatedAt: now });
    expect(store.drafts.get(b.id)).toEqual({
      conversationId: b.id,
      text: 'Call the lab about',
      updatedAt: now - 1_000,
    });
  });

  it('removes a draft set to blank text, and on remove()', () => {
    const a = store.conversations.getOrCreate('ana@clinic.example');
    store.drafts.set(a.id, 'something');
    store.drafts.set(a.id, '  \n ');
    expect(store.drafts.get(a.id)).toBeUndefined();
    store.drafts.set(a.id, 'again');
    store.drafts.remove(a.id);
    expect(store.drafts.get(a.id)).toBeUndefined();
  });

  it('refuses a conversation that is not ours with NOT_FOUND', () => {
    const codeOf = (fn: () => void): string | null => {
      try {
        fn();
      } catch (err) {
        return (err as { code?: string }).code ?? 'no code';
      }
      return null;
    };
    expect(codeOf(() => store.drafts.set('999', 'x'))).toBe('NOT_FOUND');
    expect(codeOf(() => store.drafts.set('not-an-id', 'x'))).toBe('NOT_FOUND');
    expect(store.drafts.get('999')).toBeUndefined();
  });

  it('survives closing and reopening the store, and is not readable in the file', async () => {
    const a = store.conversations.getOrCreate('ana@clinic.example');
    const text = `Draft about bed ${randomBytes(6).toString('hex')}`;
    store.drafts.set(a.id, text);
    await store.close();
    for (const f of readdirSync(dir)) expect(readFileSync(join(dir, f)).includes(Buffer.from(text))).toBe(false);
    store = openStore({ file, key, clock, worker: false });
    expect(store.drafts.get(a.id)?.text).toBe(text);
  });

  it('purgeBefore deletes only drafts last changed before the cutoff', () => {
    const a = store.conversations.getOrCreate('ana@clinic.example');
    const b = store.conversations.getOrCreate('ben@clinic.example');
    store.drafts.set(a.id, 'old');
    now += 10_000;
    store.drafts.set(b.id, 'new');
    expect(store.drafts.purgeBefore(now - 5_000)).toBe(1);
    expect(store.drafts.get(a.id)).toBeUndefined();
    expect(store.drafts.get(b.id)?.text).toBe('new');
  });
});

describe('failure reason of our own message', () => {
  it('is recorded by the move to failed, kept when read back, and cleared by a retry', async () => {
    const c = store.conversations.getOrCreate('ana@clinic.example');
    const { id } = store.messages.insert({
      conversationId: c.id,
      direction: 'out',
      state: 'queued',
      body: 'to be refused',
      originId: 'o-1',
      sentAt: now,
    });
    expect(store.messages.get(id)?.failure).toBeNull();
    expect(store.messages.updateState(id, 'failed', now, 'KEY_CHANGED')?.failure).toBe('KEY_CHANGED');
    await store.close();
    store = openStore({ file, key, clock, worker: false });
    expect(store.messages.page(c.id, { before: null, limit: 10 }).items[0]).toMatchObject({
      state: 'failed',
      failure: 'KEY_CHANGED',
    });
    expect(store.messages.updateState(id, 'queued')).toMatchObject({ state: 'queued', failure: null });
    // Without a code, a failure still says it failed (the renderer words INTERNAL as the server's).
    expect(store.messages.updateState(id, 'failed')?.failure).toBe('INTERNAL');
  });
});
