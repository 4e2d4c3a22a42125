/** Helpers to declare channels and events; used only by the contract files. */
import type { z } from 'zod';

export interface ChannelDef<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  input: I;
  output: O;
  /** Answers while the session is locked (vault unlock, profile list, switch user…). */
  whileLocked?: boolean;
  /** Bytes (typed arrays) the input may carry, counted apart from its text: a file (attachments:send). */
  maxBytes?: number;
}

export const channel = <I extends z.ZodType, O extends z.ZodType>(
  input: I,
  output: O,
  opts: { whileLocked?: boolean; maxBytes?: number } = {},
): ChannelDef<I, O> => ({ input, output, ...opts });
