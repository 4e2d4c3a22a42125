import { describe, expect, it } from 'vitest';
import { backoffMs } from '../../main/backoff';
import { unlockDelayMs } from '../../main/vault/vault';

describe('backoffMs: one exponential backoff for every retry in main/', () => {
  it('doubles from baseMs and stops at maxMs', () => {
    const waits = [0, 1, 2, 3, 4, 5, 6, 7].map((n) => backoffMs(n, { baseMs: 1_000, maxMs: 60_000 }));
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
  });

  it('stops doubling after maxExponent attempts, so a long outage never overflows to Infinity', () => {
    const opts = { baseMs: 1_000, maxMs: Number.MAX_VALUE, maxExponent: 6 };
    expect(backoffMs(6, opts)).toBe(64_000);
    expect(backoffMs(10_000, opts)).toBe(64_000);
    expect(backoffMs(5_000, { baseMs: 1_000, maxMs: 60_000 })).toBe(60_000);
  });

  it('with equal jitter, waits between half the ceiling and the ceiling, as the random source says', () => {
    const opts = (r: number) => ({ baseMs: 1_000, maxMs: 60_000, jitter: 'equal' as const, random: () => r });
    expect(backoffMs(2, opts(0))).toBe(2_000);
    expect(backoffMs(2, opts(0.5))).toBe(3_000);
    expect(backoffMs(2, opts(0.999))).toBeCloseTo(3_998, 0);
    expect(backoffMs(20, opts(0))).toBe(30_000);
  });

  it('without a random source, equal jitter still stays inside [ceiling/2, ceiling)', () => {
    for (let i = 0; i < 200; i++) {
      const w = backoffMs(3, { baseMs: 1_000, maxMs: 60_000, jitter: 'equal' });
      expect(w).toBeGreaterThanOrEqual(4_000);
      expect(w).toBeLessThan(8_000);
    }
  });

  it('keeps the vault wait after wrong passphrases: none, none, then 1 s, 2 s, 4 s … capped at 5 min', () => {
    expect([1, 2, 3, 4, 5].map(unlockDelayMs)).toEqual([0, 1_000, 2_000, 4_000, 8_000]);
    expect(unlockDelayMs(0)).toBe(0);
    expect(unlockDelayMs(10)).toBe(256_000);
    expect(unlockDelayMs(11)).toBe(300_000);
    expect(unlockDelayMs(5_000)).toBe(300_000);
  });
});
