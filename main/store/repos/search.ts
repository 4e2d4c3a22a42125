/**
 * Full-text search over message bodies (issue 4 §4): FTS5 with unicode61 remove_diacritics 2
 * (case- and diacritics-insensitive), terms of 3+ letters as prefixes, all terms required, ranked
 * by bm25 within the newest RANK_WINDOW matches, offset-paged. Highlights are computed here as UTF-16 [start, end) ranges into the returned
 * text — never HTML, and no marker characters that a body could itself contain.
 */
import { decodeOffset } from '../ids';
import type { Db } from '../open-db';
import type { Page, SearchHit } from '../types';

const MAX_TERMS = 8;
/** Bodies longer than this are returned as a window around the first match. */
const WINDOW = 240;
const LEAD = 60;

/** unicode61 token characters: letters, numbers and private-use (sqlite fts5 docs, "Unicode61 Tokenizer"). */
const TOKEN = /[\p{L}\p{N}\p{Co}\p{M}]+/gu;

/** Folds as unicode61 with remove_diacritics 2 does: lower case, combining marks dropped. */
function fold(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

export function queryTerms(query: string): string[] {
  const terms: string[] = [];
  for (const m of query.matchAll(TOKEN)) {
    const t = fold(m[0]);
    if (t && !terms.includes(t)) terms.push(t);
    if (terms.length === MAX_TERMS) break;
  }
  return terms;
}

/** Terms shorter than this match whole words only: "a*" or "bp*" would match most of the archive. */
const MIN_PREFIX = 3;
/** Ranking window: bm25 orders the newest RANK_WINDOW matches, so a common word costs the same at 1M messages as at 10k. */
const RANK_WINDOW = 2000;

/** Each term quoted (user text never reaches FTS5 syntax: no NEAR, no column filters); 3+ letters as a prefix. */
export function toFtsQuery(terms: string[]): string {
  return terms.map((t) => `"${t.replace(/"/g, '""')}"${t.length >= MIN_PREFIX ? '*' : ''}`).join(' ');
}

/** Ranges of tokens in `text` that start with one of the folded terms. */
export function highlightRanges(text: string, terms: string[]): [number, number][] {
  const out: [number, number][] = [];
  for (const m of text.matchAll(TOKEN)) {
    const folded = fold(m[0]);
    if (terms.some((t) => (t.length >= MIN_PREFIX ? folded.startsWith(t) : folded === t)))
      out.push([m.index, m.index + m[0].length]);
  }
  return out;
}

/** A window of a long body around the first match, cut on code-point boundaries. */
export function excerpt(body: string, terms: string[]): { text: string; ranges: [number, number][] } {
  const all = highlightRanges(body, terms);
  if (body.length <= WINDOW) return { text: body, ranges: all };
  const firstHit = all[0]?.[0] ?? 0;
  let start = Math.max(0, firstHit - LEAD);
  let end = Math.min(body.length, start + WINDOW);
  const isLow = (i: number) => {
    const c = body.charCodeAt(i);
    return c >= 0xdc00 && c <= 0xdfff;
  };
  if (start > 0 && isLow(start)) start -= 1;
  if (end < body.length && isLow(end)) end -= 1;
  const prefix = start > 0 ? '…' : '';
  const suffix = end < body.length ? '…' : '';
  const text = prefix + body.slice(start, end) + suffix;
  const shift = prefix.length - start;
  const ranges = all
    .filter(([s, e]) => s >= start && e <= end)
    .map(([s, e]) => [s + shift, e + shift] as [number, number]);
  return { text, ranges };
}

interface HitRow {
  id: number;
  conversation_id: number;
  body: string;
  sent_at: number;
  peer_jid: string;
  display_name: string | null;
}

export function createSearch(db: Db) {
  const stmt = db.prepare<[string, number, number], HitRow>(`
    SELECT m.id, m.conversation_id, m.body, m.sent_at, c.peer_jid, ct.display_name
      FROM (SELECT rowid, rank FROM (SELECT rowid, rank FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT ${RANK_WINDOW})
             ORDER BY rank LIMIT ? OFFSET ?) f
      JOIN messages m ON m.id = f.rowid
      JOIN conversations c ON c.id = m.conversation_id
      LEFT JOIN contacts ct ON ct.jid = c.peer_jid
     ORDER BY f.rank`);

  return (query: string, { cursor, limit }: { cursor: string | null; limit: number }): Page<SearchHit> => {
    const terms = queryTerms(query);
    if (terms.length === 0) return { items: [], nextCursor: null };
    const offset = decodeOffset(cursor);
    const rows = stmt.all(toFtsQuery(terms), limit + 1, offset);
    const more = rows.length > limit;
    const items = (more ? rows.slice(0, limit) : rows).map((r): SearchHit => {
      const { text, ranges } = excerpt(r.body, terms);
      return {
        messageId: String(r.id),
        conversationId: String(r.conversation_id),
        title: r.display_name ?? r.peer_jid,
        text,
        ranges,
        at: r.sent_at,
      };
    });
    return { items, nextCursor: more ? String(offset + limit) : null };
  };
}
