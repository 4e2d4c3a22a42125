/**
 * The patient page in real Chromium on a phone-sized viewport (issue 17 items 3 and 6), against the
 * real gateway and a real Prosody: the patient taps, gives the date of birth and reads the message,
 * decrypted in the page with the link's #fragment. Checked on the way: every request stays on the
 * gateway's origin, none carries a referrer or the fragment, the fragment leaves the address bar,
 * axe finds no violation, three wrong dates lock the link, a second phone needs a texted code on top
 * of the date of birth, and an altered fragment cannot decrypt.
 */
import type { Browser, Page, Request } from 'playwright-core';
import { xml, type XmlElement } from '@xmpp/client';
import * as openpgp from 'openpgp';
import { parsePatientReply } from '../../common/patient-reply';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSink } from '../../gateway/sms/sink';
import type { XmppConnection } from '../../main/xmpp/transport/connection';
import { fileBrowser } from '../support/chromium';
import { fakeClock } from '../support/fake-clock';
import {
  GATEWAY_NS,
  replyKeyPair,
  sealForPatient,
  sendIq,
  startTestGateway,
  type TestGateway,
} from '../support/gateway-support';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { axeViolations, screenshot } from '../support/ui-support';
import { rawConnection, waitFor } from '../support/xmpp-support';

const RITA = 'rita@clinic.test';
const TEXT = 'Your test results are normal. No need to come in.';

describe('patient page in Chromium', () => {
  const clock = fakeClock();
  let server: ProsodyServer;
  let gw: TestGateway;
  let rita: XmppConnection;
  let browser: Browser;
  let n = 0;
  const stanzas: XmlElement[] = [];

  beforeAll(async () => {
    server = await startProsody({ users: [{ jid: RITA, password: 'rita-pw-1', name: 'Rita Reception' }] });
    gw = await startTestGateway(server, clock);
    rita = rawConnection(server, RITA, 'rita-pw-1', 'desk', (el) => {
      if (el.is('message')) stanzas.push(el);
    });
    await rita.start();
    await rita.send(xml('presence'));
    browser = await fileBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await rita?.stop();
    await gw?.close();
    await server?.stop();
  });

  /** Sends a message and returns the link the patient's phone got, on the test gateway's address. */
  async function textPatient(
    text: string,
    dob: string,
    check?: 'dob' | 'code',
    replyKeys?: Uint8Array[],
    phoneNumber = '+15550500000',
  ) {
    const m = await sealForPatient(text, phoneNumber, dob);
    const res = await rita.iq(await sendIq(m, server.component.domain, { request: `e${++n}`, check, replyKeys }));
    const id = res.getChild('sent', GATEWAY_NS)!.attrs.id!;
    const sms = readSink(gw.sinkDir).find((t) => t.body.includes(`/m/${id}#`))!;
    const link = new URL(/https?:\/\/\S+/.exec(sms.body)![0]);
    return { m, id, url: `${gw.baseUrl}${link.pathname}${link.hash}` };
  }

  async function phone(): Promise<{ page: Page; requests: Request[] }> {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const requests: Request[] = [];
    page.on('request', (r) => requests.push(r));
    return { page, requests };
  }

  it('tap, date of birth, message: decrypted in the page; nothing leaves but the DOB, to the gateway only', async () => {
    const { m, id, url } = await textPatient(TEXT, '1984-02-29');
    const { page, requests } = await phone();
    await page.goto(url);
    expect(await page.evaluate(() => window.location.hash)).toBe('');
    expect(await axeViolations(page)).toEqual([]);
    expect(gw.store.get(id)!.state).toBe('sms-delivered');

    await page.getByRole('button', { name: 'Open the message' }).click();
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'gateway-patient-dob-390x844');
    await page.getByLabel('Date of birth').fill('1984-02-29');
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(() => page.locator('#text').textContent()).toBe(TEXT);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'gateway-patient-page-390x844');
    expect(gw.store.get(id)!.state).toBe('opened');

    for (const r of requests) {
      expect(r.url().startsWith(`${gw.baseUrl}/`), r.url()).toBe(true);
      expect(r.url()).not.toContain(m.fragment);
      expect(r.postData() ?? '').not.toContain(m.fragment);
      expect(await r.headerValue('referer')).toBeNull();
    }
    await page.context().close();
  });

  it('three wrong dates of birth lock the link; the page says until when', async () => {
    const { url } = await textPatient('Locked out.', '1970-01-01');
    const { page } = await phone();
    await page.goto(url);
    await page.getByRole('button', { name: 'Open the message' }).click();
    for (const [i, d] of ['1970-01-02', '1970-01-03'].entries()) {
      await page.getByLabel('Date of birth').fill(d);
      await page.getByRole('button', { name: 'Continue' }).click();
      await expect
        .poll(() => page.getByRole('alert').textContent())
        .toContain(`${2 - i} ${i === 0 ? 'tries' : 'try'} left`);
    }
    await page.getByLabel('Date of birth').fill('1970-01-04');
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Too many tries');
    expect(await page.getByRole('button', { name: 'Continue' }).isDisabled()).toBe(true);
    expect(await page.locator('#text').textContent()).toBe('');
    await page.context().close();
  });

  it('code check: the tap texts a code, a wrong one says so, the right one opens the message, a reused one does not', async () => {
    const { id, url } = await textPatient(TEXT, '', 'code');
    const before = readSink(gw.sinkDir).length;
    const { page, requests } = await phone();
    await page.goto(url);
    await page.getByRole('button', { name: 'Open the message' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('We sent a code by text message');
    const texts = readSink(gw.sinkDir);
    expect(texts).toHaveLength(before + 1);
    const code = /\b([0-9]{6})\b/.exec(texts.at(-1)!.body)![1]!;
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'gateway-patient-code-390x844');

    await page.getByLabel('Code from the text message').fill(code === '000000' ? '000001' : '000000');
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('That code does not match. 2 tries left.');
    await page.getByRole('button', { name: 'Text me a new code' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('A code was just sent');
    await page.getByLabel('Code from the text message').fill(code);
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(() => page.locator('#text').textContent()).toBe(TEXT);
    expect(gw.store.get(id)!.state).toBe('opened');
    for (const r of requests) expect(r.url().startsWith(`${gw.baseUrl}/`), r.url()).toBe(true);
    await page.context().close();

    // The same link on another phone with the code already used: refused.
    const second = await phone();
    await second.page.goto(url);
    await second.page.getByRole('button', { name: 'Open the message' }).click();
    await expect.poll(() => second.page.getByRole('alert').textContent()).toContain('A code was just sent');
    await second.page.getByLabel('Code from the text message').fill(code);
    await second.page.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(() => second.page.getByRole('alert').textContent()).toContain('no longer valid');
    expect(await second.page.locator('#message').isHidden()).toBe(true);
    await second.page.context().close();
  });

  it('step-up: the same link on a second phone asks for a texted code after the right date of birth, then opens', async () => {
    // Another number: the gateway caps texts per number per day.
    const { id, url } = await textPatient(TEXT, '1984-02-29', 'dob', undefined, '+15550500001');
    const first = await phone();
    await first.page.goto(url);
    await first.page.getByRole('button', { name: 'Open the message' }).click();
    await first.page.getByLabel('Date of birth').fill('1984-02-29');
    await first.page.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(() => first.page.locator('#text').textContent()).toBe(TEXT);
    await first.page.context().close();

    // A new browser context: its own localStorage, so another device token.
    const before = readSink(gw.sinkDir).length;
    const { page, requests } = await phone();
    await page.goto(url);
    await page.getByRole('button', { name: 'Open the message' }).click();
    await page.getByLabel('Date of birth').fill('1984-02-29');
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('We sent a code by text message');
    expect(await page.locator('#code-why').textContent()).toContain('on a different phone or browser');
    expect(await page.locator('#check').isHidden()).toBe(true);
    expect(await page.locator('#message').isHidden()).toBe(true);
    expect(await axeViolations(page)).toEqual([]);
    const texts = readSink(gw.sinkDir);
    expect(texts).toHaveLength(before + 1);
    const code = /\b([0-9]{6})\b/.exec(texts.at(-1)!.body)![1]!;
    await page.getByLabel('Code from the text message').fill(code);
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(() => page.locator('#text').textContent()).toBe(TEXT);
    const opens = requests.filter((r) => r.url().endsWith(`/api/m/${id}/open`));
    expect(opens.map((r) => Object.keys(JSON.parse(r.postData()!) as object).sort())).toEqual([
      ['device', 'dob'],
      ['code', 'device', 'dob'],
    ]);
    await page.context().close();
  });

  it('reply: the patient writes back, the page encrypts it, Rita gets ciphertext only her key and the archive key open', async () => {
    const [ritaKeys, archive] = await Promise.all([replyKeyPair('xmpp:rita@clinic.test'), replyKeyPair('archive')]);
    const { m, id, url } = await textPatient(TEXT, '1984-02-29', 'dob', [ritaKeys.publicBinary, archive.publicBinary]);
    const { page, requests } = await phone();
    await page.goto(url);
    await page.getByRole('button', { name: 'Open the message' }).click();
    await page.getByLabel('Date of birth').fill('1984-02-29');
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(() => page.locator('#text').textContent()).toBe(TEXT);
    const reply = 'Thank you. Can I call back on Monday?';
    await page.getByLabel('Your reply').fill(reply);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'gateway-patient-reply-390x844');
    await page.getByRole('button', { name: 'Send reply' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Your reply was sent to your clinic.');
    expect(await page.locator('#reply').isHidden()).toBe(true);

    const stanza = await waitFor('the reply at Rita', () =>
      stanzas.find((s) => s.getChild('reply', GATEWAY_NS)?.attrs.message === id),
    );
    const parsed = parsePatientReply(stanza, { gatewayDomain: server.component.domain });
    if (!parsed?.ok) throw new Error(`reply not accepted: ${JSON.stringify(parsed)}`);
    expect(parsed.reply.verified).toBe('dob');
    for (const key of [ritaKeys.privateKey, archive.privateKey]) {
      const message = await openpgp.readMessage({ binaryMessage: parsed.reply.ciphertext });
      expect((await openpgp.decrypt({ message, decryptionKeys: key })).data).toBe(reply);
    }
    // What left the phone: the DOB and the ciphertext, to the gateway only; never the text or the fragment.
    for (const r of requests) {
      expect(r.url().startsWith(`${gw.baseUrl}/`), r.url()).toBe(true);
      expect(r.postData() ?? '').not.toContain(reply);
      expect(r.postData() ?? '').not.toContain(m.fragment);
    }
    expect(gw.store.get(id)!.state).toBe('replied');
    await page.context().close();
  });

  it('an altered fragment cannot decrypt: the page says the link was changed and shows nothing', async () => {
    const { url } = await textPatient('Altered fragment.', '1970-01-01');
    const [base, fragment] = url.split('#') as [string, string];
    const altered = `${base}#${fragment.startsWith('A') ? 'B' : 'A'}${fragment.slice(1)}`;
    const { page } = await phone();
    await page.goto(altered);
    await page.getByRole('button', { name: 'Open the message' }).click();
    await page.getByLabel('Date of birth').fill('1970-01-01');
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('was changed');
    expect(await page.locator('#message').isHidden()).toBe(true);
    await page.context().close();
  });
});
