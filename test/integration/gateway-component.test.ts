/**
 * The patient gateway as an XMPP component of a real Prosody (issue 17 items 1 and 4): a staff
 * account sends <send/> over its own connection; the gateway stores only ciphertext, texts the
 * link through the SMS sink, tells the sender each state change, honours STOP at once with one
 * confirmation, caps texts per number, expires links, and keeps plaintext, DOB and link secret
 * out of its database and log.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { XmlElement } from '@xmpp/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSink } from '../../gateway/sms/sink';
import type { XmppConnection } from '../../main/xmpp/transport/connection';
import { fakeClock } from '../support/fake-clock';
import { GATEWAY_NS, postForm, RITA, sealForPatient, sendIq, startGatewayWithRita } from '../support/gateway-support';
import type { GatewayWithRita, TestGateway } from '../support/gateway-support';
import type { ProsodyServer } from '../support/prosody';
import { waitFor } from '../support/xmpp-support';

const DAY = 86_400_000;

interface Refusal {
  condition: string;
  reason: string | undefined;
}
async function refusal(p: Promise<unknown>): Promise<Refusal> {
  try {
    await p;
  } catch (err) {
    const e = err as { condition?: string; application?: XmlElement };
    return { condition: e.condition ?? String(err), reason: e.application?.attrs.reason };
  }
  throw new Error('expected the gateway to refuse');
}

describe('patient gateway component with the SMS sink', () => {
  const clock = fakeClock();
  let setup: GatewayWithRita;
  let server: ProsodyServer;
  let gw: TestGateway;
  let rita: XmppConnection;
  const states: XmlElement[] = [];
  let to: string;

  beforeAll(async () => {
    setup = await startGatewayWithRita(clock, {
      overrides: (b) => ({ ...b, limits: { perPhonePerDay: 2, quietHours: null } }),
      onStanza: (el) => {
        if (el.is('message') && el.getChild('state', GATEWAY_NS)) states.push(el);
      },
    });
    ({ server, gw, rita } = setup);
    to = server.component.domain;
  });
  afterAll(async () => {
    await setup?.close();
  });

  const statesOf = (id: string) =>
    states.filter((m) => m.getChild('state', GATEWAY_NS)?.attrs.id === id).map((m) => m.getChild('state', GATEWAY_NS)!);

  it('stores the ciphertext, texts the link with the secret in its fragment, and reports sms-delivered', async () => {
    const m = await sealForPatient('Your biopsy result is benign.', '+15550001111', '1984-02-29');
    const res = await rita.iq(await sendIq(m, to, { request: 'r1' }));
    const sent = res.getChild('sent', GATEWAY_NS)!;
    expect(sent.attrs.state).toBe('sms-delivered');
    expect(sent.attrs.patient).toMatch(new RegExp(`^p-[0-9a-f]{24}@${to.replace(/\./g, '\\.')}$`));
    const id = sent.attrs.id!;
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);

    const texts = readSink(gw.sinkDir);
    expect(texts).toHaveLength(1);
    expect(texts[0]!.to).toBe('+15550001111');
    expect(texts[0]!.body).toBe(`Your clinic sent you a secure message: http://127.0.0.1:8999/m/${id}#${m.fragment}`);

    const row = gw.store.get(id)!;
    expect(Buffer.compare(row.ciphertext!, Buffer.from(m.ciphertext))).toBe(0);
    expect(row.staffJid).toBe(RITA);
    const state = await waitFor('state message', () => statesOf(id)[0]);
    expect(state.attrs.state).toBe('sms-delivered');
    expect(state.parent?.attrs.from ?? '').toBe(sent.attrs.patient);
  });

  it('a repeated request (same request id) is the same message and is texted once', async () => {
    const m = await sealForPatient('Please call us about your appointment.', '+15550002222', '1970-01-01');
    const first = (await rita.iq(await sendIq(m, to, { request: 'r2' }))).getChild('sent', GATEWAY_NS)!;
    const again = (await rita.iq(await sendIq(m, to, { request: 'r2' }))).getChild('sent', GATEWAY_NS)!;
    expect(again.attrs.id).toBe(first.attrs.id);
    expect(readSink(gw.sinkDir).filter((t) => t.to === '+15550002222')).toHaveLength(1);
  });

  it('caps texts per number per day, then refuses with rate-limited until the day has passed', async () => {
    const phone = '+15550003333';
    for (const r of ['cap1', 'cap2'])
      await rita.iq(await sendIq(await sealForPatient('Reminder.', phone, '1990-05-05'), to, { request: r }));
    const third = await sealForPatient('Reminder.', phone, '1990-05-05');
    expect(await refusal(rita.iq(await sendIq(third, to, { request: 'cap3' })))).toEqual({
      condition: 'resource-constraint',
      reason: 'rate-limited',
    });
    clock.advance(DAY + 1);
    const ok = await rita.iq(await sendIq(third, to, { request: 'cap4' }));
    expect(ok.getChild('sent', GATEWAY_NS)?.attrs.state).toBe('sms-delivered');
  });

  it('refuses a malformed send with bad-request and names the field', async () => {
    const m = await sealForPatient('x', '555-1234', '1990-05-05');
    const r = await refusal(rita.iq(await sendIq(m, to, { request: 'bad1' })));
    expect(r).toEqual({ condition: 'bad-request', reason: 'bad-request' });
    const noLink = await sealForPatient('x', '+15550004444', '1990-05-05');
    expect(await refusal(rita.iq(await sendIq(noLink, to, { request: 'bad2', sms: 'No link here' })))).toEqual({
      condition: 'bad-request',
      reason: 'bad-request',
    });
    expect(readSink(gw.sinkDir).filter((t) => t.to === '+15550004444')).toHaveLength(0);
  });

  it('STOP (any case) opts the number out at once with one confirmation; the next send is refused', async () => {
    const phone = '+15550005555';
    const before = readSink(gw.sinkDir).length;
    const stop = await postForm(`${gw.baseUrl}/sms/sink/inbound`, { From: phone, Body: ' stop ' });
    expect(stop.status).toBe(200);
    await postForm(`${gw.baseUrl}/sms/sink/inbound`, { From: phone, Body: 'UNSUBSCRIBE' });
    const after = readSink(gw.sinkDir).slice(before);
    expect(after).toHaveLength(1);
    expect(after[0]!.to).toBe(phone);
    expect(after[0]!.body).toMatch(/^You will not get more texts from this clinic\./);
    const m = await sealForPatient('Your results are ready.', phone, '1962-07-04');
    expect(await refusal(rita.iq(await sendIq(m, to, { request: 'after-stop' })))).toEqual({
      condition: 'not-acceptable',
      reason: 'opted-out',
    });
    expect(readSink(gw.sinkDir).length).toBe(before + 1);
  });

  it('expires a link after its days: the ciphertext is deleted and the sender is told', async () => {
    const m = await sealForPatient('Short-lived note.', '+15550006666', '1955-12-31');
    const id = (await rita.iq(await sendIq(m, to, { request: 'exp1', expiresDays: 2 }))).getChild('sent', GATEWAY_NS)!
      .attrs.id!;
    clock.advance(2 * DAY - 1000);
    gw.service.expire();
    expect(gw.store.get(id)!.ciphertext).not.toBeNull();
    clock.advance(1000);
    expect(gw.service.expire()).toBeGreaterThanOrEqual(1);
    expect(gw.store.get(id)).toMatchObject({ ciphertext: null, state: 'expired' });
    await waitFor('expired state', () => statesOf(id).find((s) => s.attrs.state === 'expired'));
  });

  it('keeps the message text, the DOB and the link secret out of its database and its log', async () => {
    const text = 'Plaintext-canary: your potassium is 5.9 mmol/L';
    const m = await sealForPatient(text, '+15550007777', '1977-03-14');
    await rita.iq(await sendIq(m, to, { request: 'canary' }));
    const files = readdirSync(gw.dir)
      .filter((f) => f.startsWith('gateway.sqlite'))
      .map((f) => readFileSync(join(gw.dir, f)));
    expect(files.length).toBeGreaterThan(0);
    const log = gw.logLines.join('\n');
    for (const secret of ['Plaintext-canary', '5.9 mmol', '1977-03-14', m.fragment]) {
      for (const f of files)
        expect(f.includes(Buffer.from(secret)), `database holds ${secret.slice(0, 12)}…`).toBe(false);
      expect(log.includes(secret)).toBe(false);
    }
    // The number is stored (to text the patient) but never logged.
    expect(log.includes('+15550007777')).toBe(false);
    expect(log).toContain('"event":"message-queued"');
  });
});
