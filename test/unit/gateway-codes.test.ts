/**
 * One-time SMS codes as a message's identity check (issue 17 item 3), the service on a real SQLite
 * file and the SMS sink with a fake clock: the sender chooses the check within the gateway's
 * config; the code goes to the phone on record in a PHI-free text, is stored only as an HMAC,
 * works once (a replay is refused), expires, replaces the previous code, counts wrong tries per
 * link with a lockout, and resends are paced and capped.
 */
import Database from 'better-sqlite3-multiple-ciphers';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseGatewayConfig, type GatewayConfigInput } from '../../gateway/config';
import { makeDobVerifier } from '../../gateway/dob';
import { createGatewayService, type SendRequest } from '../../gateway/service';
import { readSink, sinkProvider } from '../../gateway/sms/sink';
import { openGatewayStore } from '../../gateway/store/store';
import { fakeClock } from '../support/fake-clock';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const MINUTE = 60_000;
const PHONE = '+15550003333';

function setup(over: Partial<GatewayConfigInput> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-codes-'));
  dirs.push(dir);
  const config = parseGatewayConfig(
    {
      xmpp: { domain: 'patients.clinic.test', staffDomain: 'clinic.test', secret: { env: 'S' } },
      http: { listen: { port: 0 }, publicBaseUrl: 'https://patients.clinic.test', behindProxy: true },
      storage: { sqlitePath: 'gw.sqlite' },
      sms: { provider: 'sink', dir: 'sink' },
      limits: { perPhonePerDay: 0, quietHours: null },
      ...over,
    },
    dir,
    { env: { S: 'a-secret-of-some-length' }, readFile: () => '' },
  );
  const clock = fakeClock(Date.parse('2027-01-15T15:00:00Z'));
  const store = openGatewayStore(config.storage.sqlitePath);
  const sinkDir = (config.sms as { dir: string }).dir;
  const log: string[] = [];
  const service = createGatewayService({
    config,
    store,
    sms: sinkProvider(sinkDir, clock),
    clock,
    log: (level, event, fields) => log.push(JSON.stringify({ level, event, ...fields })),
    notify: () => {},
    deliverReply: () => Promise.resolve(),
  });
  let n = 0;
  const send = async (over: Partial<SendRequest> = {}) => {
    const out = await service.send({
      staffJid: 'rita@clinic.test',
      requestId: `r${++n}`,
      phone: PHONE,
      check: 'code',
      dobVerifier: '',
      smsTemplate: 'A message from your clinic: {link}',
      fragment: 'A'.repeat(22),
      ciphertext: Buffer.from('sealed'),
      ...over,
    });
    if (!out.ok) throw new Error(`refused: ${out.reason} ${out.detail}`);
    return out.id;
  };
  /** The code in the newest text to the patient's phone. */
  const lastCode = () => {
    const texts = readSink(sinkDir);
    return /\b([0-9]{6})\b/.exec(texts.at(-1)!.body)![1]!;
  };
  return { config, clock, store, service, send, lastCode, sinkDir, log };
}

describe('one-time SMS codes', () => {
  it('texts a PHI-free code to the phone on record, opens the message with it once, and stores only its HMAC', async () => {
    const { service, send, lastCode, sinkDir, config, store, log } = setup();
    const id = await send();
    expect(service.checkOf(id)).toEqual({ check: 'code' });
    expect(await service.requestCode(id)).toMatchObject({ kind: 'sent' });
    const texts = readSink(sinkDir);
    const codeText = texts.at(-1)!;
    expect(codeText.to).toBe(PHONE);
    expect(codeText.body).toMatch(/^Your clinic's code is [0-9]{6}\. It expires in 10 minutes\. Do not share it\.$/);
    const code = lastCode();

    expect(await service.openMessage(id, { code })).toEqual({
      kind: 'ok',
      ciphertext: Buffer.from('sealed'),
      check: 'code',
      reply: null,
    });
    expect(store.get(id)!.state).toBe('opened');
    // A replay of the same code opens nothing.
    expect(await service.openMessage(id, { code })).toEqual({ kind: 'no-code' });

    store.close();
    const db = new Database(config.storage.sqlitePath, { readonly: true });
    const dump = JSON.stringify(db.prepare('SELECT code_hash FROM one_time_codes').all());
    db.close();
    expect(dump).not.toContain(code);
    expect(dump).not.toContain(Buffer.from(code).toString('hex'));
    expect(dump).not.toContain(createHash('sha256').update(code).digest('hex'));
    expect(dump).toMatch(/"code_hash":"[0-9a-f]{64}"/);
    expect(log.join('\n')).not.toContain(code);
    expect(log.join('\n')).not.toContain(PHONE);
  });

  it('a DOB for a code message, or a code for a DOB message, is the wrong check', async () => {
    const { service, send } = setup();
    const codeId = await send();
    expect(await service.openMessage(codeId, { dob: '1980-01-01' })).toEqual({ kind: 'wrong-check', check: 'code' });
    const dobId = await send({ check: 'dob', dobVerifier: await makeDobVerifier('1980-01-01') });
    expect(await service.openMessage(dobId, { code: '123456' })).toEqual({ kind: 'wrong-check', check: 'dob' });
    expect(await service.requestCode(dobId)).toEqual({ kind: 'wrong-check', check: 'dob' });
  });

  it('refuses a send whose check the gateway does not allow, or a code send with a DOB verifier', async () => {
    const { service } = setup({ identity: { checks: ['dob'] } });
    const base: SendRequest = {
      staffJid: 'rita@clinic.test',
      requestId: 'x1',
      phone: PHONE,
      check: 'code',
      dobVerifier: '',
      smsTemplate: '{link}',
      fragment: 'A'.repeat(22),
      ciphertext: Buffer.from('sealed'),
    };
    expect(await service.send(base)).toMatchObject({
      ok: false,
      reason: 'bad-request',
      detail: 'check: this gateway allows dob',
    });
    const both = setup();
    const withDob = { ...base, dobVerifier: await makeDobVerifier('1980-01-01') };
    expect(await both.service.send(withDob)).toMatchObject({ ok: false, reason: 'bad-request' });
  });

  it('no code asked for yet, an expired code, and an earlier code replaced by a new one open nothing', async () => {
    const { service, send, lastCode, clock } = setup();
    const id = await send();
    expect(await service.openMessage(id, { code: '000000' })).toEqual({ kind: 'no-code' });
    await service.requestCode(id);
    const first = lastCode();
    clock.advance(10 * MINUTE);
    expect(await service.openMessage(id, { code: first })).toEqual({ kind: 'code-expired' });
    await service.requestCode(id);
    const second = lastCode();
    clock.advance(MINUTE);
    await service.requestCode(id);
    const third = lastCode();
    if (second !== third) expect(await service.openMessage(id, { code: second })).toMatchObject({ kind: 'wrong-code' });
    expect(await service.openMessage(id, { code: third })).toMatchObject({ kind: 'ok' });
  });

  it('three wrong codes lock the link for 60 minutes, even for the right code, and a new code gives no new tries', async () => {
    const { service, send, lastCode, clock } = setup();
    const id = await send();
    await service.requestCode(id);
    const code = lastCode();
    const wrong = code === '111111' ? '222222' : '111111';
    expect(await service.openMessage(id, { code: wrong })).toEqual({ kind: 'wrong-code', triesLeft: 2 });
    clock.advance(MINUTE);
    await service.requestCode(id);
    const fresh = lastCode();
    const wrong2 = fresh === '333333' ? '444444' : '333333';
    expect(await service.openMessage(id, { code: wrong2 })).toEqual({ kind: 'wrong-code', triesLeft: 1 });
    const until = clock.now() + 60 * MINUTE;
    expect(await service.openMessage(id, { code: wrong2 })).toEqual({ kind: 'locked', until });
    expect(await service.openMessage(id, { code: fresh })).toEqual({ kind: 'locked', until });
    expect(await service.requestCode(id)).toEqual({ kind: 'locked', until });
    clock.advance(60 * MINUTE);
    // The code that was live before the lockout has expired meanwhile: a new one opens it.
    expect(await service.requestCode(id)).toMatchObject({ kind: 'sent' });
    expect(await service.openMessage(id, { code: lastCode() })).toMatchObject({ kind: 'ok' });
  });

  it('paces resends and caps the codes per link', async () => {
    const { service, send, clock, sinkDir } = setup({
      codeCheck: { ttlMinutes: 10, maxTries: 3, lockoutMinutes: 60, resendSeconds: 60, maxSends: 3 },
    });
    const id = await send();
    const t0 = clock.now();
    expect(await service.requestCode(id)).toEqual({ kind: 'sent', expiresAt: t0 + 10 * MINUTE, resendAt: t0 + MINUTE });
    expect(await service.requestCode(id)).toEqual({ kind: 'too-soon', resendAt: t0 + MINUTE });
    clock.advance(59_000);
    expect(await service.requestCode(id)).toMatchObject({ kind: 'too-soon' });
    clock.advance(1_000);
    expect(await service.requestCode(id)).toMatchObject({ kind: 'sent' });
    clock.advance(MINUTE);
    expect(await service.requestCode(id)).toMatchObject({ kind: 'sent' });
    clock.advance(MINUTE);
    expect(await service.requestCode(id)).toEqual({ kind: 'too-many' });
    // One link text plus three codes.
    expect(readSink(sinkDir)).toHaveLength(4);
  });

  it('parallel requests send one code; parallel guesses get no more than the allowed tries', async () => {
    const { service, send, sinkDir, lastCode } = setup();
    const id = await send();
    const asks = await Promise.all([1, 2, 3, 4].map(() => service.requestCode(id)));
    expect(asks.filter((a) => a.kind === 'sent')).toHaveLength(1);
    expect(readSink(sinkDir)).toHaveLength(2);
    const code = lastCode();
    const guesses = ['000001', '000002', '000003', '000004', '000005'].filter((g) => g !== code);
    const outs = await Promise.all(guesses.map((g) => service.openMessage(id, { code: g })));
    expect(outs.filter((o) => o.kind === 'wrong-code')).toHaveLength(2);
    expect(outs.filter((o) => o.kind === 'locked').length).toBeGreaterThanOrEqual(2);
  });

  it('an opted-out number gets no code; an expired or unknown link neither', async () => {
    const { service, send, clock } = setup();
    const id = await send({ expiresDays: 1 });
    await service.inboundSms(PHONE, 'STOP');
    expect(await service.requestCode(id)).toEqual({ kind: 'opted-out' });
    clock.advance(86_400_000);
    service.expire();
    expect(await service.requestCode(id)).toEqual({ kind: 'expired' });
    expect(await service.requestCode('Z'.repeat(22))).toEqual({ kind: 'not-found' });
    expect(service.checkOf('Z'.repeat(22))).toEqual({ kind: 'not-found' });
  });
});
