/**
 * Every time the store writes without being told one comes from the injected clock (STYLE.md
 * "Time", issue 11 item 3): a fixed clock years away from today shows any wall-clock read.
 * Real SQLCipher files; the session is a stand-in (XMPP is tested elsewhere).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../common/result';
import { createEventBus } from '../../main/events';
import type { HandlerContext } from '../../main/ipc/handlers/context';
import { conversationHandlers } from '../../main/ipc/handlers/conversations';
import { silentLogger } from '../../main/log';
import type { ActiveSession } from '../../main/session/types';
import { openStore, type Store } from '../../main/store';

const T = Date.UTC(2041, 2, 3, 4, 5, 6, 789);
const fixed = { now: () => T };
let dir: string;
let store: Store;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'store-clock-'));
  store = openStore({ file: join(dir, 'cache.db'), key: randomBytes(32), clock: fixed, worker: false });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the store takes its default times from the injected clock', () => {
  it('stamps conversations, contacts, outbox items and state changes with the clock, not the wall clock', () => {
    const conv = store.conversations.getOrCreate('alice@clinic.example');
    expect(conv.createdAt).toBe(T);
    expect(store.contacts.upsert({ jid: 'alice@clinic.example', displayName: 'Alice' }).updatedAt).toBe(T);
    expect(store.contacts.setKey('bob@clinic.example', { trust: 'unavailable' }).updatedAt).toBe(T);

    const out = store.messages.insert({
      conversationId: conv.id,
      direction: 'out',
      state: 'queued',
      body: 'x',
      sentAt: 1,
    });
    store.outbox.enqueue(out.id, 1);
    expect(store.outbox.all()[0]).toMatchObject({ messageId: out.id, createdAt: T });
    expect(store.messages.updateState(out.id, 'sent')?.state).toBe('sent');
    expect(store.messages.updateState(out.id, 'delivered')?.receivedAt).toBe(T);

    const inbound = store.messages.insert({
      conversationId: conv.id,
      direction: 'in',
      state: 'delivered',
      body: 'y',
      sentAt: 2,
      receivedAt: 2,
    });
    expect(store.conversations.markRead(conv.id)).toBe(1);
    expect(store.messages.get(inbound.id)?.readAt).toBe(T);
  });

  it('conversations:markRead records the read time from the session clock', async () => {
    const conv = store.conversations.getOrCreate('carol@clinic.example', 5);
    const inbound = store.messages.insert({
      conversationId: conv.id,
      direction: 'in',
      state: 'delivered',
      body: 'z',
      sentAt: 6,
      receivedAt: 6,
    });
    const active = {
      jid: 'me@clinic.example',
      store,
      messaging: { presenceOf: () => 'offline', markDisplayed: async () => undefined },
    } as unknown as ActiveSession;
    const ctx = {
      session: { active: () => active, isUnlocked: () => true },
      events: createEventBus(silentLogger),
      logger: silentLogger,
    } as unknown as HandlerContext;
    await conversationHandlers(ctx)['conversations:markRead']({ conversationId: conv.id, upTo: inbound.id });
    expect(store.messages.get(inbound.id)?.readAt).toBe(T);
  });

  it('names a damaged file it sets aside after the clock', () => {
    const file = join(dir, 'damaged.db');
    writeFileSync(file, Buffer.concat([Buffer.from('not a database\n'), randomBytes(8_000)]));
    let err: unknown;
    try {
      openStore({ file, key: randomBytes(32), clock: fixed, worker: false });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('STORE_CORRUPT');
    expect(readdirSync(dir).filter((f) => f.startsWith('damaged.db.corrupt-'))).toEqual([
      'damaged.db.corrupt-2041-03-03T04-05-06-789Z',
    ]);
  });
});
