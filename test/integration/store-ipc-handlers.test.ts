import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { channels, type ChannelName, type EventName } from '../../common/ipc-contract';
import { AppError } from '../../common/result';
import { createAuditLog, type AuditLog } from '../../main/audit';
import { createEventBus } from '../../main/events';
import { auditHandlers } from '../../main/ipc/handlers/audit';
import type { HandlerContext } from '../../main/ipc/handlers/context';
import { conversationHandlers } from '../../main/ipc/handlers/conversations';
import { messageReadHandlers } from '../../main/ipc/handlers/messages-read';
import { silentLogger } from '../../main/log';
import { loadPolicy } from '../../main/policy/load';
import type { ActiveSession, Session } from '../../main/session/types';
import { openStore, type Store } from '../../main/store';

// Real store and audit log on a real SQLCipher file. The session and messaging are the only
// stand-ins: a locked/unlocked switch and a presence lookup (XMPP is tested elsewhere).
let dir: string;
let store: Store;
let audit: AuditLog;
let unlocked = true;
let exportAllowed = false;
const events: EventName[] = [];
const displayed: string[] = [];

function ctx(): HandlerContext {
  const active = {
    profileId: 'profile-1',
    jid: 'me@clinic.example',
    displayName: 'Me',
    store,
    audit,
    messaging: {
      presenceOf: (jid: string) => (jid.startsWith('a') ? 'available' : 'offline'),
      // XEP-0333 displayed marker (sent by XMPP; tested in xmpp-*): here only recorded.
      markDisplayed: async (conversationId: string) => void displayed.push(conversationId),
    },
  } as unknown as ActiveSession;
  const session = {
    isUnlocked: () => unlocked,
    active: () => {
      if (!unlocked) throw new AppError('LOCKED', 'The session is locked.');
      return active;
    },
  } as unknown as Session;
  const bus = createEventBus(silentLogger);
  bus.subscribe((name) => events.push(name));
  return {
    app: { name: 'x', version: '0', platform: 'linux', harness: true },
    session,
    events: bus,
    policy: loadPolicy(null, { exportAllowed }),
    logger: silentLogger,
  };
}

/** Calls a handler with contract-parsed input and checks its output against the contract. */
async function call<
  C extends
    | 'conversations:list'
    | 'conversations:open'
    | 'conversations:markRead'
    | 'messages:page'
    | 'messages:search'
    | 'audit:list'
    | 'audit:verify'
    | 'audit:exportCsv',
>(name: C, input: unknown): Promise<unknown> {
  const c = ctx();
  const handlers = { ...conversationHandlers(c), ...messageReadHandlers(c), ...auditHandlers(c) } as Record<
    ChannelName,
    (i: unknown) => unknown
  >;
  const parsed = channels[name].input.parse(input);
  const out = await handlers[name](parsed);
  return channels[name].output.parse(out === undefined ? null : out);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'store-ipc-'));
  store = openStore({ file: join(dir, 'cache.db'), key: randomBytes(32) });
  audit = createAuditLog({ store, key: randomBytes(32) });
  unlocked = true;
  exportAllowed = false;
  events.length = 0;
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('conversation and message handlers', () => {
  it('opens a conversation, lists it with presence, pages and marks read', async () => {
    const { conversationId } = (await call('conversations:open', { peerJid: 'alice@clinic.example' })) as {
      conversationId: string;
    };
    store.messages.insertMany(
      [1, 2, 3].map((i) => ({
        conversationId,
        direction: 'in' as const,
        state: 'delivered' as const,
        body: `lab result ${i}`,
        originId: `o${i}`,
        sentAt: 1_000 + i,
      })),
    );
    const list = (await call('conversations:list', { cursor: null })) as {
      items: { presence: string; unread: number }[];
    };
    expect(list.items).toMatchObject([{ presence: 'available', unread: 3 }]);
    const page = (await call('messages:page', { conversationId, before: null, limit: 2 })) as {
      items: { body: string }[];
      nextCursor: string;
    };
    expect(page.items.map((m) => m.body)).toEqual(['lab result 3', 'lab result 2']);
    expect(page.nextCursor).not.toBeNull();
    expect(audit.list(null, 10).items[0]).toMatchObject({
      type: 'message-opened',
      detail: { conversationId, count: 2 },
    });
    // Up to the newest on screen (issue 12 §1): here, the newest of the three.
    const newest = (await call('messages:page', { conversationId, before: null, limit: 1 })) as {
      items: { id: string }[];
    };
    await call('conversations:markRead', { conversationId, upTo: newest.items[0]!.id });
    expect(events).toContain('conversation:updated');
    expect(displayed).toEqual([conversationId]);
    expect(
      ((await call('conversations:list', { cursor: null })) as { items: { unread: number }[] }).items[0]!.unread,
    ).toBe(0);
    const found = (await call('messages:search', { query: 'LAB res', cursor: null })) as {
      items: { ranges: [number, number][] }[];
    };
    expect(found.items).toHaveLength(3);
    expect(found.items[0]!.ranges).toEqual([
      [0, 3],
      [4, 10],
    ]);
  });

  it('audits search results as a read: count and message ids, never the query', async () => {
    const { conversationId } = (await call('conversations:open', { peerJid: 'alice@clinic.example' })) as {
      conversationId: string;
    };
    const { results } = store.messages.insertMany(
      ['Potassium result for Quinlan', 'Quinlan called back', 'Room 4 is free'].map((body, i) => ({
        conversationId,
        direction: 'in' as const,
        state: 'delivered' as const,
        body,
        originId: `s${i}`,
        sentAt: 1_000 + i,
      })),
    );
    const before = audit.list(null, 100).items.length;
    const query = 'Quinlan';
    const found = (await call('messages:search', { query, cursor: null })) as { items: { messageId: string }[] };
    expect(found.items).toHaveLength(2);
    const entries = audit.list(null, 100).items;
    expect(entries).toHaveLength(before + 1);
    const entry = entries[0]!;
    expect(entry.type).toBe('message-search');
    expect(entry.detail.count).toBe(2);
    const ids = String(entry.detail.messageIds).split(',');
    expect(ids.sort()).toEqual([results[0]!.id, results[1]!.id].sort());
    expect(ids.sort()).toEqual(found.items.map((h) => h.messageId).sort());
    // The query (a patient's name here) appears nowhere in the entry, nor anywhere in the log.
    expect(JSON.stringify(entry).toLowerCase()).not.toContain(query.toLowerCase());
    expect(JSON.stringify(audit.list(null, 100).items).toLowerCase()).not.toContain('quinlan');
    // A search that returns nothing read nothing: no entry.
    await call('messages:search', { query: 'nothingmatchesthis', cursor: null });
    expect(audit.list(null, 100).items).toHaveLength(before + 1);
    // The new entry is part of an intact chain (the seeded messages themselves were never received, so not audited).
    expect(audit.verify().problems).toEqual([]);
  });

  it('audits conversation previews as a read: one entry per list call with the previewed message ids', async () => {
    const a = ((await call('conversations:open', { peerJid: 'alice@clinic.example' })) as { conversationId: string })
      .conversationId;
    const b = ((await call('conversations:open', { peerJid: 'bob@clinic.example' })) as { conversationId: string })
      .conversationId;
    await call('conversations:open', { peerJid: 'carol@clinic.example' }); // no messages: nothing previewed
    const shown = store.messages.insert({
      conversationId: a,
      direction: 'in',
      state: 'delivered',
      body: 'INR is 2.4',
      originId: 'p1',
      sentAt: 2_000,
    });
    // The last message in b could not be verified: it has no text, so nothing of it is previewed.
    store.messages.insert({
      conversationId: b,
      direction: 'in',
      state: 'unverified',
      body: null,
      originId: 'p2',
      sentAt: 2_001,
    });
    const before = audit.list(null, 100).items.length;
    const list = (await call('conversations:list', { cursor: null })) as {
      items: { id: string; lastMessage: { id: string; preview: string | null } | null }[];
    };
    expect(list.items).toHaveLength(3);
    const entries = audit.list(null, 100).items;
    expect(entries).toHaveLength(before + 1);
    expect(entries[0]).toMatchObject({ type: 'message-previewed', detail: { count: 1, messageIds: shown.id } });
    expect(JSON.stringify(entries[0])).not.toContain('INR');
    // Listing again is another read, audited again — still one entry per call.
    await call('conversations:list', { cursor: null });
    expect(audit.list(null, 100).items).toHaveLength(before + 2);
  });

  it('refuses a peer outside the clinic domain and unknown conversations', async () => {
    await expect(call('conversations:open', { peerJid: 'eve@elsewhere.example' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(call('messages:page', { conversationId: '999', before: null })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(call('conversations:markRead', { conversationId: 'nope', upTo: '1' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('answers LOCKED once the session is locked', async () => {
    unlocked = false;
    await expect(call('conversations:list', { cursor: null })).rejects.toMatchObject({ code: 'LOCKED' });
    await expect(call('messages:search', { query: 'x', cursor: null })).rejects.toMatchObject({ code: 'LOCKED' });
    await expect(call('audit:verify', null)).rejects.toMatchObject({ code: 'LOCKED' });
  });
});

describe('audit handlers', () => {
  it('lists and verifies the chain', async () => {
    audit.append('unlock', { profile: 'profile-1' });
    audit.append('lock', { reason: 'manual' });
    expect(await call('audit:list', { before: null })).toMatchObject({
      items: [{ seq: 2, type: 'lock' }, { seq: 1 }],
      nextBefore: null,
    });
    expect(await call('audit:verify', null)).toEqual({
      ok: true,
      checked: 2,
      problems: [],
      unaudited: { count: 0, ids: [] },
    });
  });

  it('refuses CSV export with FORBIDDEN unless policy allows it, auditing both', async () => {
    audit.append('unlock', { profile: 'profile-1' });
    await expect(call('audit:exportCsv', null)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    exportAllowed = true;
    const out = (await call('audit:exportCsv', null)) as { csv: string };
    expect(out.csv.split('\r\n')[0]).toBe('seq,time,event,detail');
    const types = audit.list(null, 10).items.map((i) => [i.type, i.detail.allowed]);
    expect(types.slice(0, 2)).toEqual([
      ['export', true],
      ['export', false],
    ]);
  });
});
