import { describe, expect, it } from 'vitest';
import { every } from '../../main/clock';
import { fakeClock } from '../support/fake-clock';

/** A clock that only moves when told to (timers fire in time order). */
const manualClock = () => fakeClock(0);

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
