// Issue 11 item 7: the virtualized history's arithmetic, out of MessageList and tested on its own.
// The DOM side (measuring, scrolling) is covered by test/e2e/ui-big-store and ui-search-jump.
import { describe, expect, it } from 'vitest';
import type { Message } from '../../common/ipc-contract';
import {
  EST_DAY,
  EST_MSG,
  OVERSCAN,
  anchoredScrollTop,
  applyMeasurements,
  centredScrollTop,
  GROUP_MS,
  historyRows,
  indexAt,
  newestOnScreen,
  rowOffsets,
  scrollEdges,
  visibleSpan,
  type SizedRow,
} from '../../renderer/src/lib/virtual-list';

function msg(id: string, sentAt: number): Message {
  return {
    id,
    conversationId: 'c1',
    direction: 'in',
    state: 'delivered',
    body: null,
    sentAt,
    receivedAt: sentAt,
    claimedAt: null,
    readAt: null,
    originId: null,
  };
}

const rowsOf = (n: number, estimate = EST_MSG): SizedRow[] =>
  Array.from({ length: n }, (_, i) => ({ key: `m${i}`, estimate }));

describe('history rows', () => {
  it('puts a day separator before the first message of each day, and only there', () => {
    // Local noon, so the days are the same in any time zone the test runs in.
    const day1 = new Date(2025, 2, 3, 12).getTime();
    const day2 = new Date(2025, 2, 4, 12).getTime();
    const rows = historyRows([msg('a', day1), msg('b', day1 + 60_000), msg('c', day2)]);
    expect(rows.map((r) => (r.kind === 'day' ? 'day' : r.key))).toEqual(['day', 'a', 'b', 'day', 'c']);
    expect(rows[0]!.estimate).toBe(EST_DAY);
    expect(rows[1]!.estimate).toBe(EST_MSG);
    expect(new Set(rows.map((r) => r.key)).size).toBe(rows.length);
  });
});

describe('message groups (issue 12 §6)', () => {
  const t0 = new Date(2025, 2, 3, 12).getTime();
  const shown = (id: string, at: number, extra: Partial<Message> = {}): Message => ({
    ...msg(id, at),
    body: 'x',
    ...extra,
  });
  const ends = (items: Message[]) =>
    historyRows(items).flatMap((r) => (r.kind === 'msg' ? [`${r.key}${r.groupEnd ? '|' : ''}`] : []));

  it('closes a group at a change of sender, a gap over GROUP_MS, a reply or an unverified message', () => {
    const items = [
      shown('a', t0),
      shown('b', t0 + 60_000),
      shown('c', t0 + 60_000 + GROUP_MS), // exactly the limit: same group
      shown('d', t0 + 60_000 + 2 * GROUP_MS + 1), // too late
      shown('e', t0 + 60_000 + 2 * GROUP_MS + 2, { direction: 'out' }),
      shown('f', t0 + 60_000 + 2 * GROUP_MS + 3, { direction: 'out', replyTo: null }),
      shown('g', t0 + 60_000 + 2 * GROUP_MS + 4, {
        direction: 'out',
        replyTo: { messageId: 'a', direction: 'in', excerpt: 'x' },
      }),
      shown('h', t0 + 60_000 + 2 * GROUP_MS + 5, { direction: 'out', state: 'unverified', body: null }),
    ];
    expect(ends(items)).toEqual(['a', 'b', 'c|', 'd|', 'e', 'f|', 'g|', 'h|']);
  });

  it('puts the "New messages" divider before the first unread, ending the group before it', () => {
    const rows = historyRows([shown('a', t0), shown('b', t0 + 1), shown('c', t0 + 2)], 'b');
    expect(rows.map((r) => (r.kind === 'msg' ? `${r.key}${r.groupEnd ? '|' : ''}` : r.kind))).toEqual([
      'day',
      'a|',
      'unread',
      'b',
      'c|',
    ]);
    expect(historyRows([shown('a', t0)], 'gone').some((r) => r.kind === 'unread')).toBe(false);
  });

  it('never groups across a day separator', () => {
    const late = new Date(2025, 2, 3, 23, 59).getTime();
    expect(ends([shown('a', late), shown('b', late + 2 * 60_000)])).toEqual(['a|', 'b|']);
  });
});

describe('offsets', () => {
  it('uses the estimate until a row is measured, then the measured height', () => {
    const rows = rowsOf(3);
    expect(Array.from(rowOffsets(rows, new Map()))).toEqual([0, EST_MSG, 2 * EST_MSG, 3 * EST_MSG]);
    expect(Array.from(rowOffsets(rows, new Map([['m1', 100]])))).toEqual([
      0,
      EST_MSG,
      EST_MSG + 100,
      2 * EST_MSG + 100,
    ]);
  });

  it('finds the row under a y position (the last row starting at or above it)', () => {
    const o = rowOffsets(rowsOf(5, 10), new Map([['m2', 30]])); // 0 10 20 50 60 70
    const linear = (y: number): number => {
      let i = 0;
      while (i + 1 < o.length && o[i + 1]! <= y) i++;
      return i;
    };
    for (const y of [-5, 0, 9, 10, 19, 20, 49, 50, 69, 70, 500]) expect(indexAt(o, y)).toBe(linear(y));
  });
});

describe('the rendered window', () => {
  const count = 100_000;
  const o = rowOffsets(rowsOf(count), new Map());
  const total = count * EST_MSG;

  it('renders a bounded number of rows in the middle of a 100k-row history, with spacers for the rest', () => {
    const viewport = 600;
    const s = visibleSpan(o, total / 2, viewport);
    expect(s.end - s.start).toBeLessThanOrEqual(Math.ceil((viewport + 2 * OVERSCAN) / EST_MSG) + 2);
    expect(s.end - s.start).toBeGreaterThan(viewport / EST_MSG);
    // Spacers plus the rendered rows are exactly the whole history: the scrollbar does not jump.
    expect(s.topPad + (o[s.end]! - o[s.start]!) + s.bottomPad).toBe(total);
    // The viewport and an overscan on each side are covered by the rendered rows.
    expect(o[s.start]!).toBeLessThanOrEqual(total / 2 - OVERSCAN);
    expect(o[s.end]!).toBeGreaterThanOrEqual(total / 2 + viewport + OVERSCAN);
  });

  it('starts at the first row at the top and ends at the last row at the bottom', () => {
    expect(visibleSpan(o, 0, 600)).toMatchObject({ start: 0, topPad: 0 });
    expect(visibleSpan(o, total - 600, 600)).toMatchObject({ end: count, bottomPad: 0 });
  });

  it('is empty for an empty history', () => {
    expect(visibleSpan(rowOffsets([], new Map()), 0, 600)).toEqual({ start: 0, end: 0, topPad: 0, bottomPad: 0 });
  });
});

describe('measuring', () => {
  it('shifts the scroll position by the growth of rows above it, not of rows below', () => {
    const rows = rowsOf(10, 50);
    const heights = new Map<string, number>();
    const o = rowOffsets(rows, heights);
    // Rows 2..5 rendered; the reader is at y=200 (the top of row 4): rows 2 and 3 are above.
    const measured = [
      { key: 'm2', height: 80 },
      { key: 'm3', height: 50 },
      { key: 'm4', height: 90 },
      { key: 'm5', height: 20 },
    ];
    const r = applyMeasurements(rows, o, 2, measured, heights, 200);
    expect(r).toEqual({ changed: true, shiftAbove: 30 });
    expect(Object.fromEntries(heights)).toEqual({ m2: 80, m3: 50, m4: 90, m5: 20 });
  });

  it('reports no change when the rows are as tall as assumed', () => {
    const rows = rowsOf(3, 50);
    const heights = new Map([['m0', 70]]);
    const measured = [
      { key: 'm0', height: 70.2 },
      { key: 'm1', height: 50 },
    ];
    expect(applyMeasurements(rows, rowOffsets(rows, heights), 0, measured, heights, 0)).toEqual({
      changed: false,
      shiftAbove: 0,
    });
    expect(heights.get('m1')).toBe(50);
  });
});

describe('scroll positions', () => {
  it('keeps the reader on the same message when an older page is prepended', () => {
    const heights = new Map<string, number>();
    const page2 = rowsOf(200).map((r) => ({ ...r, key: `new-${r.key}` }));
    const older = rowsOf(100).map((r) => ({ ...r, key: `old-${r.key}`, estimate: 40 }));
    const before = rowOffsets(page2, heights);
    const scrollTop = 300;
    const anchorIndex = indexAt(before, scrollTop);
    const onScreen = before[anchorIndex]! - scrollTop;
    const after = rowOffsets([...older, ...page2], heights);
    const next = anchoredScrollTop(scrollTop, before[page2.length]!, after[older.length + page2.length]!);
    expect(after[older.length + anchorIndex]! - next).toBe(onScreen);
    expect(indexAt(after, next)).toBe(older.length + anchorIndex);
  });

  it('puts a jumped-to row in the middle of the viewport, never above the top', () => {
    const o = rowOffsets(rowsOf(1000), new Map());
    expect(centredScrollTop(o, 500, 600)).toBe(500 * EST_MSG - 300);
    expect(centredScrollTop(o, 2, 600)).toBe(0);
  });

  it('follows new messages only at the newest end, and pages near either edge', () => {
    const at = (scrollTop: number) => ({ scrollTop, scrollHeight: 10_000, clientHeight: 600 });
    const all = { hasOlder: true, hasNewer: false };
    expect(scrollEdges(at(9_400), all)).toEqual({ stickToBottom: true, wantNewer: false, wantOlder: false });
    expect(scrollEdges(at(9_300), all).stickToBottom).toBe(false);
    // After a jump into the middle, the end of what is loaded is not the newest message.
    expect(scrollEdges(at(9_400), { hasOlder: true, hasNewer: true })).toEqual({
      stickToBottom: false,
      wantNewer: true,
      wantOlder: false,
    });
    expect(scrollEdges(at(OVERSCAN - 1), all).wantOlder).toBe(true);
    expect(scrollEdges(at(OVERSCAN - 1), { hasOlder: false, hasNewer: false }).wantOlder).toBe(false);
    expect(scrollEdges(at(OVERSCAN), all).wantOlder).toBe(false);
  });
});

describe('the newest message on screen (issue 12 §1: what can have been read)', () => {
  // Two days, so a day separator sits between the messages: rows are [day, m0, m1, day, m2, m3].
  const day = 24 * 3600 * 1000;
  const noon = new Date(2026, 0, 5, 12).getTime();
  const items = [msg('m0', noon), msg('m1', noon + 1000), msg('m2', noon + day), msg('m3', noon + day + 1000)];
  const rows = historyRows(items);
  const offsets = rowOffsets(rows, new Map());

  it('is the last message row whose top part is inside the viewport', () => {
    const all = offsets[rows.length]!;
    expect(newestOnScreen(rows, offsets, 0, all)?.id).toBe('m3');
    // The viewport ends 10 px into m3: not enough of it shows; m2 is the newest seen.
    const m3Top = offsets[5]!;
    expect(newestOnScreen(rows, offsets, 0, m3Top + 10)?.id).toBe('m2');
    expect(newestOnScreen(rows, offsets, 0, m3Top + 20)?.id).toBe('m3');
  });

  it('skips a day separator at the bottom edge, and is null when only a separator or nothing shows', () => {
    const secondDayTop = offsets[3]!;
    expect(newestOnScreen(rows, offsets, 0, secondDayTop + EST_DAY)?.id).toBe('m1');
    expect(newestOnScreen(rows, offsets, 0, EST_DAY)).toBeNull();
    expect(newestOnScreen([], new Float64Array([0]), 0, 600)).toBeNull();
    expect(newestOnScreen(rows, offsets, 0, 0)).toBeNull();
  });

  it('is null when the viewport is scrolled past every message row', () => {
    // Only the second separator is on screen: the messages above it scrolled out.
    const secondDayTop = offsets[3]!;
    expect(newestOnScreen(rows, offsets, secondDayTop, EST_DAY)).toBeNull();
  });
});
