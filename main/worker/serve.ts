/**
 * The worker thread's side of host.ts: runs each request through its handler and sends the
 * answers back, batched per event-loop turn. Errors cross as { code, message } built by the
 * worker's encodeError, which must never put row contents or message text in them.
 */
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
}

export function serveWorker<Ops extends OpMap>(handlers: Handlers<Ops>, opts: ServeOptions): void {
  const port = parentPort;
  if (!port) throw new Error('a worker entry must run in a worker thread');
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
