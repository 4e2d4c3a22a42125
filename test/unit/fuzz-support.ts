/**
 * Shared harness for the property-based fuzz tests (issue 10 item 14). Every property runs
 * twice: at a fixed seed (the same cases on every CI run, so a regression is reproducible) and
 * at a fresh random seed (new cases each run). The random seed is printed once per file; a
 * failing `fc.assert` also names the seed and shrink path in its error. Replay a failure with
 * `FUZZ_SEED=<seed> npx vitest run --project unit test/unit/fuzz-<file>.test.ts`.
 */
import fc, { type IAsyncProperty, type IProperty } from 'fast-check';
import { randomInt } from 'node:crypto';
import { it } from 'vitest';

export const FIXED_SEED = 42;

function pickRandomSeed(): number {
  const fromEnv = process.env.FUZZ_SEED;
  if (fromEnv !== undefined && /^-?\d+$/.test(fromEnv)) return Number(fromEnv);
  return randomInt(0x7fffffff);
}

export const RANDOM_SEED = pickRandomSeed();
// The seed only: fuzz inputs are synthetic, but nothing else belongs in the test log.
console.log(`FUZZ_SEED=${RANDOM_SEED}`);

export interface FuzzOptions {
  /** Cases per seed; the property runs this many times at each of the two seeds. */
  numRuns: number;
  /**
   * Per-case budget for async properties (fast-check's timeout plugin fails the case and
   * reports its seed). Generous on purpose: it exists to turn a hang into a failure with a
   * replayable seed, not to measure speed. Synchronous properties cannot be interrupted; they
   * are kept from hanging by the size bounds of their generators instead.
   */
  caseTimeoutMs?: number;
}

/** Vitest's own limit for one property run (all its cases): a backstop, not a speed check. */
const TEST_TIMEOUT_MS = 120_000;

export function fuzz<Ts extends [unknown, ...unknown[]]>(
  name: string,
  property: IProperty<Ts> | IAsyncProperty<Ts>,
  { numRuns, caseTimeoutMs = 10_000 }: FuzzOptions,
): void {
  for (const [label, seed] of [
    ['fixed seed', FIXED_SEED],
    ['random seed', RANDOM_SEED],
  ] as const) {
    it(
      `${name} (${label})`,
      async () => {
        await fc.assert(property, { seed, numRuns, plugins: [fc.timeout(caseTimeoutMs)] });
      },
      TEST_TIMEOUT_MS,
    );
  }
}

// eslint-disable-next-line no-control-regex
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/** Any Unicode text (full code point range) that XML 1.0 can carry. */
export const xmlSafeString = (maxLength: number): fc.Arbitrary<string> =>
  fc.string({ unit: 'binary', maxLength }).map((s) => s.replace(NOT_XML_CHAR, ''));

/**
 * Names that have bitten JavaScript parsers before: keys that live on Object.prototype, and
 * strings that look like markup. Mixed into generators so the fuzzer does not have to find
 * them by chance.
 */
export const hostileWords = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  '__defineGetter__',
  'xmlns',
  'xml:lang',
  'jid',
  'stamp',
] as const;
