/**
 * Builds `window.clinic` from the contract. Used by preload/ (Electron IPC) and by the test
 * harness's browser shim (loopback WebSocket), so the renderer cannot tell them apart.
 * Functions only: no transport object, no environment, leaks out.
 */
import { CHANNEL_NAMES, EVENT_NAMES } from './contract/names';
import type { ChannelInput, ChannelName, ChannelOutput, EventName, EventPayload } from './ipc-contract';
import type { Result } from './result';

// Names only, no schemas: this module is bundled into the sandboxed preload (see contract/names.ts).
const eventNameSet: ReadonlySet<string> = new Set(EVENT_NAMES);
const isEventName = (name: unknown): name is EventName => typeof name === 'string' && eventNameSet.has(name);

export interface ClinicTransport {
  invoke(channel: ChannelName, payload: unknown): Promise<Result<unknown>>;
  /** Subscribes to every event; returns an unsubscribe function. */
  subscribe(listener: (event: string, payload: unknown) => void): () => void;
}

type Namespace<C extends string> = C extends `${infer N}:${string}` ? N : never;

export type ClinicApi = {
  [N in Namespace<ChannelName>]: {
    [C in ChannelName as C extends `${N}:${infer M}` ? M : never]: (
      ...args: ChannelInput<C> extends null ? [] : [input: ChannelInput<C>]
    ) => Promise<Result<ChannelOutput<C>>>;
  };
} & {
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
};

export function createClinicApi(transport: ClinicTransport): ClinicApi {
  const api: Record<string, Record<string, (input?: unknown) => Promise<Result<unknown>>>> = {};
  for (const name of CHANNEL_NAMES) {
    const [ns, method] = name.split(':') as [string, string];
    const bucket = (api[ns] ??= {});
    bucket[method] = (input?: unknown) => transport.invoke(name, input === undefined ? null : input);
  }
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  let unsubscribe: (() => void) | null = null;
  const on = (event: EventName, listener: (payload: never) => void): (() => void) => {
    if (!isEventName(event)) throw new Error(`unknown event ${String(event)}`);
    if (!unsubscribe) {
      unsubscribe = transport.subscribe((name, payload) => {
        for (const l of listeners.get(name) ?? []) l(payload);
      });
    }
    const set = listeners.get(event) ?? new Set();
    listeners.set(event, set);
    const fn = listener as (payload: unknown) => void;
    set.add(fn);
    return () => {
      set.delete(fn);
    };
  };
  for (const ns of Object.values(api)) Object.freeze(ns);
  return Object.freeze({ ...api, on }) as unknown as ClinicApi;
}
