import { describe, expect, it } from 'vitest';
import { createIdleTimer, idleWarningMs } from '../../main/session/idle';
import { fakeClock } from '../support/fake-clock';

function timer(timeoutMs: number) {
  const clock = fakeClock();
  const seen: (number | 'locked' | null)[] = [];
  const idle = createIdleTimer(
    clock,
    () => seen.push('locked'),
    (msLeft) => seen.push(msLeft),
  );
  idle.start(timeoutMs);
  return { clock, idle, seen };
}

describe('idle warning', () => {
  it('warns 30 s before a 5-minute lock, once, then locks', () => {
    const { clock, seen } = timer(5 * 60_000);
    clock.advance(4 * 60_000 + 29_999);
    expect(seen).toEqual([]);
    clock.advance(1);
    expect(seen).toEqual([30_000]);
    clock.advance(29_999);
    expect(seen).toEqual([30_000]);
    clock.advance(1);
    expect(seen).toEqual([30_000, 'locked']);
  });

  it('activity during the warning ends it at once and counts the full timeout again', () => {
    const { clock, idle, seen } = timer(5 * 60_000);
    clock.advance(4 * 60_000 + 40_000);
    idle.activity();
    expect(seen).toEqual([30_000, null]);
    clock.advance(4 * 60_000 + 29_999);
    expect(seen).toEqual([30_000, null]);
    clock.advance(1);
    expect(seen).toEqual([30_000, null, 30_000]);
    // Activity outside a warning says nothing.
    idle.activity();
    idle.activity();
    expect(seen).toEqual([30_000, null, 30_000, null]);
  });

  it('activity before the warning postpones it', () => {
    const { clock, idle, seen } = timer(5 * 60_000);
    clock.advance(4 * 60_000);
    idle.activity();
    clock.advance(4 * 60_000);
    expect(seen).toEqual([]);
    clock.advance(30_000);
    expect(seen).toEqual([30_000]);
  });

  it('stop() and a restart leave no warning or lock pending from before', () => {
    const { clock, idle, seen } = timer(5 * 60_000);
    clock.advance(4 * 60_000 + 30_000);
    idle.stop();
    expect(clock.pending()).toBe(0);
    idle.start(60_000);
    clock.advance(45_000);
    expect(seen).toEqual([30_000, 15_000]);
    clock.advance(15_000);
    expect(seen).toEqual([30_000, 15_000, 'locked']);
  });

  it('warns a quarter ahead of a short timeout, beyond what throttled input reports (15 s) leave quiet', () => {
    expect(idleWarningMs(5 * 60_000)).toBe(30_000);
    expect(idleWarningMs(2 * 60_000)).toBe(30_000);
    expect(idleWarningMs(60_000)).toBe(15_000);
    expect(idleWarningMs(30_000)).toBe(7_500);
    expect(30_000 - idleWarningMs(30_000)).toBeGreaterThan(15_000);
  });
});
