import { describe, expect, it } from 'vitest';
import { every, type Clock } from '../../main/clock';

/** A clock that only moves when told to (timers fire in time order). */
function manualClock() {
  let now = 0;
  let nextId = 1;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const clock: Clock & { advance(ms: number): void; pending(): number } = {
    now: () => now,
    setTimeout(fn, ms) {
      timers.set(nextId, { at: now + ms, fn });
      return nextId++;
    },
    clearTimeout: (h) => void timers.delete(h as number),
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = until;
    },
    pending: () => timers.size,
  };
  return clock;
}

describe('every: an interval on the injected clock', () => {
  it('runs on each period of the clock it is given, never before', () => {
    const clock = manualClock();
    const at: number[] = [];
    every(clock, 2_000, () => at.push(clock.now()));
    clock.advance(1_999);
    expect(at).toEqual([]);
    clock.advance(5_001);
    expect(at).toEqual([2_000, 4_000, 6_000]);
  });

  it('stops for good, leaving no timer behind', () => {
    const clock = manualClock();
    let runs = 0;
    const stop = every(clock, 1_000, () => runs++);
    clock.advance(2_500);
    stop();
    clock.advance(10_000);
    expect(runs).toBe(2);
    expect(clock.pending()).toBe(0);
  });

  it('a stop from inside the callback ends it as well', () => {
    const clock = manualClock();
    let runs = 0;
    const stop = every(clock, 1_000, () => {
      runs++;
      if (runs === 3) stop();
    });
    clock.advance(10_000);
    expect(runs).toBe(3);
    expect(clock.pending()).toBe(0);
  });
});
