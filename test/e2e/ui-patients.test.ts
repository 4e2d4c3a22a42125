/**
 * Texting a patient from the desktop, end to end in Chromium (issue 17 items 2 and 3): the
 * receptionist opens Patients, the SMS text is checked for patient information as it is typed,
 * the text is sent through the real patient gateway (an XEP-0114 component of the real Prosody)
 * and its SMS sink; the patient opens the link on a phone-sized page, confirms the date of birth
 * and reads the message; the receptionist's list follows each state to "Opened". The archive key
 * is the compliance account's, pinned by the policy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSink } from '../../gateway/sms/sink';
import { postForm, type TestGateway } from '../support/gateway-support';
import { openPatients, patientDesk, type PatientDesk } from '../support/patient-desk-ui';
import { axeViolations, person, screenshot, type Clinic, type Workstation } from '../support/ui-support';

const reception = person('front.desk', 'clinic.test', 'Kim Front', 'reception');
const TEXT = 'Your wound culture is clear. Keep the dressing dry until your visit.';
const PHONE = '+15550606060';
const REPLY = 'Thank you, I will keep it dry.';

let desk: PatientDesk;
let clinic: Clinic;
let rec: Workstation;
let gw: TestGateway;

beforeAll(async () => {
  // IT's compliance account publishes the clinic's archive key (clinic-admin publish-key).
  desk = await patientDesk('ui-patients', reception, { compliance: true });
  ({ clinic, rec, gw } = desk);
});

afterAll(async () => {
  await desk?.close();
});

describe('texting a patient', () => {
  it('checks the SMS text as it is typed, sends, and lists the text as delivered', async () => {
    const page = rec.page;
    await openPatients(page);
    await page.getByLabel('Patient name').fill('Maria Lopez');
    await page.getByLabel('Mobile number').fill(PHONE);
    await page.getByLabel('Date of birth', { exact: true }).fill('1984-02-29');
    await page.getByLabel('Message', { exact: true }).fill(TEXT);
    const sms = page.getByLabel('Text message the patient receives');
    const send = page.getByRole('button', { name: 'Send secure text' });
    // The patient's name in the SMS: refused on screen, and the button stays off.
    await sms.fill('Hello Maria, a message from the clinic: {link}');
    await page.getByText('is part of the patient').waitFor();
    expect(await send.isDisabled()).toBe(true);
    await sms.fill('Your clinic sent you a secure message: {link}');
    await page.getByText('No patient information in it.').waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await send.click();
    await page.getByRole('status').getByText('Stored and handed to the patient gateway.').waitFor();
    const row = page.getByTestId('patient-text').filter({ hasText: 'Maria Lopez' });
    await expect.poll(() => row.getAttribute('data-state')).toBe('sms-delivered');
    expect(await row.textContent()).toContain('SMS delivered');
    await screenshot(page, 'ui-patients-sent');

    const texts = readSink(gw.sinkDir).filter((t) => t.to === PHONE);
    expect(texts).toHaveLength(1);
    expect(texts[0]!.body).toMatch(/^Your clinic sent you a secure message: https?:\/\/\S+\/m\/[\w-]{22}#[\w-]{22}$/);
  });

  it('the patient opens it on a phone after the date of birth and replies; the desk sees the reply', async () => {
    const sms = readSink(gw.sinkDir).find((t) => t.to === PHONE)!;
    const link = new URL(/https?:\/\/\S+/.exec(sms.body)![0]);
    const context = await clinic.browser.newContext({ viewport: { width: 390, height: 844 } });
    try {
      const phone = await context.newPage();
      await phone.goto(`${gw.baseUrl}${link.pathname}${link.hash}`);
      await phone.getByRole('button', { name: 'Open the message' }).click();
      await phone.getByLabel('Date of birth').fill('1984-02-29');
      await phone.getByRole('button', { name: 'Continue' }).click();
      await expect.poll(() => phone.locator('#text').textContent()).toBe(TEXT);
      await screenshot(phone, 'ui-patients-phone-390x844');
      // The reply is encrypted on the phone to the receptionist's key and the archive key.
      await phone.getByLabel('Your reply').fill(REPLY);
      await phone.getByRole('button', { name: 'Send reply' }).click();
      await phone.getByText('Your reply was sent to your clinic.').waitFor();
    } finally {
      await context.close();
    }
    const row = rec.page.getByTestId('patient-text').filter({ hasText: 'Maria Lopez' });
    await expect.poll(() => row.getAttribute('data-state')).toBe('replied');
    expect(await row.textContent()).toContain('Replied');
    const reply = rec.page.getByTestId('patient-reply');
    await expect.poll(() => reply.textContent()).toContain(REPLY);
    expect(await reply.textContent()).toContain('identity checked by date of birth');
    expect(await axeViolations(rec.page)).toEqual([]);
    await row.scrollIntoViewIfNeeded();
    await screenshot(rec.page, 'ui-patients-opened');
    expect(rec.problems).toEqual([]);
  });

  it('after the patient texts STOP, the next text is refused and the desk says why', async () => {
    const stop = await postForm(`${gw.baseUrl}/sms/sink/inbound`, { From: PHONE, Body: 'STOP' });
    expect(stop.status).toBeLessThan(300);
    const page = rec.page;
    await page.getByLabel('Patient name').fill('Maria Lopez');
    await page.getByLabel('Mobile number').fill(PHONE);
    await page.getByLabel('Date of birth', { exact: true }).fill('1984-02-29');
    await page.getByLabel('Message', { exact: true }).fill('A second message.');
    await page.getByRole('button', { name: 'Send secure text' }).click();
    await page.getByRole('status').getByText('the patient gateway did not send it').waitFor();
    const refused = page.getByTestId('patient-text').and(page.locator('[data-state="failed"]'));
    await expect.poll(() => refused.textContent()).toContain('the patient has opted out of texts');
    // Only the opt-out confirmation went to the phone after the first text.
    expect(readSink(gw.sinkDir).filter((t) => t.to === PHONE)).toHaveLength(2);
    expect(rec.problems).toEqual([]);
  });
});
