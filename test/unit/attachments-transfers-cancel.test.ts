// Transfers under way (main/xmpp/attachment-transfers.ts createTransfers): cancel(key) stops one
// and turns whatever the aborted step threw into TransferError('cancelled'); stop() stops all of
// them and leaves their own errors as they are. Pure logic: the "transfer" waits on its signal.
import { describe, expect, it } from 'vitest';
import { TransferError } from '../../main/attachments/transfer-error';
import { createTransfers } from '../../main/xmpp/attachment-transfers';

/** A transfer that runs until its signal aborts, then fails as a dropped connection would. */
const untilAborted = (signal: AbortSignal) =>
  new Promise<never>((_resolve, reject) =>
    signal.addEventListener('abort', () => reject(new TransferError('interrupted')), { once: true }),
  );

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e,
  );

describe('cancelling one transfer', () => {
  it('cancel(key) stops that transfer only, as cancelled', async () => {
    const t = createTransfers();
    const a = outcome(t.tracked(untilAborted, 'a'));
    let bDone = false;
    const b = t.tracked(async (signal) => {
      await new Promise((r) => setTimeout(r, 20));
      bDone = !signal.aborted;
      return 'b finished';
    }, 'b');
    expect(t.cancel('a')).toBe(true);
    const err = await a;
    expect(err).toBeInstanceOf(TransferError);
    expect((err as TransferError).reason).toBe('cancelled');
    expect(await b).toBe('b finished');
    expect(bDone).toBe(true);
  });

  it('answers false for a key with nothing under way: unknown, finished, or without a key', async () => {
    const t = createTransfers();
    expect(t.cancel('nothing')).toBe(false);
    await t.tracked(() => Promise.resolve(1), 'done');
    expect(t.cancel('done')).toBe(false);
    const unkeyed = outcome(t.tracked(untilAborted));
    expect(t.cancel('undefined')).toBe(false);
    t.stop();
    expect(((await unkeyed) as TransferError).reason).toBe('interrupted');
  });

  it('stop() aborts every transfer and keeps their own errors (a lock is not a cancel)', async () => {
    const t = createTransfers();
    const a = outcome(t.tracked(untilAborted, 'a'));
    const b = outcome(t.tracked(untilAborted));
    t.stop();
    for (const e of [await a, await b]) expect((e as TransferError).reason).toBe('interrupted');
    expect(t.cancel('a')).toBe(false);
  });

  it('a second transfer under the same key is the one cancel reaches', async () => {
    const t = createTransfers();
    const first = t.tracked(() => Promise.resolve('first'), 'k');
    expect(await first).toBe('first');
    const second = outcome(t.tracked(untilAborted, 'k'));
    expect(t.cancel('k')).toBe(true);
    expect(((await second) as TransferError).reason).toBe('cancelled');
  });
});
