/**
 * Plain SMS in the gateway's core (issue 17 item 4), without XMPP, on a real SQLite file and the
 * SMS sink with a fake clock: refused unless the config allows it (`plainSms.allowed`, validated
 * like every key, default false); when allowed, the opt-out, quiet hours and the frequency cap still
 * apply, hidden characters are refused, a repeated request gets the first answer, and the text
 * reaches the sink but not the database.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayConfigError, parseGatewayConfig, type GatewayConfigInput } from '../../gateway/config';
import { createGatewayService, type StateChange } from '../../gateway/service';
import { readSink, sinkProvider } from '../../gateway/sms/sink';
import { openGatewayStore } from '../../gateway/store/store';
import { fakeClock } from '../support/fake-clock';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const STAFF = 'rita@clinic.test';
const PHONE = '+15550004444';
const TEXT = 'Plain-canary: your ferritin is 12 ng/mL, as you asked by text.';

function configFor(extra: Partial<GatewayConfigInput>, dir: string) {
  return parseGatewayConfig(
    {
      xmpp: { domain: 'patients.clinic.test', staffDomain: 'clinic.test', secret: { env: 'S' } },
      http: { listen: { port: 0 }, publicBaseUrl: 'https://patients.clinic.test', behindProxy: true },
      storage: { sqlitePath: 'gw.sqlite' },
      sms: { provider: 'sink', dir: 'sink' },
      ...extra,
    },
    dir,
    { env: { S: 'a-secret-of-some-length' }, readFile: () => '' },
  );
}

function setup(extra: Partial<GatewayConfigInput>) {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-plain-'));
  dirs.push(dir);
  const config = configFor(extra, dir);
  // 2027-01-15 08:00 UTC.
  const clock = fakeClock(Date.parse('2027-01-15T08:00:00Z'));
  const changes: StateChange[] = [];
  const logs: string[] = [];
  const store = openGatewayStore(config.storage.sqlitePath);
  const sinkDir = (config.sms as { dir: string }).dir;
  const service = createGatewayService({
    config,
    store,
    sms: sinkProvider(sinkDir, clock),
    clock,
    log: (level, event, fields) => logs.push(JSON.stringify({ level, event, ...fields })),
    notify: (c) => changes.push(c),
    deliverReply: () => Promise.resolve(),
  });
  const send = (requestId: string, text = TEXT, phone = PHONE) =>
    service.sendPlain({ staffJid: STAFF, requestId, phone, text });
  return { dir, config, clock, changes, logs, store, service, sinkDir, send };
}

describe('plain SMS in the gateway', () => {
  it('is off by default and the key is validated like the others', async () => {
    const off = setup({});
    expect(off.config.plainSms).toEqual({ allowed: false, maxChars: 918 });
    expect(await off.send('r1')).toMatchObject({ ok: false, reason: 'plain-sms-off' });
    expect(readSink(off.sinkDir)).toEqual([]);
    off.store.close();

    const dir = mkdtempSync(join(tmpdir(), 'gateway-plain-'));
    dirs.push(dir);
    const bad = (plainSms: unknown) => {
      try {
        configFor({ plainSms } as Partial<GatewayConfigInput>, dir);
      } catch (err) {
        return (err as GatewayConfigError).problems;
      }
      return [];
    };
    expect(bad({ allowed: 'yes' })).toEqual([expect.stringMatching(/^plainSms\.allowed: /)]);
    expect(bad({ allowed: true, maxChars: 5000 })).toEqual([expect.stringMatching(/^plainSms\.maxChars: /)]);
    expect(bad({ allowed: true, viaLink: false })).toEqual([expect.stringMatching(/^plainSms: .*viaLink/)]);
  });

  it('when allowed: sends the text as it is, once per request, and stores none of it', async () => {
    const gw = setup({ plainSms: { allowed: true }, limits: { perPhonePerDay: 2, quietHours: null } });
    const first = await gw.send('r1');
    expect(first).toMatchObject({ ok: true, state: 'sms-delivered' });
    const again = await gw.send('r1');
    expect(again).toEqual(first);
    expect(readSink(gw.sinkDir).map((s) => [s.to, s.body])).toEqual([[PHONE, TEXT]]);
    const id = (first as { id: string }).id;
    // Nothing to open: no ciphertext, and the link page finds it expired.
    expect(gw.store.get(id)).toMatchObject({ ciphertext: null, state: 'sms-delivered', phone: PHONE });
    expect(gw.service.checkOf(id)).toEqual({ kind: 'expired' });
    expect(gw.changes.map((c) => [c.id, c.state])).toEqual([[id, 'sms-delivered']]);

    // Hidden characters and an over-long text are refused; the cap counts plain texts too.
    expect(await gw.send('r2', 'Hi\u202Ethere')).toMatchObject({ ok: false, reason: 'bad-request' });
    expect(await gw.send('r3', 'x'.repeat(919))).toMatchObject({ ok: false, reason: 'bad-request' });
    expect(await gw.send('r4', 'Second text')).toMatchObject({ ok: true });
    expect(await gw.send('r5', 'Third text')).toMatchObject({ ok: false, reason: 'rate-limited' });

    // Opted out: refused.
    await gw.service.inboundSms('+15550005555', 'STOP');
    expect(await gw.send('r6', TEXT, '+15550005555')).toMatchObject({ ok: false, reason: 'opted-out' });

    gw.store.close();
    const files = readdirSync(gw.dir)
      .filter((f) => f.startsWith('gw.sqlite'))
      .map((f) => readFileSync(join(gw.dir, f)));
    expect(files.length).toBeGreaterThan(0);
    for (const canary of ['Plain-canary', 'ferritin', 'Second text']) {
      for (const f of files) expect(f.includes(Buffer.from(canary)), canary).toBe(false);
      expect(gw.logs.join('\n')).not.toContain(canary);
    }
    expect(gw.logs.join('\n')).not.toContain(PHONE);
  });

  it('honours quiet hours', async () => {
    const gw = setup({
      plainSms: { allowed: true },
      limits: { perPhonePerDay: 0, quietHours: { start: '07:00', end: '09:00', timeZone: 'UTC' } },
    });
    expect(await gw.send('q1')).toMatchObject({ ok: false, reason: 'quiet-hours' });
    gw.clock.advance(3 * 3_600_000);
    expect(await gw.send('q1')).toMatchObject({ ok: true });
    expect(readSink(gw.sinkDir)).toHaveLength(1);
    gw.store.close();
  });
});
