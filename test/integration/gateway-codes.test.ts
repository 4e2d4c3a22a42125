/**
 * One-time SMS codes over the real wire (issue 17 items 3 and 6): a staff account on a real Prosody
 * sends <send check='code'/> to the gateway component; the patient (played with fetch) asks which
 * check the link wants, gets a code by SMS (the sink) and opens the message with it. Hostile
 * input: a wrong code counts and locks, a replayed code is refused, an expired link says so, a
 * malformed body is a bad request, a DOB with the code is the wrong check, an unknown check in the IQ is refused;
 * the database and the log hold no code, phone number or message text.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { XmlElement } from '@xmpp/client';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSink } from '../../gateway/sms/sink';
import type { XmppConnection } from '../../main/xmpp/transport/connection';
import { fakeClock } from '../support/fake-clock';
import { GATEWAY_NS, postStep, sealForPatient, sendIq, startGatewayWithRita } from '../support/gateway-support';
import type { GatewayWithRita, TestGateway } from '../support/gateway-support';
import type { ProsodyServer } from '../support/prosody';
import { waitFor } from '../support/xmpp-support';

const PHONE = '+15550600000';
const MINUTE = 60_000;

describe('one-time SMS codes through the gateway', () => {
  const clock = fakeClock();
  const states: XmlElement[] = [];
  const codes: string[] = [];
  let setup: GatewayWithRita;
  let server: ProsodyServer;
  let gw: TestGateway;
  let rita: XmppConnection;
  let n = 0;

  beforeAll(async () => {
    setup = await startGatewayWithRita(clock, {
      onStanza: (el) => {
        if (el.is('message') && el.getChild('state', GATEWAY_NS)) states.push(el);
      },
    });
    ({ server, gw, rita } = setup);
  });
  afterAll(async () => {
    await setup?.close();
  });

  const send = async (text: string, expiresDays?: number) => {
    const m = await sealForPatient(text, PHONE, '1990-01-02');
    const iq = await sendIq(m, server.component.domain, { request: `c${++n}`, expiresDays, check: 'code' });
    const id = (await rita.iq(iq)).getChild('sent', GATEWAY_NS)!.attrs.id!;
    return { m, id };
  };
  /** Asks for a code and reads it off the patient's phone (the sink). */
  const codeFor = async (id: string) => {
    const before = readSink(gw.sinkDir).length;
    const res = await postStep(gw, id, 'code', {});
    expect(res.status).toBe(200);
    const texts = readSink(gw.sinkDir);
    expect(texts).toHaveLength(before + 1);
    const code = /\b([0-9]{6})\b/.exec(texts.at(-1)!.body)![1]!;
    codes.push(code);
    return code;
  };
  const other = (code: string) => (code === '000000' ? '000001' : '000000');

  it('the link asks for a code; the code texted to the phone on record opens the message, once', async () => {
    const { m, id } = await send('Please call us about your referral.');
    expect(await (await postStep(gw, id, 'check', {})).json()).toEqual({ check: 'code' });
    const res = await postStep(gw, id, 'code', {});
    const sent = (await res.json()) as { expiresAt: string; resendAt: string };
    expect(sent).toEqual({
      expiresAt: new Date(clock.now() + 10 * MINUTE).toISOString(),
      resendAt: new Date(clock.now() + MINUTE).toISOString(),
    });
    const sms = readSink(gw.sinkDir).at(-1)!;
    expect(sms.to).toBe(PHONE);
    const code = /\b([0-9]{6})\b/.exec(sms.body)![1]!;
    codes.push(code);
    expect(sms.body).not.toContain('referral');

    const ok = await postStep(gw, id, 'open', { code });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { ciphertext: string; check: string };
    expect(body.check).toBe('code');
    const message = await openpgp.readMessage({ binaryMessage: Buffer.from(body.ciphertext, 'base64') });
    expect((await openpgp.decrypt({ message, passwords: [m.fragment] })).data).toBe(
      'Please call us about your referral.',
    );
    await waitFor('opened state', () =>
      states.map((s) => s.getChild('state', GATEWAY_NS)!).find((s) => s.attrs.id === id && s.attrs.state === 'opened'),
    );

    const replay = await postStep(gw, id, 'open', { code });
    expect(replay.status).toBe(403);
    expect(await replay.json()).toEqual({ error: 'no-code' });
  });

  it('three wrong codes lock the link; the right code and new codes are refused until the lockout ends', async () => {
    const { id } = await send('Lockout.');
    const code = await codeFor(id);
    expect(await (await postStep(gw, id, 'open', { code: other(code) })).json()).toEqual({
      error: 'wrong-code',
      triesLeft: 2,
    });
    expect(await (await postStep(gw, id, 'open', { code: other(code) })).json()).toEqual({
      error: 'wrong-code',
      triesLeft: 1,
    });
    const locked = await postStep(gw, id, 'open', { code: other(code) });
    expect(locked.status).toBe(429);
    const until = new Date(clock.now() + 60 * MINUTE).toISOString();
    expect(await locked.json()).toEqual({ error: 'locked', until });
    expect(await (await postStep(gw, id, 'open', { code })).json()).toEqual({ error: 'locked', until });
    expect((await postStep(gw, id, 'code', {})).status).toBe(429);
    clock.advance(60 * MINUTE);
    expect((await postStep(gw, id, 'open', { code: await codeFor(id) })).status).toBe(200);
  });

  it('a second code within a minute is refused; the DOB for a code link is the wrong check', async () => {
    const { id } = await send('Pacing.');
    await codeFor(id);
    const again = await postStep(gw, id, 'code', {});
    expect(again.status).toBe(429);
    expect(await again.json()).toMatchObject({ error: 'too-soon' });
    const dob = await postStep(gw, id, 'open', { dob: '1990-01-02' });
    expect(dob.status).toBe(409);
    expect(await dob.json()).toEqual({ error: 'wrong-check', check: 'code' });
  });

  it('malformed requests: a number, a huge code, not JSON, an altered id', async () => {
    const { id } = await send('Malformed.');
    for (const body of [{ code: 123456 }, { code: '1'.repeat(100) }, {}, { code: '123456', device: 'x' }]) {
      const res = await postStep(gw, id, 'open', body);
      expect(res.status, JSON.stringify(body).slice(0, 40)).toBe(400);
    }
    // A DOB with the code is the step-up of a DOB link: for a code link, the wrong check.
    expect((await postStep(gw, id, 'open', { code: '123456', dob: '1990-01-02' })).status).toBe(409);
    expect((await postStep(gw, id, 'open', { code: '1'.repeat(5000) })).status).toBe(413);
    const notJson = await fetch(`${gw.baseUrl}/api/m/${id}/open`, { method: 'POST', body: 'code=123456' });
    expect(notJson.status).toBe(400);
    const altered = `${id.slice(0, -1)}${id.endsWith('A') ? 'B' : 'A'}`;
    for (const step of ['check', 'code', 'open']) {
      const res = await postStep(gw, altered, step, { code: '123456' });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: 'not-found' });
    }
  });

  it('an expired link texts no code and opens nothing', async () => {
    const { id } = await send('Expiring.', 1);
    const code = await codeFor(id);
    clock.advance(86_400_000);
    gw.service.expire();
    const before = readSink(gw.sinkDir).length;
    expect((await postStep(gw, id, 'check', {})).status).toBe(410);
    expect((await postStep(gw, id, 'code', {})).status).toBe(410);
    expect((await postStep(gw, id, 'open', { code })).status).toBe(410);
    expect(readSink(gw.sinkDir)).toHaveLength(before);
  });

  it('refuses a send with an unknown check', async () => {
    const m = await sealForPatient('x', PHONE, '1990-01-02');
    const iq = await sendIq(m, server.component.domain, { request: 'bad-check' });
    iq.getChild('send', GATEWAY_NS)!.attrs.check = 'sms';
    const err = await rita.iq(iq).then(
      () => null,
      (e: { condition?: string; application?: XmlElement }) => e,
    );
    expect(err?.condition).toBe('bad-request');
    expect(err?.application?.attrs.reason).toBe('bad-request');
  });

  it('the database and the log hold no code, phone number or message text', () => {
    expect(codes.length).toBeGreaterThan(3);
    const files = readdirSync(gw.dir).filter((f) => f.startsWith('gateway.sqlite'));
    const db = Buffer.concat(files.map((f) => readFileSync(join(gw.dir, f))));
    const log = gw.logLines.join('\n');
    for (const c of codes) {
      expect(log.includes(`"${c}"`) || log.includes(`code is ${c}`)).toBe(false);
      expect(db.includes(`code is ${c}`)).toBe(false);
    }
    for (const s of ['Please call us about your referral.', 'Lockout.']) expect(db.includes(s)).toBe(false);
    expect(log.includes(PHONE)).toBe(false);
    expect(log).toContain('"event":"code-locked"');
    expect(log).toContain('"event":"code-sent"');
  });
});
