/**
 * The step-up to a one-time SMS code for a date-of-birth link (issue 17 item 3), real gateway and
 * real Prosody, the patient played with fetch and a device token per "browser": the same device
 * within 24 h of delivery opens with the DOB alone; more than 24 h later (the injected clock moved)
 * a right DOB is answered "code required" and a code is texted; a wrong code counts toward the
 * same lockout as wrong dates of birth; the right code opens once and a replayed one is refused;
 * another device, or none, needs a code too. The log and the database hold no token and no code.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSink } from '../../gateway/sms/sink';
import type { XmppConnection } from '../../main/xmpp/transport/connection';
import { fakeClock } from '../support/fake-clock';
import { GATEWAY_NS, postStep, sealForPatient, sendIq, startGatewayWithRita } from '../support/gateway-support';
import type { GatewayWithRita, TestGateway } from '../support/gateway-support';
import type { ProsodyServer } from '../support/prosody';

const PHONE = '+15550700000';
const DOB = '1961-07-14';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('a one-time code on top of the date of birth: late, or on a new device', () => {
  const clock = fakeClock();
  const codes: string[] = [];
  const tokens: string[] = [];
  let setup: GatewayWithRita;
  let server: ProsodyServer;
  let gw: TestGateway;
  let rita: XmppConnection;
  let n = 0;

  beforeAll(async () => {
    setup = await startGatewayWithRita(clock);
    ({ server, gw, rita } = setup);
  });
  afterAll(async () => {
    await setup?.close();
  });

  /** A browser's device token, as the page keeps one in localStorage. */
  const device = () => {
    const t = randomBytes(16).toString('base64url');
    tokens.push(t);
    return t;
  };
  const send = async (text: string) => {
    const m = await sealForPatient(text, PHONE, DOB);
    const iq = await sendIq(m, server.component.domain, { request: `s${++n}` });
    const id = (await rita.iq(iq)).getChild('sent', GATEWAY_NS)!.attrs.id!;
    return { m, id };
  };
  const open = async (id: string, body: Record<string, string | undefined>) => {
    const res = await postStep(gw, id, 'open', body);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const texts = () => readSink(gw.sinkDir).length;
  /** The code in the newest text to the patient's phone. */
  const lastCode = () => {
    const sms = readSink(gw.sinkDir).at(-1)!;
    expect(sms.to).toBe(PHONE);
    expect(sms.body).not.toMatch(/https?:/);
    const code = /\b([0-9]{6})\b/.exec(sms.body)![1]!;
    codes.push(code);
    return code;
  };
  const other = (code: string) => (code === '000000' ? '000001' : '000000');
  const decrypt = async (ciphertext: unknown, fragment: string) => {
    const message = await openpgp.readMessage({ binaryMessage: Buffer.from(ciphertext as string, 'base64') });
    return (await openpgp.decrypt({ message, passwords: [fragment] })).data;
  };

  it('the same device within 24 h of delivery opens with the date of birth alone, again and again', async () => {
    const { m, id } = await send('Your blood test is normal.');
    const phone = device();
    const before = texts();
    const first = await open(id, { dob: DOB, device: phone });
    expect(first.status).toBe(200);
    expect(await decrypt(first.body.ciphertext, m.fragment)).toBe('Your blood test is normal.');
    clock.advance(24 * HOUR);
    // Exactly 24 h after delivery is not "more than 24 h".
    const again = await open(id, { dob: DOB, device: phone });
    expect(again.status).toBe(200);
    expect(again.body.check).toBe('dob');
    expect(texts()).toBe(before);
    clock.advance(1);
    expect((await open(id, { dob: DOB, device: phone })).body).toMatchObject({ error: 'code-required' });
  });

  it('more than 24 h after delivery: code required; a wrong code counts; the right one opens; a replay is refused', async () => {
    const { m, id } = await send('Please book a follow-up visit.');
    const phone = device();
    // The code endpoint is closed to a DOB link until a right DOB asked for the step-up.
    expect((await postStep(gw, id, 'code', {})).status).toBe(409);
    clock.advance(24 * HOUR + MINUTE);
    const before = texts();
    const asked = await open(id, { dob: DOB, device: phone });
    expect(asked).toEqual({
      status: 403,
      body: {
        error: 'code-required',
        expiresAt: new Date(clock.now() + 10 * MINUTE).toISOString(),
        resendAt: new Date(clock.now() + MINUTE).toISOString(),
      },
    });
    expect(texts()).toBe(before + 1);
    const code = lastCode();
    expect(readSink(gw.sinkDir).at(-1)!.body).not.toContain('follow-up');

    expect((await open(id, { dob: DOB, code: other(code), device: phone })).body).toEqual({
      error: 'wrong-code',
      triesLeft: 2,
    });
    // The same counter as wrong dates of birth; a right DOB alone again does not reset it, nor text again.
    expect((await open(id, { dob: '1961-07-15', device: phone })).body).toEqual({ error: 'wrong-dob', triesLeft: 1 });
    expect((await open(id, { dob: DOB, device: phone })).body).toEqual({
      error: 'code-required',
      resendAt: new Date(clock.now() + MINUTE).toISOString(),
    });
    expect(texts()).toBe(before + 1);
    // The code alone, without the date of birth, is the wrong check for this link.
    expect((await open(id, { code, device: phone })).status).toBe(409);

    const ok = await open(id, { dob: DOB, code, device: phone });
    expect(ok.status).toBe(200);
    expect(ok.body.check).toBe('dob');
    expect(await decrypt(ok.body.ciphertext, m.fragment)).toBe('Please book a follow-up visit.');
    expect(gw.store.get(id)!.state).toBe('opened');

    const replay = await open(id, { dob: DOB, code, device: phone });
    expect(replay).toEqual({ status: 403, body: { error: 'no-code' } });
    // The page's "Text me a new code" works for this link now, paced.
    expect((await postStep(gw, id, 'code', {})).status).toBe(429);
    clock.advance(MINUTE);
    expect((await postStep(gw, id, 'code', {})).status).toBe(200);
    expect((await open(id, { dob: DOB, code: lastCode(), device: phone })).status).toBe(200);
  });

  it('wrong step-up codes lock the link with wrong dates of birth; the right code waits out the lockout', async () => {
    const { id } = await send('Lockout after a day.');
    const phone = device();
    clock.advance(30 * HOUR);
    expect((await open(id, { dob: '1961-01-01', device: phone })).body).toEqual({ error: 'wrong-dob', triesLeft: 2 });
    expect((await open(id, { dob: DOB, device: phone })).body).toMatchObject({ error: 'code-required' });
    const code = lastCode();
    expect((await open(id, { dob: DOB, code: other(code), device: phone })).body).toEqual({
      error: 'wrong-code',
      triesLeft: 1,
    });
    const until = new Date(clock.now() + 60 * MINUTE).toISOString();
    expect(await open(id, { dob: DOB, code: other(code), device: phone })).toEqual({
      status: 429,
      body: { error: 'locked', until },
    });
    expect((await open(id, { dob: DOB, code, device: phone })).body).toEqual({ error: 'locked', until });
    expect((await postStep(gw, id, 'code', {})).status).toBe(429);
    clock.advance(60 * MINUTE);
    expect((await open(id, { dob: DOB, device: phone })).body).toMatchObject({ error: 'code-required' });
    expect((await open(id, { dob: DOB, code: lastCode(), device: phone })).status).toBe(200);
  });

  it('another device, or none, needs a code; the first device still opens with the DOB alone', async () => {
    const { id } = await send('New device.');
    const [phone, laptop] = [device(), device()];
    expect((await open(id, { dob: DOB, device: phone })).status).toBe(200);
    clock.advance(HOUR);
    const before = texts();
    expect((await open(id, { dob: DOB, device: laptop })).body).toMatchObject({ error: 'code-required' });
    expect(texts()).toBe(before + 1);
    const code = lastCode();
    expect((await open(id, { dob: DOB, device: laptop })).body).toMatchObject({ error: 'code-required' });
    expect((await open(id, { dob: DOB })).body).toMatchObject({ error: 'code-required' });
    expect((await open(id, { dob: DOB, code, device: laptop })).status).toBe(200);
    // The link stays bound to the device that first passed: the laptop needs a code again.
    expect((await open(id, { dob: DOB, device: phone })).status).toBe(200);
    expect((await open(id, { dob: DOB, device: laptop })).body).toMatchObject({ error: 'code-required' });
    expect(texts()).toBe(before + 1);
  });

  it('a link first opened without a device token needs a code at every later open', async () => {
    const { id } = await send('No storage.');
    expect((await open(id, { dob: DOB })).status).toBe(200);
    expect((await open(id, { dob: DOB })).body).toMatchObject({ error: 'code-required' });
    expect((await open(id, { dob: DOB, device: device() })).body).toMatchObject({ error: 'code-required' });
  });

  it('a malformed device token is a bad request and counts nothing', async () => {
    const { id } = await send('Malformed token.');
    for (const bad of ['short', 'x'.repeat(200), 'A'.repeat(21) + '/', 12345, null]) {
      const res = await postStep(gw, id, 'open', { dob: DOB, device: bad });
      expect(res.status, String(bad).slice(0, 20)).toBe(400);
    }
    expect(gw.store.get(id)!.dobFailures).toBe(0);
    expect((await open(id, { dob: DOB, device: device() })).status).toBe(200);
  });

  it('the database and the log hold no device token and no code', () => {
    expect(codes.length).toBeGreaterThan(4);
    const files = readdirSync(gw.dir).filter((f) => f.startsWith('gateway.sqlite'));
    const db = Buffer.concat(files.map((f) => readFileSync(join(gw.dir, f))));
    const log = gw.logLines.join('\n');
    for (const t of tokens) {
      expect(db.includes(t)).toBe(false);
      expect(log).not.toContain(t);
    }
    for (const c of codes) {
      expect(log.includes(`"${c}"`) || log.includes(`code is ${c}`)).toBe(false);
      expect(db.includes(`code is ${c}`)).toBe(false);
    }
    expect(log).toMatch(/"event":"code-required","id":"[A-Za-z0-9_-]{22}","reason":"late"/);
    expect(log).toMatch(/"event":"code-required","id":"[A-Za-z0-9_-]{22}","reason":"new-device"/);
  });
});
