import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../main/store';
import { excerpt, highlightRanges, queryTerms, toFtsQuery } from '../../main/store/repos/search';

let dir: string;
let store: Store;
let conv: string;
const add = (body: string | null, sentAt = 1_000) =>
  store.messages.insert({
    conversationId: conv,
    direction: 'in',
    state: body === null ? 'unverified' : 'delivered',
    body,
    sentAt,
  }).id;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'store-search-'));
  store = openStore({ file: join(dir, 'cache.db'), key: randomBytes(32) });
  conv = store.conversations.getOrCreate('nurse@clinic.example').id;
  store.contacts.upsert({ jid: 'nurse@clinic.example', displayName: 'Nurse Joy' });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const search = (q: string, limit = 20) => store.messages.search(q, { cursor: null, limit });

describe('full-text search', () => {
  it('matches prefixes, ignoring case and diacritics', () => {
    const id = add('Patient Müller: café résumé attached');
    expect(search('mull').items.map((h) => h.messageId)).toEqual([id]);
    expect(search('CAFE').items.map((h) => h.messageId)).toEqual([id]);
    expect(search('Resu').items.map((h) => h.messageId)).toEqual([id]);
    expect(search('zzz').items).toEqual([]);
  });

  it('matches terms shorter than three letters as whole words only', () => {
    const bp = add('BP 120/80 at rest');
    add('bpm 72');
    const hit = search('bp').items;
    expect(hit.map((h) => h.messageId)).toEqual([bp]);
    expect(hit[0]!.ranges.map(([s, e]) => hit[0]!.text.slice(s, e))).toEqual(['BP']);
  });

  it('requires every term', () => {
    const both = add('blood pressure reading for room 4');
    add('blood sample only');
    expect(search('blood press').items.map((h) => h.messageId)).toEqual([both]);
  });

  it('returns highlight ranges as UTF-16 offsets into the returned text, never HTML', () => {
    add('😀 Ärzte <b>lab</b> results: Laboratory 🧪 lab');
    const [hit] = search('lab').items;
    expect(hit).toBeDefined();
    expect(hit!.title).toBe('Nurse Joy');
    const words = hit!.ranges.map(([s, e]) => hit!.text.slice(s, e));
    expect(words).toEqual(['lab', 'Laboratory', 'lab']);
    expect(hit!.text).toContain('<b>lab</b>'); // the body as written; nothing added
    const ae = search('arzte').items[0]!;
    expect(ae.ranges.map(([s, e]) => ae.text.slice(s, e))).toEqual(['Ärzte']);
  });

  it('ranks by relevance (bm25): more matches first', () => {
    const weak = add('discharge planning meeting about many other unrelated topics today');
    const strong = add('discharge discharge discharge');
    expect(search('discharge').items.map((h) => h.messageId)).toEqual([strong, weak]);
  });

  it('pages results with a cursor', () => {
    for (let i = 0; i < 7; i++) add(`insulin dose ${i}`);
    const first = search('insulin', 3);
    expect(first.items).toHaveLength(3);
    const second = store.messages.search('insulin', { cursor: first.nextCursor, limit: 3 });
    const third = store.messages.search('insulin', { cursor: second.nextCursor, limit: 3 });
    const ids = [...first.items, ...second.items, ...third.items].map((h) => h.messageId);
    expect(new Set(ids).size).toBe(7);
    expect(third.nextCursor).toBeNull();
  });

  it('treats FTS5 syntax in the query as plain words', () => {
    const id = add('follow up NEAR the ward');
    for (const q of ['"', 'NEAR(', 'body:follow', 'follow*)', '^ward', 'a OR', '-', '***']) {
      expect(() => search(q)).not.toThrow();
    }
    expect(search('NEAR(follow').items.map((h) => h.messageId)).toEqual([id]); // words, not the NEAR operator
    expect(search('body:follow').items).toEqual([]); // 'body' is a word here, not a column filter
    expect(search('***').items).toEqual([]);
  });

  it('never indexes an unverified message without a body', () => {
    add(null);
    expect(search('null').items).toEqual([]);
  });

  it('returns a window of a long body with ranges shifted into it', () => {
    const long = `${'filler '.repeat(100)}critical potassium value ${'tail '.repeat(100)}`;
    add(long);
    const [hit] = search('potassium').items;
    expect(hit!.text.length).toBeLessThan(260);
    expect(hit!.text.startsWith('…')).toBe(true);
    expect(hit!.ranges.map(([s, e]) => hit!.text.slice(s, e))).toEqual(['potassium']);
  });
});

describe('search helpers', () => {
  it('folds query terms and quotes them as prefix queries', () => {
    expect(queryTerms('Café  "x" café')).toEqual(['cafe', 'x']);
    expect(toFtsQuery(['cafe', 'x'])).toBe('"cafe"* "x"');
  });

  it('does not split a surrogate pair at the window edge', () => {
    const body = `${'😀'.repeat(200)} needle ${'😀'.repeat(200)}`;
    const { text, ranges } = excerpt(body, ['needle']);
    expect(text).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    expect(ranges.map(([s, e]) => text.slice(s, e))).toEqual(['needle']);
    expect(highlightRanges('x needles', ['needle'])).toEqual([[2, 9]]);
  });
});
