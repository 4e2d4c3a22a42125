/**
 * The arithmetic of the virtualized history (issue 6 §7, moved out of MessageList by issue 11
 * item 7): which rows are near the viewport, how tall the spacers around them are, how far to
 * scroll when rows above the viewport turn out taller or shorter than estimated, and where a
 * jump or a prepended page leaves the scroll position. Plain functions over plain data, so the
 * unit tests run them in Node; `virtual-list.svelte.ts` wires them to runes and the DOM.
 */
import type { Message } from '../../../common/ipc-contract';
import { dayKey, dayLabel } from './format';

/** A row the list can lay out: a stable key and the height assumed until it is measured. */
export interface SizedRow {
  readonly key: string;
  readonly estimate: number;
}

export type HistoryRow =
  | { key: string; estimate: number; kind: 'day'; label: string }
  /** "New messages": above the first message that was unread when the conversation opened. */
  | { key: string; estimate: number; kind: 'unread' }
  | {
      key: string;
      estimate: number;
      kind: 'msg';
      m: Message;
      /** Last of a group (issue 12 §6): the row that shows the group's time and status. */
      groupEnd: boolean;
    };

/** Consecutive messages this close together, same side, same day, form one group. */
export const GROUP_MS = 3 * 60_000;

/** `b` continues the group of `a`: same sender, both shown, within GROUP_MS, and not a reply. */
function sameGroup(a: Message, b: Message): boolean {
  const shown = (m: Message) => m.body !== null && m.state !== 'unverified';
  return a.direction === b.direction && shown(a) && shown(b) && !b.replyTo && b.sentAt - a.sentAt <= GROUP_MS;
}

export const EST_MSG = 62;
export const EST_DAY = 40;
/** Pixels rendered beyond each edge of the viewport, and the distance that triggers paging. */
export const OVERSCAN = 500;
/** Closer than this to the end counts as "reading the newest": new messages are followed. */
const STICK_PX = 48;

/**
 * The history as rows: a day separator before the first message of each day; consecutive messages
 * of one sender a few minutes apart are a group whose last row alone shows time and status; the
 * "New messages" divider before `unreadFrom` (it also ends the group before it).
 */
export function historyRows(items: readonly Message[], unreadFrom: string | null = null): HistoryRow[] {
  const out: HistoryRow[] = [];
  let prev = '';
  for (const m of items) {
    const d = dayKey(m.sentAt);
    if (d !== prev) {
      out.push({ key: `day:${d}`, estimate: EST_DAY, kind: 'day', label: dayLabel(m.sentAt) });
      prev = d;
    }
    if (m.id === unreadFrom) out.push({ key: 'unread', estimate: EST_DAY, kind: 'unread' });
    const last = out[out.length - 1];
    if (last?.kind === 'msg' && sameGroup(last.m, m)) out[out.length - 1] = { ...last, groupEnd: false };
    out.push({ key: m.id, estimate: EST_MSG, kind: 'msg', m, groupEnd: true });
  }
  return out;
}

/** offsets[i] is the top of row i; offsets[rows.length] is the total height. */
export function rowOffsets(rows: readonly SizedRow[], heights: ReadonlyMap<string, number>): Float64Array {
  const o = new Float64Array(rows.length + 1);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    o[i + 1] = o[i]! + (heights.get(r.key) ?? r.estimate);
  }
  return o;
}

/** Largest i with offsets[i] <= y (0 when y is above everything). */
export function indexAt(offsets: Float64Array, y: number): number {
  let lo = 0;
  let hi = offsets.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[mid]! <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Rows [start, end) are rendered; the spacers stand in for the rest. */
export interface Span {
  start: number;
  end: number;
  topPad: number;
  bottomPad: number;
}

export function visibleSpan(offsets: Float64Array, scrollTop: number, viewport: number, overscan = OVERSCAN): Span {
  const count = offsets.length - 1;
  const total = offsets[count] ?? 0;
  const start = Math.min(count, indexAt(offsets, Math.max(0, scrollTop - overscan)));
  const end = Math.min(count, indexAt(offsets, scrollTop + viewport + overscan) + 1);
  return { start, end, topPad: offsets[start] ?? 0, bottomPad: total - (offsets[end] ?? total) };
}

export interface Measured {
  key: string;
  height: number;
}

/**
 * Records the measured heights of the rendered rows (rows[start…] in order) into `heights`.
 * `shiftAbove` is how much the rows that lie wholly above `scrollTop` grew: scrolling by it
 * keeps the row the reader is looking at in place.
 */
export function applyMeasurements(
  rows: readonly SizedRow[],
  offsets: Float64Array,
  start: number,
  measured: Iterable<Measured>,
  heights: Map<string, number>,
  scrollTop: number,
): { changed: boolean; shiftAbove: number } {
  let changed = false;
  let shiftAbove = 0;
  let i = start;
  for (const { key, height } of measured) {
    const old = heights.get(key);
    const est = old ?? rows[i]?.estimate ?? EST_MSG;
    if (Math.abs(height - est) > 0.5) {
      heights.set(key, height);
      changed = true;
      if ((offsets[i + 1] ?? 0) <= scrollTop) shiftAbove += height - est;
    } else if (old === undefined) {
      heights.set(key, height);
    }
    i++;
  }
  return { changed, shiftAbove };
}

/** A jump puts the row's top in the middle of the viewport (refined once the row is rendered). */
export function centredScrollTop(offsets: Float64Array, index: number, viewport: number): number {
  return Math.max(0, (offsets[index] ?? 0) - viewport / 2);
}

/**
 * Older rows prepended above: the content below grew by `totalAfter - totalBefore`, and the
 * scroll position moves by as much so the reader stays on the same message.
 */
export function anchoredScrollTop(scrollTop: number, totalBefore: number, totalAfter: number): number {
  return scrollTop + (totalAfter - totalBefore);
}

export interface ScrollState {
  scrollTop: number;
  scrollHeight: number;
  clientHeight: number;
}

/** What a scroll position asks for: follow new messages, page newer rows, page older rows. */
export function scrollEdges(
  s: ScrollState,
  more: { hasOlder: boolean; hasNewer: boolean },
  overscan = OVERSCAN,
): { stickToBottom: boolean; wantNewer: boolean; wantOlder: boolean } {
  const fromBottom = s.scrollHeight - s.scrollTop - s.clientHeight;
  return {
    stickToBottom: !more.hasNewer && fromBottom < STICK_PX,
    wantNewer: more.hasNewer && fromBottom < overscan,
    wantOlder: more.hasOlder && s.scrollTop < overscan,
  };
}

/** How much of a row must be inside the viewport for it to count as seen. */
const SEEN_PX = 20;

/**
 * The newest message on screen: the last message row whose top `SEEN_PX` (or all of it, when
 * shorter) lies inside the viewport. What the person can have read (issue 12 §1): everything up
 * to it in display order may be marked read, nothing after it. Null when no message is on screen.
 */
export function newestOnScreen(
  rows: readonly HistoryRow[],
  offsets: Float64Array,
  scrollTop: number,
  viewport: number,
): Message | null {
  if (rows.length === 0 || viewport <= 0) return null;
  const bottom = scrollTop + viewport;
  for (let i = Math.min(rows.length - 1, indexAt(offsets, bottom)); i >= 0; i--) {
    const top = offsets[i]!;
    const end = offsets[i + 1]!;
    if (end <= scrollTop) return null; // above the viewport: nothing on screen is a message
    const row = rows[i]!;
    if (row.kind === 'msg' && top + Math.min(SEEN_PX, end - top) <= bottom) return row.m;
  }
  return null;
}
