/**
 * The scheduling of a segment send (issue 17 item 5), pure: the delivery window keeps at most its
 * size in flight, starts each item once and stops starting after a 'stop'; progress reports are
 * throttled per segment with the last state always reported; the gateway's keyed queue runs one
 * send per number (and per request id) at a time and different numbers side by side.
 */
import { describe, expect, it } from 'vitest';
import { keyedQueue } from '../../gateway/one-at-a-time';
import { inWindow, throttleByKey } from '../../main/patients/segment-schedule';
import { fakeClock } from '../support/fake-clock';

/** A promise the test resolves by hand. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('inWindow', () => {
  it('keeps at most its size in flight and starts every item once, in order', async () => {
    const gates = Array.from({ length: 20 }, gate);
    const started: number[] = [];
    let inFlight = 0;
    let most = 0;
    const run = inWindow(
      gates.map((_, i) => i),
      8,
      async (i) => {
        started.push(i);
        most = Math.max(most, ++inFlight);
        await gates[i]!.promise;
        inFlight--;
        return 'next';
      },
    );
    await tick();
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    gates[3]!.open();
    await tick();
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    for (const g of gates) g.open();
    expect(await run).toEqual({ started: 20, stopped: false });
    expect(started).toEqual(gates.map((_, i) => i));
    expect(most).toBe(8);
  });

  it("starts nothing more after a 'stop' and lets the running ones finish", async () => {
    const gates = Array.from({ length: 10 }, gate);
    const finished: number[] = [];
    const run = inWindow(
      gates.map((_, i) => i),
      3,
      async (i) => {
        await gates[i]!.promise;
        finished.push(i);
        return i === 1 ? 'stop' : 'next';
      },
    );
    gates[1]!.open();
    await tick();
    gates[0]!.open();
    gates[2]!.open();
    gates[3]!.open();
    expect(await run).toEqual({ started: 3, stopped: true });
    expect(finished.sort()).toEqual([0, 1, 2]);
  });

  it('handles no items', async () => {
    expect(await inWindow([], 8, () => Promise.resolve('next'))).toEqual({ started: 0, stopped: false });
  });
});

describe('throttleByKey', () => {
  it('reports at once, then at most once per interval per key, the last call always reported', () => {
    const clock = fakeClock();
    const reports: [string, number][] = [];
    const progress = throttleByKey(clock, 100, (k) => reports.push([k, clock.now() - 1_800_000_000_000]));
    progress('a');
    progress('b');
    for (let i = 0; i < 50; i++) {
      clock.advance(5);
      progress('a');
    }
    // 250 ms of calls every 5 ms: at 0 (leading), then 100, 200 — and one trailing at 300.
    clock.advance(1_000);
    expect(reports).toEqual([
      ['a', 0],
      ['b', 0],
      ['a', 100],
      ['a', 200],
      ['a', 300],
    ]);
    expect(clock.pending()).toBe(0);
    progress('a');
    expect(reports.at(-1)).toEqual(['a', 1250]);
  });

  it('drops the trailing reports when cancelled', () => {
    const clock = fakeClock();
    let n = 0;
    const progress = throttleByKey(clock, 100, () => n++);
    progress('a');
    progress('a');
    progress.cancel();
    clock.advance(1_000);
    expect(n).toBe(1);
  });
});

describe('the gateway keyed queue', () => {
  it('runs one task per key at a time, other keys side by side, and goes on after a failure', async () => {
    const serial = keyedQueue();
    const log: string[] = [];
    const job =
      (name: string, g: Promise<void>, fail = false) =>
      async () => {
        log.push(`start ${name}`);
        await g;
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      };
    const [g1, g2, g3, g4] = [gate(), gate(), gate(), gate()];
    const p1 = serial(['phone +1', 'request r1'], job('1', g1.promise, true));
    const p2 = serial(['phone +1', 'request r2'], job('2', g2.promise));
    const p3 = serial(['phone +2', 'request r1'], job('3', g3.promise));
    const p4 = serial(['phone +3', 'request r4'], job('4', g4.promise));
    await tick();
    // Same number as 1 waits; same request as 1 waits; another number and request runs.
    expect(log).toEqual(['start 1', 'start 4']);
    g4.open();
    g1.open();
    await expect(p1).rejects.toThrow('1');
    await tick();
    expect(log.slice(2).sort()).toEqual(['end 1', 'end 4', 'start 2', 'start 3']);
    g2.open();
    g3.open();
    expect(await Promise.all([p2, p3, p4])).toEqual(['2', '3', '4']);
  });
});
