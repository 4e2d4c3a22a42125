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

// The policy changed while the app runs (issue 14 item 3): the new timeout counts from the last
// activity, not from the change.
describe('idle retime', () => {
  it('a shorter timeout than the time already idle locks at once', () => {
    const { clock, idle, seen } = timer(30 * 60_000);
    clock.advance(3 * 60_000);
    idle.retime(2 * 60_000);
    expect(seen).toEqual(['locked']);
  });

  it('a shorter timeout counts from the last activity: the warning and the lock come that much sooner', () => {
    const { clock, idle, seen } = timer(30 * 60_000);
    clock.advance(60_000);
    idle.activity();
    clock.advance(30_000); // 30 s idle
    idle.retime(2 * 60_000); // warns at 90 s idle, locks at 120 s
    expect(seen).toEqual([]);
    clock.advance(60_000 - 1);
    expect(seen).toEqual([]);
    clock.advance(1);
    expect(seen).toEqual([30_000]);
    clock.advance(30_000);
    expect(seen).toEqual([30_000, 'locked']);
  });

  it('a longer timeout ends a warning that is showing and postpones the lock', () => {
    const { clock, idle, seen } = timer(2 * 60_000);
    clock.advance(100_000); // warned at 90 s: 30 s left
    expect(seen).toEqual([30_000]);
    idle.retime(10 * 60_000);
    expect(seen).toEqual([30_000, null]);
    clock.advance(5 * 60_000);
    expect(seen).toEqual([30_000, null]);
    clock.advance(10 * 60_000);
    expect(seen).toEqual([30_000, null, 30_000, 'locked']);
  });

  it('does nothing while stopped (locked): no timer is armed by a policy change', () => {
    const { clock, idle, seen } = timer(5 * 60_000);
    idle.stop();
    idle.retime(60_000);
    expect(clock.pending()).toBe(0);
    clock.advance(10 * 60_000);
    expect(seen).toEqual([]);
  });
});
