/**
 * Fuzzing the IPC router (main/ipc/router.ts) with what a compromised renderer can send: any
 * channel name, any structured-clone value (NaN, Infinity, BigInt, Map, typed arrays, cycles,
 * `__proto__` keys, deep nesting, huge strings), locked or not, whatever the handler then does.
 * The answer is always a well-formed Result with a code from the closed list; a handler runs
 * only for input its schema accepts; nothing reaches Object.prototype; errors never echo input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { channelNames, channels, isChannelName, type ChannelName } from '../../common/ipc-contract';
import { AppError, errorCodes, ipcErrorSchema, type ErrorCode } from '../../common/result';
import { createRouter, inspectPayload, type HandlerMap } from '../../main/ipc/router';
import { silentLogger } from '../../main/log';
import { fuzz, hostileWords } from './fuzz-support';

/** Mutation seeds: a few valid inputs with strings, numbers, enums, literals and nested objects. */
const seeds: Partial<Record<ChannelName, unknown>> = {
  'app:info': null,
  'vault:unlock': { profileId: 'abcdef12-3456', passphrase: 'correct horse battery' },
  'vault:createProfile': {
    jid: 'alice@clinic.example',
    displayName: 'Alice',
    xmppPassword: 'pw',
    passphrase: 'correct horse battery',
    server: { host: 'xmpp.clinic.example', port: 5222 },
    policyAcknowledged: true,
  },
  'vault:lock': { reason: 'manual' },
  'conversations:list': { cursor: null, limit: 10 },
  'messages:send': { conversationId: 'c1', body: 'hello' },
  'messages:search': { query: 'x', cursor: null },
  'contacts:verify': { jid: 'alice@clinic.example', fingerprint: 'A'.repeat(40) },
  'settings:update': { theme: 'dark', lockTimeoutMinutes: 5 },
  'audit:list': { before: null },
};
const seedChannels = Object.keys(seeds) as ChannelName[];

const resultSchema = z.union([
  z.strictObject({ ok: z.literal(true), value: z.unknown() }),
  z.strictObject({ ok: z.literal(false), error: ipcErrorSchema.strict() }),
]);

// --- what the renderer may send ----------------------------------------------------------------

const channelArb: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.constantFrom(...channelNames), weight: 6 },
  fc.constantFrom(
    ...hostileWords,
    'app:',
    ':',
    'APP:INFO',
    'app:info ',
    ' app:info',
    'app:info\u0000',
    'vault:unlock/..',
  ),
  fc.string({ maxLength: 30 }),
  fc.anything({ maxDepth: 1 }),
);

const cloneable = {
  withBigInt: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withTypedArray: true,
  withSparseArray: true,
  withNullPrototype: true,
  withBoxedValues: true,
  maxDepth: 4,
} as const;
const hostileKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype'),
  fc.constantFrom(...hostileWords),
  fc.string({ maxLength: 8 }),
);
const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(NaN, Infinity, -Infinity, -0, 2 ** 53, -1, 1e308, 0.5, '', true, null, undefined),
  fc.anything(cloneable),
  fc.nat({ max: 300_000 }).map((n) => 'x'.repeat(n)),
);

/** A valid input with one part broken: a field replaced, dropped or added, or the whole wrapped. */
const mutatedSeed = fc
  .tuple(
    fc.constantFrom(...seedChannels),
    fc.nat(),
    hostileKey,
    oddValue,
    fc.constantFrom('keep', 'replace', 'drop', 'add', 'add', 'json-proto', 'wrap'),
  )
  .map(([channel, pick, key, value, how]) => {
    const seed = seeds[channel];
    if (seed === null || typeof seed !== 'object') return { channel, payload: how === 'wrap' ? [seed] : value };
    const fields = Object.keys(seed);
    const field = fields[pick % fields.length]!;
    const copy: Record<string, unknown> = { ...(seed as Record<string, unknown>) };
    if (how === 'keep') return { channel, payload: copy };
    if (how === 'replace') copy[field] = value;
    else if (how === 'drop') delete copy[field];
    // defineProperty, as structured clone and JSON.parse do: an own key even when it is __proto__
    else if (how === 'add')
      Object.defineProperty(copy, key, { value, enumerable: true, configurable: true, writable: true });
    else if (how === 'json-proto')
      return {
        channel,
        payload: JSON.parse(
          `{"${key === '__proto__' ? key : 'constructor'}":{"polluted":true},${JSON.stringify(copy).slice(1)}`,
        ) as unknown,
      };
    else return { channel, payload: [copy] };
    return { channel, payload: copy };
  });

function cyclic(width: number): unknown {
  const o: Record<string, unknown> = {};
  for (let i = 0; i < width; i++) o[`k${i}`] = o;
  return o;
}
const nested = fc
  .tuple(fc.integer({ min: 1, max: 5_000 }), fc.boolean())
  .map(
    ([depth, arrays]) =>
      JSON.parse((arrays ? '[' : '{"a":').repeat(depth) + '1' + (arrays ? ']' : '}').repeat(depth)) as unknown,
  );

const payloadArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  oddValue,
  nested,
  fc.integer({ min: 1, max: 8 }).map(cyclic),
);
/** Mostly unlocked, so that most cases get past the lock to the checks behind it. */
const lockedArb = fc.constantFrom(false, false, false, true);

/** What the handler does once called: answer null or anything, or throw a typed or untyped error. */
type Behaviour =
  { kind: 'return'; value: unknown } | { kind: 'app-error'; code: ErrorCode } | { kind: 'throw'; value: unknown };
const behaviourArb: fc.Arbitrary<Behaviour> = fc.oneof(
  fc.constant({ kind: 'return' as const, value: null }),
  fc.anything(cloneable).map((value) => ({ kind: 'return' as const, value })),
  fc.constantFrom(...errorCodes).map((code) => ({ kind: 'app-error' as const, code })),
  fc.anything({ maxDepth: 1 }).map((value) => ({ kind: 'throw' as const, value })),
);

// --- the router under test, with recording handlers --------------------------------------------

const calls: { channel: ChannelName; input: unknown }[] = [];
let behaviour: Behaviour = { kind: 'return', value: null };
let locked = false;
const handlers = Object.fromEntries(
  channelNames.map((channel) => [
    channel,
    (input: unknown) => {
      calls.push({ channel, input });
      if (behaviour.kind === 'app-error') throw new AppError(behaviour.code, 'refused');
      if (behaviour.kind === 'throw') throw behaviour.value;
      return behaviour.value;
    },
  ]),
) as unknown as HandlerMap;
const router = createRouter({ handlers, isLocked: () => locked, logger: silentLogger });

/** The answer the contract promises, worked out from the contract itself (ARCHITECTURE.md §3). */
function expected(channel: unknown, payload: unknown): { code: ErrorCode | 'ok'; reachesHandler: boolean } {
  if (!isChannelName(channel)) return { code: 'UNKNOWN_CHANNEL', reachesHandler: false };
  const def = channels[channel];
  if (locked && !('whileLocked' in def && def.whileLocked)) return { code: 'LOCKED', reachesHandler: false };
  if (inspectPayload(payload) !== null || !def.input.safeParse(payload).success)
    return { code: 'BAD_INPUT', reachesHandler: false };
  if (behaviour.kind === 'app-error') return { code: behaviour.code, reachesHandler: true };
  if (behaviour.kind === 'throw') return { code: 'INTERNAL', reachesHandler: true };
  const valid = def.output.safeParse(behaviour.value === undefined ? null : behaviour.value).success;
  return { code: valid ? 'ok' : 'INTERNAL', reachesHandler: true };
}

const prototypeShape = () => [
  Object.getOwnPropertyNames(Object.prototype).sort().join(),
  Object.getOwnPropertyNames(Array.prototype).sort().join(),
];
const cleanPrototypes = prototypeShape();

async function dispatchAndCheck(channel: unknown, payload: unknown, isLocked: boolean, does: Behaviour): Promise<void> {
  calls.length = 0;
  locked = isLocked;
  behaviour = does;
  const want = expected(channel, payload);
  const answer = await router.dispatch(channel, payload);
  expect(resultSchema.safeParse(answer).success).toBe(true);
  expect(answer.ok ? 'ok' : answer.error.code).toBe(want.code);
  // A handler ran exactly when the input reached it, on its own channel, with input free of forbidden keys.
  expect(calls.map((c) => c.channel)).toEqual(want.reachesHandler ? [channel] : []);
  if (calls[0]) expect(inspectPayload(calls[0].input)).toBeNull();
  expect(prototypeShape()).toEqual(cleanPrototypes);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}

describe('fuzz: IPC router', () => {
  it('the mutation seeds are valid inputs (the control that makes their mutations meaningful)', () => {
    for (const channel of seedChannels)
      expect(channels[channel].input.safeParse(seeds[channel]).success, channel).toBe(true);
  });

  fuzz(
    'any channel and payload, locked or not, whatever the handler does: the contract answer, no stray handler, no pollution',
    fc.asyncProperty(channelArb, payloadArb, lockedArb, behaviourArb, dispatchAndCheck),
    { numRuns: 300 },
  );

  fuzz(
    'a valid input with one part broken reaches its handler only if the schema still accepts it',
    fc.asyncProperty(mutatedSeed, lockedArb, behaviourArb, ({ channel, payload }, isLocked, does) =>
      dispatchAndCheck(channel, payload, isLocked, does),
    ),
    { numRuns: 300 },
  );

  fuzz(
    'an error never echoes a value from the payload',
    fc.asyncProperty(mutatedSeed, fc.string({ minLength: 1, maxLength: 20 }), async ({ channel, payload }, secret) => {
      // Mark every string in the payload; none of the marks may come back.
      const marked = JSON.parse(
        JSON.stringify(payload ?? null, (_k, v: unknown) =>
          typeof v === 'string' ? `SECRET\u2063${secret}` : typeof v === 'bigint' ? Number(v) : v,
        ),
      ) as unknown;
      calls.length = 0;
      locked = false;
      behaviour = { kind: 'return', value: null };
      const answer = await router.dispatch(channel, marked);
      if (!answer.ok) expect(JSON.stringify(answer)).not.toContain('SECRET\u2063');
    }),
    { numRuns: 200 },
  );
});
