/**
 * The gateway's core without XMPP or HTTP (issue 17 items 1 and 4), on a real SQLite file and the
 * SMS sink with a fake clock: the database migrates and refuses a newer one, the patient's JID is
 * stable across restarts, quiet hours refuse a send, START opts back in, and a text stored but
 * never handed to the provider fails at the next start instead of staying queued forever.
 */
import Database from 'better-sqlite3-multiple-ciphers';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseGatewayConfig, type GatewayConfigInput } from '../../gateway/config';
import { makeDobVerifier } from '../../gateway/dob';
import { createGatewayService, type SendRequest, type StateChange } from '../../gateway/service';
import { readSink, sinkProvider } from '../../gateway/sms/sink';
import { SCHEMA_VERSION } from '../../gateway/store/migrations';
import { openGatewayStore } from '../../gateway/store/store';
import { fakeClock } from '../support/fake-clock';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(limits: GatewayConfigInput['limits'] = { perPhonePerDay: 0, quietHours: null }) {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-unit-'));
  dirs.push(dir);
  const config = parseGatewayConfig(
    {
      xmpp: { domain: 'patients.clinic.test', staffDomain: 'clinic.test', secret: { env: 'S' } },
      http: { listen: { port: 0 }, publicBaseUrl: 'https://patients.clinic.test', behindProxy: true },
      storage: { sqlitePath: 'gw.sqlite' },
      sms: { provider: 'sink', dir: 'sink' },
      limits,
    },
    dir,
    { env: { S: 'a-secret-of-some-length' }, readFile: () => '' },
  );
  // 2027-01-15 08:00 UTC = 02:00 in Chicago.
  const clock = fakeClock(Date.parse('2027-01-15T08:00:00Z'));
  const changes: StateChange[] = [];
  const open = () => {
    const store = openGatewayStore(config.storage.sqlitePath);
    const log = () => {};
    const sms = sinkProvider((config.sms as { dir: string }).dir, clock);
    return {
      store,
      service: createGatewayService({
        config,
        store,
        sms,
        clock,
        log,
        notify: (c) => changes.push(c),
        deliverReply: () => Promise.resolve(),
      }),
    };
  };
  return { dir, config, clock, changes, open };
}

async function request(over: Partial<SendRequest> = {}): Promise<SendRequest> {
  return {
    staffJid: 'rita@clinic.test',
    requestId: 'r1',
    phone: '+15550001111',
    dobVerifier: await makeDobVerifier('1980-01-01'),
    smsTemplate: 'A message from your clinic: {link}',
    fragment: 'A'.repeat(22),
    ciphertext: Buffer.from('not really openpgp'),
    ...over,
  };
}

describe('gateway store and service', () => {
  it('migrates a new database, and refuses one newer than the code', () => {
    const { open, config } = setup();
    open().store.close();
    const db = new Database(config.storage.sqlitePath);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => open()).toThrow(/newer than this gateway/);
  });

  it('gives a phone number the same patient JID after a restart, and another number another one', () => {
    const { open } = setup();
    const a = open();
    const first = a.store.patientFor('+15550001111');
    expect(a.store.patientFor('+15550002222')).not.toBe(first);
    a.store.close();
    const b = open();
    expect(b.store.patientFor('+15550001111')).toBe(first);
    expect(first).not.toContain('5550001111');
    b.store.close();
  });

  it('refuses sends during quiet hours in the clinic time zone', async () => {
    const { open, clock } = setup({
      perPhonePerDay: 0,
      quietHours: { start: '21:00', end: '08:00', timeZone: 'America/Chicago' },
    });
    const { store, service } = open();
    expect(await service.send(await request())).toMatchObject({ ok: false, reason: 'quiet-hours' });
    clock.advance(6 * 3_600_000); // 08:00 in Chicago
    expect(await service.send(await request())).toMatchObject({ ok: true, state: 'sms-delivered' });
    store.close();
  });

  it('START after STOP lets texts through again, each with one confirmation', async () => {
    const { open, config } = setup();
    const { store, service } = open();
    await service.inboundSms('+15550001111', 'STOP');
    expect(await service.send(await request())).toMatchObject({ ok: false, reason: 'opted-out' });
    await service.inboundSms('+15550001111', 'start');
    await service.inboundSms('+15550001111', 'START');
    expect(await service.send(await request({ requestId: 'r2' }))).toMatchObject({ ok: true });
    const bodies = readSink((config.sms as { dir: string }).dir).map((t) => t.body);
    expect(bodies.filter((b) => b.startsWith('You will not get more texts'))).toHaveLength(1);
    expect(bodies.filter((b) => b.startsWith('You will receive texts'))).toHaveLength(1);
    store.close();
  });

  it('fails a text that was stored but never handed to the provider, and tells its sender', () => {
    const { open, clock, changes } = setup();
    const first = open();
    first.store.insert({
      id: 'B'.repeat(22),
      requestKey: 'rita@clinic.test r9',
      staffJid: 'rita@clinic.test',
      patient: first.store.patientFor('+15550001111'),
      phone: '+15550001111',
      ciphertext: Buffer.from('x'),
      dobVerifier: 'scrypt$15$8$1$x$y',
      createdAt: clock.now(),
      expiresAt: clock.now() + 86_400_000,
    });
    first.store.close();
    const second = open();
    expect(second.service.failStranded()).toBe(1);
    expect(second.store.get('B'.repeat(22))).toMatchObject({
      state: 'failed',
      reason: 'gateway-restarted',
      ciphertext: null,
    });
    expect(changes).toEqual([
      expect.objectContaining({ id: 'B'.repeat(22), state: 'failed', reason: 'gateway-restarted' }),
    ]);
    expect(second.service.failStranded()).toBe(0);
    second.store.close();
  });
});
