/**
 * The patient page's HTTP side (issue 17 items 3 and 6), real gateway and real Prosody, the
 * patient played with fetch (the Chromium run is test/e2e/gateway-patient-page.test.ts): the page
 * is static with a strict CSP, SRI and no referrer, and opening it changes nothing; three wrong
 * dates of birth lock the link for 60 minutes (the injected clock); an altered link id is refused;
 * the right DOB returns the ciphertext, which the link secret decrypts, and the sender is told
 * "opened"; an expired link says so.
 */
import { createHash } from 'node:crypto';
import type { XmlElement } from '@xmpp/client';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { XmppConnection } from '../../main/xmpp/transport/connection';
import { fakeClock } from '../support/fake-clock';
import { GATEWAY_NS, sealForPatient, sendIq, startGatewayWithRita } from '../support/gateway-support';
import type { GatewayWithRita, TestGateway } from '../support/gateway-support';
import type { ProsodyServer } from '../support/prosody';
import { waitFor } from '../support/xmpp-support';

const MINUTE = 60_000;

describe('patient page over HTTP', () => {
  const clock = fakeClock();
  const states: XmlElement[] = [];
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

  const send = async (text: string, dob: string, expiresDays?: number) => {
    const m = await sealForPatient(text, '+15550400000', dob);
    const iq = await sendIq(m, server.component.domain, { request: `p${++n}`, expiresDays });
    const id = (await rita.iq(iq)).getChild('sent', GATEWAY_NS)!.attrs.id!;
    return { m, id };
  };
  const open = (id: string, dob: unknown) =>
    fetch(`${gw.baseUrl}/api/m/${id}/open`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dob }),
    });

  it('serves a static page with a strict CSP, SRI, no referrer and no third-party address; a GET opens nothing', async () => {
    const { id } = await send('Page test.', '1990-01-02');
    const res = await fetch(`${gw.baseUrl}/m/${id}`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await res.text();
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)" integrity="(sha384-[^"]+)"/g)];
    expect(refs.map((r) => r[1]).sort()).toEqual(['/static/openpgp.min.js', '/static/page.css', '/static/page.js']);
    for (const [, path, sri] of refs) {
      const body = Buffer.from(await (await fetch(`${gw.baseUrl}${path}`)).arrayBuffer());
      expect(`sha384-${createHash('sha384').update(body).digest('base64')}`).toBe(sri);
    }
    expect(gw.store.get(id)!.state).toBe('sms-delivered');
  });

  it('three wrong dates of birth lock the link for 60 minutes, even for the right one; then it opens', async () => {
    const { m, id } = await send('Your appointment is moved to Tuesday.', '1984-02-29');
    expect(await (await open(id, '1984-03-01')).json()).toEqual({ error: 'wrong-dob', triesLeft: 2 });
    expect(await (await open(id, '1948-02-29')).json()).toEqual({ error: 'wrong-dob', triesLeft: 1 });
    const third = await open(id, '29/02/1984');
    expect(third.status).toBe(429);
    const until = new Date(clock.now() + 60 * MINUTE).toISOString();
    expect(await third.json()).toEqual({ error: 'locked', until });
    expect(await (await open(id, '1984-02-29')).json()).toEqual({ error: 'locked', until });
    clock.advance(59 * MINUTE);
    expect((await open(id, '1984-02-29')).status).toBe(429);
    clock.advance(MINUTE);
    const ok = await open(id, '1984-02-29');
    expect(ok.status).toBe(200);
    const { ciphertext } = (await ok.json()) as { ciphertext: string };
    const message = await openpgp.readMessage({ binaryMessage: Buffer.from(ciphertext, 'base64') });
    const { data } = await openpgp.decrypt({ message, passwords: [m.fragment] });
    expect(data).toBe('Your appointment is moved to Tuesday.');
    expect(gw.store.get(id)!.state).toBe('opened');
    await waitFor('opened state', () =>
      states.map((s) => s.getChild('state', GATEWAY_NS)!).find((s) => s.attrs.id === id && s.attrs.state === 'opened'),
    );
  });

  it('parallel guesses cannot get more than three tries', async () => {
    const { id } = await send('Parallel.', '1975-06-15');
    const answers = await Promise.all(
      ['1975-06-16', '1975-06-17', '1975-06-18', '1975-06-19', '1975-06-15'].map(
        async (d) => (await open(id, d)).status,
      ),
    );
    expect(answers.filter((s) => s === 403)).toHaveLength(2);
    expect(answers.filter((s) => s === 200)).toHaveLength(0);
  });

  it('refuses an altered or guessed link id the same way as an unknown one', async () => {
    const { id } = await send('Altered.', '1990-01-02');
    const altered = `${id.slice(0, -1)}${id.endsWith('A') ? 'B' : 'A'}`;
    for (const bad of [altered, 'AAAAAAAAAAAAAAAAAAAAAA', 'short', '..%2F..%2Fetc']) {
      const res = await open(bad, '1990-01-02');
      expect(res.status, bad).toBe(404);
      expect(await res.json()).toEqual({ error: 'not-found' });
    }
  });

  it('an expired link answers expired and holds no ciphertext', async () => {
    const { id } = await send('Expiring.', '1990-01-02', 1);
    clock.advance(86_400_000);
    gw.service.expire();
    const res = await open(id, '1990-01-02');
    expect(res.status).toBe(410);
    expect(await res.json()).toEqual({ error: 'expired' });
  });

  it('logs no DOB, no phone number and no link secret', () => {
    const log = gw.logLines.join('\n');
    for (const s of ['1984-02-29', '1984-03-01', '29/02/1984', '+15550400000']) expect(log.includes(s)).toBe(false);
    expect(log).toContain('"event":"dob-locked"');
  });
});
