/**
 * Where the 24 h of the code step-up (issue 17 item 3) count from, the service on a real SQLite
 * file with a fake clock and a provider that, like Twilio, reports delivery later by receipt: from
 * the delivery receipt; without one, from when the text was handed to the provider.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../gateway/config';
import { makeDobVerifier } from '../../gateway/dob';
import { createGatewayService } from '../../gateway/service';
import type { SmsProvider } from '../../gateway/sms/provider';
import { sinkProvider } from '../../gateway/sms/sink';
import { openGatewayStore } from '../../gateway/store/store';
import { fakeClock } from '../support/fake-clock';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const HOUR = 3_600_000;
const DOB = '1975-05-05';

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-step-up-'));
  dirs.push(dir);
  const config = parseGatewayConfig(
    {
      xmpp: { domain: 'patients.clinic.test', staffDomain: 'clinic.test', secret: { env: 'S' } },
      http: { listen: { port: 0 }, publicBaseUrl: 'https://patients.clinic.test', behindProxy: true },
      storage: { sqlitePath: 'gw.sqlite' },
      sms: { provider: 'sink', dir: 'sink' },
      limits: { perPhonePerDay: 0, quietHours: null },
    },
    dir,
    { env: { S: 'a-secret-of-some-length' }, readFile: () => '' },
  );
  const clock = fakeClock(Date.parse('2027-01-15T15:00:00Z'));
  const store = openGatewayStore(config.storage.sqlitePath);
  const sink = sinkProvider((config.sms as { dir: string }).dir, clock);
  // Like Twilio: the provider takes the text (here an hour after it was stored, so the hand-over
  // time differs from the message's creation); delivery comes later, by receipt.
  const sms: SmsProvider = {
    name: 'twilio',
    send: async (m) => {
      clock.advance(HOUR);
      return { ...(await sink.send(m)), delivered: false };
    },
  };
  const service = createGatewayService({
    config,
    store,
    sms,
    clock,
    log: () => {},
    notify: () => {},
    deliverReply: () => Promise.resolve(),
  });
  const dobVerifier = await makeDobVerifier(DOB);
  let n = 0;
  const send = async () => {
    const out = await service.send({
      staffJid: 'rita@clinic.test',
      requestId: `r${++n}`,
      phone: '+15550004444',
      dobVerifier,
      smsTemplate: 'A message from your clinic: {link}',
      fragment: 'A'.repeat(22),
      ciphertext: Buffer.from('sealed'),
    });
    if (!out.ok) throw new Error(`refused: ${out.reason}`);
    return { id: out.id, ref: store.get(out.id)!.providerRef! };
  };
  return { clock, store, service, send };
}

describe('the 24 h before a code is needed too', () => {
  it('count from the delivery receipt', async () => {
    const { clock, store, service, send } = await setup();
    const device = randomBytes(16).toString('base64url');
    const { id, ref } = await send();
    expect(store.get(id)!.state).toBe('queued');
    clock.advance(10 * HOUR);
    service.providerStatus(ref, 'delivered');
    expect(store.get(id)!.deliveredAt).toBe(clock.now());
    clock.advance(24 * HOUR);
    expect(await service.openMessage(id, { dob: DOB }, device)).toMatchObject({ kind: 'ok' });
    clock.advance(1);
    expect(await service.openMessage(id, { dob: DOB }, device)).toMatchObject({ kind: 'code-required' });
  });

  it('without a receipt, from when the text was handed to the provider', async () => {
    const { clock, store, service, send } = await setup();
    const device = randomBytes(16).toString('base64url');
    const { id } = await send();
    expect(store.get(id)!.sentAt).toBe(clock.now());
    expect(store.get(id)!.createdAt).toBe(clock.now() - HOUR);
    clock.advance(24 * HOUR);
    expect(await service.openMessage(id, { dob: DOB }, device)).toMatchObject({ kind: 'ok' });
    clock.advance(1);
    expect(await service.openMessage(id, { dob: DOB }, device)).toMatchObject({ kind: 'code-required' });
  });
});
