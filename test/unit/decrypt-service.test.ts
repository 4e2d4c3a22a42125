import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signcrypt, SigncryptRejectedError, type DecryptJob } from '../../main/crypto/index';
import { silentLogger } from '../../main/log';
import { createDecryptService, type DecryptService } from '../../main/xmpp/decrypt';
import { makeParties, type Party } from '../support/crypto-fixtures';

let alice: Party, bob: Party, mallory: Party;
const now = new Date('2026-11-28T10:00:00Z');
const services: DecryptService[] = [];

beforeAll(async () => {
  [alice, bob, mallory] = await makeParties('alice@clinic.test', 'bob@clinic.test', 'mallory@clinic.test');
});
afterAll(async () => {
  await Promise.all(services.map((s) => s.close()));
});

async function job(body: string, from: Party = alice): Promise<DecryptJob> {
  const base64 = await signcrypt({ identity: from.identity, recipients: [bob.contact], to: bob.jid, body, now });
  return { senderKey: alice.contact, base64, ourJid: bob.jid, now };
}

/** Bob's decrypt service with its worker pool started; `pooled` counts the jobs the pool answered. */
async function startedService() {
  let pooled = 0;
  const service = createDecryptService({
    identity: () => bob.identity,
    logger: silentLogger,
    poolMetrics: { job: () => void (pooled += 1), worker: () => undefined },
  });
  services.push(service);
  await service.start();
  return { service, pooled: () => pooled };
}

describe('decrypt service', () => {
  it('decrypts a live message on this thread, never behind the catch-up jobs in the worker pool (issue 13 item 4)', async () => {
    const { service, pooled } = await startedService();
    const catchUp = await Promise.all(Array.from({ length: 24 }, (_, i) => job(`archived ${i}`)));
    const live = await job('live');
    const opened = await Promise.all([
      ...catchUp.slice(0, 12).map((j) => service.decrypt(j)),
      service.decrypt({ ...live, live: true }),
      ...catchUp.slice(12).map((j) => service.decrypt(j)),
    ]);
    expect(opened.map((o) => o.body)).toEqual([
      ...Array.from({ length: 12 }, (_, i) => `archived ${i}`),
      'live',
      ...Array.from({ length: 12 }, (_, i) => `archived ${i + 12}`),
    ]);
    // Every catch-up job went through the pool; the live one did not.
    expect(pooled()).toBe(24);
  });

  it('refuses a forged live message on this thread as the pool refuses a forged archived one', async () => {
    const { service, pooled } = await startedService();
    const forged = await job('forged', mallory);
    const inPool = await service.decrypt(forged).catch((e: unknown) => e);
    const here = await service.decrypt({ ...forged, live: true }).catch((e: unknown) => e);
    expect(inPool).toBeInstanceOf(SigncryptRejectedError);
    expect(here).toBeInstanceOf(SigncryptRejectedError);
    expect((here as SigncryptRejectedError).reason).toBe((inPool as SigncryptRejectedError).reason);
    expect((here as SigncryptRejectedError).reason).toBe('wrong-signer');
    expect(pooled()).toBe(1);
  });
});
