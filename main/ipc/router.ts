/**
 * Transport-agnostic IPC router (ARCHITECTURE.md §3). Dispatches through an explicit handler
 * map, validates input and output against the contract, and answers a Result. It never calls
 * a method by a name the renderer supplies: the channel name only selects a map entry.
 */
import {
  channels,
  isChannelName,
  type ChannelName,
  type ChannelOutput,
  type ChannelParsedInput,
} from '../../common/ipc-contract';
import { AppError, fail, ok, type Result } from '../../common/result';
import { errorName, type Logger } from '../log';

export type Handler<C extends ChannelName> = (
  input: ChannelParsedInput<C>,
) => ChannelOutput<C> | Promise<ChannelOutput<C>>;

export type HandlerMap = { [C in ChannelName]: Handler<C> };

export interface RouterOptions {
  handlers: HandlerMap;
  isLocked: () => boolean;
  logger: Logger;
}

export interface Router {
  dispatch(channel: unknown, payload: unknown): Promise<Result<unknown>>;
}

export function createRouter({ handlers, isLocked, logger }: RouterOptions): Router {
  for (const name of Object.keys(channels)) {
    if (typeof handlers[name as ChannelName] !== 'function') throw new Error(`no handler for channel ${name}`);
  }
  return {
    async dispatch(channel, payload) {
      if (!isChannelName(channel)) return fail('UNKNOWN_CHANNEL', 'Unknown channel.');
      const def = channels[channel];
      if (isLocked() && !('whileLocked' in def && def.whileLocked)) {
        return fail('LOCKED', 'The session is locked.');
      }
      const shape = inspectPayload(payload, 'maxBytes' in def ? def.maxBytes : undefined);
      if (shape) return fail('BAD_INPUT', `Invalid input for ${channel}: ${shape}`);
      const parsed = def.input.safeParse(payload);
      if (!parsed.success) {
        // Issue paths and messages only; never echo the payload (it may hold PHI or a passphrase).
        const detail = parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ');
        return fail('BAD_INPUT', `Invalid input for ${channel}: ${detail}`);
      }
      let value: unknown;
      try {
        const handler = handlers[channel] as (input: unknown) => unknown;
        value = await handler(parsed.data);
      } catch (err) {
        if (err instanceof AppError) return fail(err.code, err.message, err.details);
        logger.error('ipc handler failed', { channel, error: errorName(err) });
        return fail('INTERNAL', 'Something went wrong. The error was logged.');
      }
      const out = def.output.safeParse(value === undefined ? null : value);
      if (!out.success) {
        logger.error('ipc handler returned an invalid value', { channel });
        return fail('INTERNAL', 'Something went wrong. The error was logged.');
      }
      return ok(out.data);
    },
  };
}

/** Far above any channel's legitimate input (the largest is an 8000-character message). */
const MAX_PAYLOAD_UNITS = 256 * 1024;
const MAX_DEPTH = 16;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Checks the raw payload before zod sees it: zod strips unknown keys, so an oversized or
 * prototype-polluting extra field would otherwise pass silently. Returns the problem, or null.
 * Bytes (typed arrays) count like text unless the channel allows `maxBytes` of them (a file).
 */
export function inspectPayload(payload: unknown, maxBytes?: number): string | null {
  let units = 0;
  let bytes = 0;
  const stack: [unknown, number][] = [[payload, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (depth > MAX_DEPTH) return 'input is nested too deeply';
    if (typeof value === 'string') units += value.length;
    else if (ArrayBuffer.isView(value)) {
      if (maxBytes === undefined) units += value.byteLength;
      else if ((bytes += value.byteLength) > maxBytes) return 'input is too large';
    } else if (value !== null && typeof value === 'object') {
      for (const key of Reflect.ownKeys(value)) {
        if (typeof key === 'string' && FORBIDDEN_KEYS.has(key)) return `forbidden key ${key}`;
        units += typeof key === 'string' ? key.length : 1;
        stack.push([(value as Record<PropertyKey, unknown>)[key], depth + 1]);
      }
    } else units += 1;
    if (units > MAX_PAYLOAD_UNITS) return 'input is too large';
  }
  return null;
}
