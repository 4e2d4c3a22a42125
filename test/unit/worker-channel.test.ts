import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { workerEntry, type WorkerEntry } from '../../main/worker/entry';
import { startWorkerChannel, type WorkerChannel } from '../../main/worker/host';
import type { EchoOps } from '../support/echo-worker';

const echoEntry: WorkerEntry = { file: resolve(__dirname, '../support/echo-worker.ts'), tsx: true };

class Mapped extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const open: WorkerChannel<EchoOps>[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.terminate()));
});

function start(entry = echoEntry, onStop: (cause: Error | null) => void = () => {}): WorkerChannel<EchoOps> {
  const channel = startWorkerChannel<EchoOps>({
    entry,
    workerData: null,
    decodeError: (e) => new Mapped(e.code, e.message),
    stopError: (cause) => new Error(cause ? `stopped: ${cause.message}` : 'exited'),
    onStop,
  });
  open.push(channel);
  return channel;
}

describe('worker entry location', () => {
  it('takes the .ts sibling through tsx from sources and the .cjs sibling beside a bundle', () => {
    const src = pathToFileURL(join('/app', 'main', 'crypto', 'pool.ts')).href;
    expect(workerEntry('decrypt-worker', src, {})).toEqual({
      file: join('/app', 'main', 'crypto', 'decrypt-worker.ts'),
      tsx: true,
    });
    // A test run's prebuilt bundles (vitest.config.ts) stand in for the sources' .ts.
    expect(workerEntry('decrypt-worker', src, { CLINIC_WORKER_DIR: '/built' })).toEqual({
      file: join('/built', 'decrypt-worker.cjs'),
      tsx: false,
    });
    const bundle = pathToFileURL(join('/app', 'dist', 'main', 'index.cjs')).href;
    expect(workerEntry('store-worker', bundle, { CLINIC_WORKER_DIR: '/built' })).toEqual({
      file: join('/app', 'dist', 'main', 'store-worker.cjs'),
      tsx: false,
    });
    expect(workerEntry('store-worker', join('/app', 'dist', 'main', 'index.cjs')).file).toBe(
      join('/app', 'dist', 'main', 'store-worker.cjs'),
    );
  });
});

// Each case starts a worker thread through tsx: seconds on a loaded machine, hence the timeout.
describe('worker channel', { timeout: 30_000 }, () => {
  it('answers each call by its id, results and mapped errors alike, when answers come back out of order', async () => {
    const c = start();
    await c.ready;
    const slow = c.call('delay', { value: 'first', ms: 50 });
    const failed = c.call('fail', 'E_CODE');
    const fast = c.call('echo', 'second');
    expect(c.inFlight).toBe(3);
    await expect(fast).resolves.toBe('second');
    await expect(failed).rejects.toMatchObject({ constructor: Mapped, code: 'E_CODE', message: 'echo worker failed' });
    await expect(slow).resolves.toBe('first');
    expect(c.inFlight).toBe(0);
    expect(c.dead()).toBeNull();
  });

  it('fails a call to an operation the worker does not have, and only that call', async () => {
    const c = start();
    await expect(c.call('nope' as 'echo', 'x')).rejects.toMatchObject({ code: 'INTERNAL' });
    await expect(c.call('echo', 'still here')).resolves.toBe('still here');
  });

  it('fails the calls a crashed thread left unanswered, reports the crash once, and refuses later calls', async () => {
    const stops: (Error | null)[] = [];
    const c = start(echoEntry, (cause) => stops.push(cause));
    const hanging = c.call('hang', null);
    const crashing = c.call('crash', null);
    await expect(hanging).rejects.toThrow('stopped: worker crashed');
    await expect(crashing).rejects.toThrow('stopped: worker crashed');
    expect(stops.map((e) => e?.message)).toEqual(['worker crashed']);
    await expect(c.call('echo', 'x')).rejects.toThrow('stopped: worker crashed');
    expect(c.dead()?.message).toBe('stopped: worker crashed');
  });

  it('reports an entry that cannot load as a stop with its cause, never as a throw or a hang', async () => {
    const stops: (Error | null)[] = [];
    const c = start({ file: '/nonexistent/echo-worker.cjs', tsx: false }, (cause) => stops.push(cause));
    await expect(c.call('echo', 'x')).rejects.toThrow(/^stopped: /);
    expect(stops).toHaveLength(1);
    expect(stops[0]).toBeInstanceOf(Error);
  });

  it('closes gracefully: the worker releases what it holds, answers already due still arrive, then the thread exits', async () => {
    const c = start();
    const waiting = c.call('untilClose', null);
    await c.ready;
    await c.close();
    await expect(waiting).resolves.toBe('closed');
    expect(c.dead()?.message).toBe('exited');
    await expect(c.call('echo', 'x')).rejects.toThrow('exited');
  });

  it('terminates at once: unanswered calls fail as stopped without a cause', async () => {
    const stops: (Error | null)[] = [];
    const c = start(echoEntry, (cause) => stops.push(cause));
    const hanging = c.call('hang', null);
    await c.ready;
    await c.terminate();
    await expect(hanging).rejects.toThrow('exited');
    expect(stops).toEqual([null]);
  });
});
