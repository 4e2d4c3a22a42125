/**
 * The gateway with the Twilio adapter (issue 17 items 1 and 4), against a real Prosody. Twilio
 * itself is out of reach here, so a loopback HTTP server stands in for api.twilio.com and records
 * what the gateway posts. Webhooks reach the gateway's real HTTP side: only requests signed the
 * way Twilio documents (X-Twilio-Signature with the auth token over the URL and the form) change
 * anything; unsigned or forged ones get 403.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { XmlElement } from '@xmpp/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { twilioSignature } from '../../gateway/sms/twilio-signature';
import type { XmppConnection } from '../../main/xmpp/transport/connection';
import { fakeClock } from '../support/fake-clock';
import { GATEWAY_NS, postForm, sealForPatient, sendIq, startGatewayWithRita } from '../support/gateway-support';
import type { GatewayWithRita, TestGateway } from '../support/gateway-support';
import type { ProsodyServer } from '../support/prosody';
import { waitFor } from '../support/xmpp-support';

const SID = `AC${'0123456789abcdef'.repeat(2)}`;
const TOKEN = 'test-twilio-auth-token-0123456789';
const WEBHOOK_BASE = 'https://patients.clinic.test';

interface TwilioCall {
  path: string;
  auth: string | undefined;
  form: URLSearchParams;
}

/** Stands in for api.twilio.com: answers each Messages.json POST with a new MessageSid. */
async function fakeTwilioApi(calls: TwilioCall[]): Promise<Server> {
  let n = 0;
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      calls.push({
        path: req.url ?? '',
        auth: req.headers.authorization,
        form: new URLSearchParams(Buffer.concat(chunks).toString()),
      });
      const sid = `SM${(++n).toString(16).padStart(32, '0')}`;
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ sid, status: 'queued' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return server;
}

describe('patient gateway with the Twilio adapter', () => {
  const clock = fakeClock();
  const calls: TwilioCall[] = [];
  const states: XmlElement[] = [];
  let api: Server;
  let setup: GatewayWithRita;
  let server: ProsodyServer;
  let gw: TestGateway;
  let rita: XmppConnection;
  let to: string;

  beforeAll(async () => {
    api = await fakeTwilioApi(calls);
    const apiBaseUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    setup = await startGatewayWithRita(clock, {
      overrides: (b) => ({
        ...b,
        sms: {
          provider: 'twilio',
          accountSid: SID,
          authToken: { env: 'TEST_TWILIO_TOKEN' },
          from: '+15559990000',
          webhookBaseUrl: WEBHOOK_BASE,
          apiBaseUrl,
        },
      }),
      env: { TEST_TWILIO_TOKEN: TOKEN },
      onStanza: (el) => {
        if (el.is('message') && el.getChild('state', GATEWAY_NS)) states.push(el);
      },
    });
    ({ server, gw, rita } = setup);
    to = server.component.domain;
  });
  afterAll(async () => {
    await setup?.close();
    await new Promise((r) => api?.close(r));
  });

  /** Posts a webhook the way Twilio does: signed over WEBHOOK_BASE + path and the form. */
  const webhook = (path: string, fields: Record<string, string>, signature?: string) =>
    postForm(`${gw.baseUrl}${path}`, fields, {
      'x-twilio-signature': signature ?? twilioSignature(TOKEN, `${WEBHOOK_BASE}${path}`, Object.entries(fields)),
    });
  const statesOf = (id: string) => states.map((m) => m.getChild('state', GATEWAY_NS)!).filter((s) => s.attrs.id === id);

  let sentId = '';
  let sentSid = '';

  it("sends through Twilio's Messages API with basic auth and a status callback, and stays queued", async () => {
    const m = await sealForPatient('Your lab work is back.', '+15550101010', '1980-08-08');
    const sent = (await rita.iq(await sendIq(m, to, { request: 't1' }))).getChild('sent', GATEWAY_NS)!;
    expect(sent.attrs.state).toBe('queued');
    sentId = sent.attrs.id!;
    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    expect(call.path).toBe(`/2010-04-01/Accounts/${SID}/Messages.json`);
    expect(call.auth).toBe(`Basic ${Buffer.from(`${SID}:${TOKEN}`).toString('base64')}`);
    expect(call.form.get('To')).toBe('+15550101010');
    expect(call.form.get('From')).toBe('+15559990000');
    expect(call.form.get('Body')).toBe(
      `Your clinic sent you a secure message: http://127.0.0.1:8999/m/${sentId}#${m.fragment}`,
    );
    expect(call.form.get('StatusCallback')).toBe(`${WEBHOOK_BASE}/sms/twilio/status`);
    sentSid = gw.store.get(sentId)!.providerRef!;
    expect(sentSid).toMatch(/^SM[0-9a-f]{32}$/);
  });

  it('rejects an unsigned or forged delivery receipt with 403 and changes nothing', async () => {
    const fields = { MessageSid: sentSid, MessageStatus: 'delivered', AccountSid: SID };
    const unsigned = await postForm(`${gw.baseUrl}/sms/twilio/status`, fields);
    expect(unsigned.status).toBe(403);
    const forged = await webhook(
      '/sms/twilio/status',
      fields,
      twilioSignature('not-the-token', `${WEBHOOK_BASE}/sms/twilio/status`, Object.entries(fields)),
    );
    expect(forged.status).toBe(403);
    // Signed for other fields (a receipt for 'failed' replayed with 'delivered').
    const replayed = await webhook(
      '/sms/twilio/status',
      fields,
      twilioSignature(
        TOKEN,
        `${WEBHOOK_BASE}/sms/twilio/status`,
        Object.entries({ ...fields, MessageStatus: 'failed' }),
      ),
    );
    expect(replayed.status).toBe(403);
    expect(gw.store.get(sentId)!.state).toBe('queued');
    expect(gw.logLines.filter((l) => l.includes('"event":"webhook-rejected"'))).toHaveLength(3);
  });

  it('a signed delivery receipt moves the message to sms-delivered and tells the sender', async () => {
    const res = await webhook('/sms/twilio/status', {
      MessageSid: sentSid,
      MessageStatus: 'delivered',
      AccountSid: SID,
    });
    expect(res.status).toBe(204);
    expect(gw.store.get(sentId)!.state).toBe('sms-delivered');
    await waitFor('sms-delivered state', () => statesOf(sentId).find((s) => s.attrs.state === 'sms-delivered'));
  });

  it('a signed undelivered receipt fails the message (and deletes its ciphertext)', async () => {
    const m = await sealForPatient('Another note.', '+15550202020', '1980-08-08');
    const id = (await rita.iq(await sendIq(m, to, { request: 't2' }))).getChild('sent', GATEWAY_NS)!.attrs.id!;
    const sid = gw.store.get(id)!.providerRef!;
    await webhook('/sms/twilio/status', { MessageSid: sid, MessageStatus: 'undelivered', ErrorCode: '30003' });
    expect(gw.store.get(id)).toMatchObject({ state: 'failed', reason: 'sms-undelivered:30003', ciphertext: null });
    const state = await waitFor('failed state', () => statesOf(id).find((s) => s.attrs.state === 'failed'));
    expect(state.attrs.reason).toBe('sms-undelivered:30003');
  });

  it('a forged STOP is refused; a signed one opts out at once with one confirmation through Twilio', async () => {
    const phone = '+15550303030';
    const forged = await postForm(
      `${gw.baseUrl}/sms/twilio/inbound`,
      { From: phone, Body: 'STOP' },
      { 'x-twilio-signature': 'AAAA' },
    );
    expect(forged.status).toBe(403);
    expect(gw.store.isOptedOut(phone)).toBe(false);

    const before = calls.length;
    const stop = await webhook('/sms/twilio/inbound', { From: phone, To: '+15559990000', Body: 'Opt Out' });
    expect(stop.status).toBe(200);
    expect(await stop.text()).toContain('<Response></Response>');
    expect(gw.store.isOptedOut(phone)).toBe(true);
    await webhook('/sms/twilio/inbound', { From: phone, To: '+15559990000', Body: 'stop' });
    const confirmations = calls.slice(before);
    expect(confirmations).toHaveLength(1);
    expect(confirmations[0]!.form.get('To')).toBe(phone);
    expect(confirmations[0]!.form.get('Body')).toMatch(/^You will not get more texts/);

    const m = await sealForPatient('Follow-up.', phone, '1980-08-08');
    await expect(rita.iq(await sendIq(m, to, { request: 't3' }))).rejects.toMatchObject({
      condition: 'not-acceptable',
    });
    expect(calls.length).toBe(before + 1);
  });
});
