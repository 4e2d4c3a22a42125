/**
 * The worker thread's side of host.ts: runs each request through its handler and sends the
 * answers back, batched per event-loop turn. Errors cross as { code, message } built by the
 * worker's encodeError, which must never put row contents or message text in them.
 */
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import type { FromWorker, OpMap, ToWorker, WireError, WireReply, WireRequest } from './protocol';

export type Handlers<Ops extends OpMap> = {
  [K in keyof Ops]: (args: Ops[K]['args']) => Ops[K]['result'] | Promise<Ops[K]['result']>;
};

interface ServeOptions {
  encodeError(err: unknown): WireError;
  /** Settles once the worker can answer; then the host's `ready` resolves (also on failure, so it never waits forever). */
  ready?: Promise<unknown>;
  /** The host asked for a graceful stop: release resources. Answers already due are still sent. */
  onClose?(): void;
  /**
   * Yield the CPU to the app's main thread and the renderer when cores are short (the decrypt
   * pool): see lowerThreadPriority.
   */
  background?: boolean;
}

/**
 * The nice value of a background worker thread (Linux). On a 2-core machine two decrypt workers
 * busy with a catch-up took the core from the main thread: the longest event-loop stalls in the
 * catch-up bench (80–120 ms) had the main thread running for only 30–50 ms of them (its own CPU
 * time from /proc), waiting for a core the rest (issue 13: no stall of 50 ms).
 */
export const BACKGROUND_NICE = 10;

/**
 * Linux schedules each thread apart and setpriority(2) takes a thread id: this thread alone is
 * lowered (its id from /proc/thread-self). Elsewhere setpriority names the whole process, so
 * nothing changes there. Best effort: a thread that cannot be lowered works as before.
 */
function lowerThreadPriority(): void {
  if (process.platform !== 'linux') return;
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const tid = Number(stat.slice(0, stat.indexOf(' ')));
    if (Number.isSafeInteger(tid) && tid > 0 && tid !== process.pid) setPriority(tid, BACKGROUND_NICE);
  } catch {
    // No /proc (a sandbox): the thread keeps the process's priority.
  }
}

export function serveWorker<Ops extends OpMap>(handlers: Handlers<Ops>, opts: ServeOptions): void {
  const port = parentPort;
  if (!port) throw new Error('a worker entry must run in a worker thread');
  if (opts.background) lowerThreadPriority();
  let outbox: WireReply[] = [];
  let closing = false;
  const flush = () => {
    if (outbox.length === 0) return;
    const replies = outbox;
    outbox = [];
    port.postMessage({ kind: 'replies', replies } satisfies FromWorker);
  };
  const reply = (r: WireReply) => {
    if (outbox.push(r) === 1) setImmediate(flush);
  };
  const fail = (id: number, err: unknown) => reply({ id, ok: false, error: opts.encodeError(err) });
  const run = ({ id, op, args }: WireRequest) => {
    const handler = Object.hasOwn(handlers, op) ? (handlers as Record<string, (a: unknown) => unknown>)[op] : undefined;
    if (!handler) return fail(id, new Error('unknown worker operation'));
    let result: unknown;
    try {
      result = handler(args);
    } catch (err) {
      return fail(id, err);
    }
    Promise.resolve(result).then(
      (value) => reply({ id, ok: true, value }),
      (err: unknown) => fail(id, err),
    );
  };

  const up = () => port.postMessage({ kind: 'ready' } satisfies FromWorker);
  Promise.resolve(opts.ready).then(up, up);
  port.on('message', (m: ToWorker) => {
    if (closing) return;
    if (m.kind === 'requests') {
      for (const r of m.requests) run(r);
      return;
    }
    closing = true;
    opts.onClose?.();
    // After the answers that onClose settled (their promises resolve before this runs).
    setImmediate(() => {
      flush();
      port.close();
    });
  });
}
