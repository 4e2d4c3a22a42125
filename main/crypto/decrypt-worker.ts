/**
 * Worker-thread side of the decrypt pool (catch-up, PROTOCOL.md "Speed"). Loads our
 * identity once, parses each sender key once, and runs many decrypts concurrently (the
 * curve operations go to libuv's thread pool, so one worker overlaps its own jobs too).
 * Bundled builds ship this as dist/main/decrypt-worker.cjs (see worker-path.ts).
 * Never logs: only reject reasons and results go back to the pool.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SigncryptRejectedError } from './errors';
import { loadIdentity, rehydrateContactKey, type ContactKey } from './keys';
import { openSigncrypt } from './signcrypt';
import type { WorkerInit, WorkerJob, WorkerReply } from './decrypt-protocol';

const port = parentPort;
if (!port) throw new Error('decrypt-worker must run in a worker thread');
const init = workerData as WorkerInit;
const identity = loadIdentity(init.armoredSecretKey);
// First message = "up and holding the key" (DecryptPool.ready()).
void identity.then(
  () => port.postMessage([]),
  () => port.postMessage([]), // jobs will answer 'internal'; the pool must not wait forever
);
const keys = new Map<string, Promise<ContactKey>>();

async function handle(job: WorkerJob): Promise<WorkerReply> {
  try {
    const cacheKey = `${job.senderJid} ${job.senderFingerprint}`;
    let key = keys.get(cacheKey);
    if (!key) {
      if (!job.senderBinary) return { id: job.id, ok: false, internal: true };
      key = rehydrateContactKey(job.senderJid, job.senderBinary, job.senderFingerprint);
      keys.set(cacheKey, key);
      key.catch(() => keys.delete(cacheKey)); // never cache a failure
    }
    const r = await openSigncrypt({
      identity: await identity,
      senderKey: await key,
      base64: job.base64,
      ourJid: job.ourJid,
      ...(job.delayStamp !== undefined ? { delayStamp: new Date(job.delayStamp) } : {}),
      now: new Date(job.now),
      limits: init.limits,
    });
    return {
      id: job.id,
      ok: true,
      body: r.body,
      timestamp: r.timestamp.getTime(),
      to: r.to,
      senderFingerprint: r.senderFingerprint,
      contentDigest: r.contentDigest,
    };
  } catch (err) {
    if (err instanceof SigncryptRejectedError) return { id: job.id, ok: false, reason: err.reason };
    return { id: job.id, ok: false, internal: true };
  }
}

// Replies are batched per event-loop turn: one postMessage per job costs more than a small decrypt.
let outbox: WorkerReply[] = [];
const flush = () => {
  const batch = outbox;
  outbox = [];
  port.postMessage(batch);
};
port.on('message', (batch: WorkerJob[]) => {
  for (const job of batch) {
    void handle(job).then((reply) => {
      if (outbox.push(reply) === 1) setImmediate(flush);
    });
  }
});
