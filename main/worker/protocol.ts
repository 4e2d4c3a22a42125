/**
 * What crosses a worker thread's port, both ways (host.ts ⇄ serve.ts). Plain data only: it goes
 * through the structured clone. Each worker declares its operations once as an OpMap, which
 * types both the host's call() and the worker's handlers.
 */

/** Operation name → its argument and its result. Declare with `type`, not `interface`. */
export type OpMap = Record<string, { args: unknown; result: unknown }>;

/** A failure as it crosses the port: a code the host maps back to an error, never row contents or message text. */
export interface WireError {
  code: string;
  message: string;
}

export interface WireRequest {
  id: number;
  op: string;
  args: unknown;
}

export type WireReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError };

/**
 * Host → worker. Requests travel in batches (one postMessage per event-loop turn: one per
 * request costs more than a small decrypt). 'close' asks for a graceful stop.
 */
export type ToWorker = { kind: 'requests'; requests: WireRequest[] } | { kind: 'close' };

/** Worker → host. 'ready' comes once, when the worker can answer (e.g. its key is loaded). */
export type FromWorker = { kind: 'ready' } | { kind: 'replies'; replies: WireReply[] };
