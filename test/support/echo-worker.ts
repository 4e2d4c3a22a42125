/**
 * A worker entry for test/unit/worker-channel.test.ts: small operations that answer, fail, hang,
 * crash or wait for a graceful close, served through main/worker/serve.ts like the real workers.
 */
import { serveWorker } from '../../main/worker/serve';

export type EchoOps = {
  echo: { args: string; result: string };
  /** Answers after `ms` (lets a later call overtake an earlier one). */
  delay: { args: { value: string; ms: number }; result: string };
  /** Throws an error carrying `code`. */
  fail: { args: string; result: never };
  /** Never answers. */
  hang: { args: null; result: never };
  /** Kills the thread with an uncaught error. */
  crash: { args: null; result: never };
  /** Answers 'closed' when the host closes the channel gracefully. */
  untilClose: { args: null; result: string };
};

const waitingForClose: ((v: string) => void)[] = [];

serveWorker<EchoOps>(
  {
    echo: (v) => v,
    delay: ({ value, ms }) => new Promise((r) => setTimeout(() => r(value), ms)),
    fail: (code) => {
      throw Object.assign(new Error('should not cross'), { code });
    },
    hang: () => new Promise<never>(() => {}),
    crash: () => {
      setImmediate(() => {
        throw new Error('worker crashed');
      });
      return new Promise<never>(() => {});
    },
    untilClose: () => new Promise<string>((r) => waitingForClose.push(r)),
  },
  {
    encodeError: (err) => ({ code: (err as { code?: string }).code ?? 'INTERNAL', message: 'echo worker failed' }),
    onClose: () => {
      for (const r of waitingForClose.splice(0)) r('closed');
    },
  },
);
