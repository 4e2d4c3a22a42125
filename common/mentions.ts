/**
 * @mentions in care-team rooms (issue 18 §4; docs/protocol.md "Mentions"). A mention names a room
 * member by their real bare JID and marks a range of the message text, in Unicode code points
 * (XEP-0426), `begin` inclusive and `end` exclusive — as XEP-0372 references do inside the signed,
 * encrypted payload. Pure helpers shared by the composer (which ranges the text it sends carries),
 * main (what it accepts to send) and the receive check (what it keeps of a received payload).
 */

/** At most this many mentions per message: more are dropped, never the message. */
export const MAX_MENTIONS = 20;
/** A label a person picked ("@Dana Ruiz") is at most this long; nothing longer is searched for. */
const MAX_LABEL = 200;

export interface MentionRange {
  /** The mentioned member's real bare JID, lower-case. */
  jid: string;
  /** Code points into the message text: the first mentioned one, and one past the last. */
  begin: number;
  end: number;
}

const BARE_JID = /^[^@/\s]+@[^@/\s]+$/;

/** The text's length in code points (XEP-0426), what mention ranges count. */
export const codePoints = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

/** A UTF-16 index of `s` as a code-point index. */
const toCodePoint = (s: string, utf16: number): number => codePoints(s.slice(0, utf16));

/** A code-point index of `s` as a UTF-16 index (for slicing what a range covers). */
export function toUtf16(s: string, cp: number): number {
  let i = 0;
  let n = 0;
  for (const ch of s) {
    if (n === cp) return i;
    i += ch.length;
    n++;
  }
  return i;
}

/** A letter, digit or mark just after a label: "@Sam" is not a mention inside "@Samantha". */
const WORD = /[\p{L}\p{N}\p{M}_]/u;

/**
 * The ranges the members a person picked from the mention list cover in the text as it is now:
 * each whole occurrence of "@Name" they inserted (the text may have been edited since). Longer
 * labels first, so "@Sam Lee" is never also "@Sam"; overlapping occurrences are not counted twice.
 */
export function mentionRanges(text: string, picked: readonly { jid: string; label: string }[]): MentionRange[] {
  const unique = new Map<string, { jid: string; label: string }>();
  for (const p of picked)
    if (p.label.length > 1 && p.label.length <= MAX_LABEL && BARE_JID.test(p.jid))
      unique.set(`${p.jid}\n${p.label}`, p);
  const labels = [...unique.values()].sort((a, b) => b.label.length - a.label.length);
  const taken: [number, number][] = [];
  const out: MentionRange[] = [];
  for (const { jid, label } of labels) {
    for (let at = text.indexOf(label); at >= 0; at = text.indexOf(label, at + 1)) {
      const stop = at + label.length;
      if (WORD.test(text.charAt(stop))) continue;
      if (taken.some(([b, e]) => at < e && b < stop)) continue;
      taken.push([at, stop]);
      out.push({ jid: jid.toLowerCase(), begin: toCodePoint(text, at), end: toCodePoint(text, stop) });
    }
  }
  return out.sort((a, b) => a.begin - b.begin).slice(0, MAX_MENTIONS);
}

/**
 * What a message may carry of `ranges` over `text`: whole-number ranges inside the text, not
 * overlapping an earlier one, naming a bare JID that `keep` accepts (a current member), at most
 * MAX_MENTIONS. Anything else is dropped — a forged or stale range never fails the message.
 */
export function cleanMentions(
  text: string,
  ranges: readonly MentionRange[],
  keep: (jid: string) => boolean = () => true,
): MentionRange[] {
  const length = codePoints(text);
  const out: MentionRange[] = [];
  const sorted = [...ranges].sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (const r of sorted) {
    if (out.length === MAX_MENTIONS) break;
    if (!Number.isSafeInteger(r.begin) || !Number.isSafeInteger(r.end)) continue;
    if (r.begin < 0 || r.end <= r.begin || r.end > length) continue;
    const jid = typeof r.jid === 'string' ? r.jid.toLowerCase() : '';
    if (!BARE_JID.test(jid) || jid.length > 320 || !keep(jid)) continue;
    const prev = out[out.length - 1];
    if (prev && r.begin < prev.end) continue;
    out.push({ jid, begin: r.begin, end: r.end });
  }
  return out;
}

/** The "@…" being typed just before the caret: where it starts (UTF-16) and what follows the "@". */
export function mentionQuery(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const at = before.lastIndexOf('@');
  if (at < 0 || caret - at > 41) return null;
  // At the start or after a space: not the "@" of an e-mail address.
  if (at > 0 && !/\s/.test(before.charAt(at - 1))) return null;
  const query = before.slice(at + 1);
  if (/[\n@]/.test(query) || query.startsWith(' ')) return null;
  return { start: at, query };
}

/**
 * The members whose name (any word of it) or address starts with the query, case-insensitively. A
 * space typed after a whole name ends the match: "@Sam Lee " is a mention already inserted.
 */
export function matchMembers<T extends { jid: string; name: string }>(members: readonly T[], query: string): T[] {
  const q = query.toLocaleLowerCase();
  if (!q) return [...members];
  return members.filter((m) => {
    const name = m.name.toLocaleLowerCase();
    return name.startsWith(q) || name.split(/\s+/).some((w) => w.startsWith(q)) || m.jid.startsWith(q);
  });
}
