/**
 * Worker-thread side of the decrypt pool (catch-up, PROTOCOL.md "Speed"). Loads our
 * identity once, parses each sender key once, and runs many decrypts concurrently (the
 * curve operations go to libuv's thread pool, so one worker overlaps its own jobs too).
 * Bundled builds ship this as dist/main/decrypt-worker.cjs (see main/worker/entry.ts).
 * Never logs: only reject reasons and results go back to the pool.
 */
import { workerData } from 'node:worker_threads';
import { serveWorker } from '../worker/serve';
import { SigncryptRejectedError } from './errors';
import { loadIdentity, rehydrateContactKey, type ContactKey } from './keys';
import { openSigncrypt } from './signcrypt';
import { INTERNAL, type DecryptOps, type OpenedWire, type WorkerInit, type WorkerJob } from './decrypt-protocol';

const init = workerData as WorkerInit;
const identity = loadIdentity(init.armoredSecretKey);
const keys = new Map<string, Promise<ContactKey>>();

async function open(job: WorkerJob): Promise<OpenedWire> {
  const cacheKey = `${job.senderJid} ${job.senderFingerprint}`;
  let key = keys.get(cacheKey);
  if (!key) {
    // The pool sends a key once per worker; it resends after an 'internal' answer.
    if (!job.senderBinary) throw new Error('sender key not sent');
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
    body: r.body,
    replyTo: r.replyTo,
    urgent: r.urgent,
    change: r.change,
    attachment: r.attachment,
    mentions: r.mentions,
    timestamp: r.timestamp.getTime(),
    to: r.to,
    senderFingerprint: r.senderFingerprint,
    contentDigest: r.contentDigest,
  };
}

serveWorker<DecryptOps>(
  { open },
  {
    // Decrypting a catch-up must not take the core from the main thread (serve.ts).
    background: true,
    // Only the reject reason crosses: never text or key material.
    encodeError: (err) =>
      err instanceof SigncryptRejectedError
        ? { code: err.reason, message: 'rejected' }
        : { code: INTERNAL, message: 'decrypt worker failed' },
    // "Up and holding the key" (DecryptPool.ready()); also on failure: jobs then answer 'internal'.
    ready: identity,
  },
);
