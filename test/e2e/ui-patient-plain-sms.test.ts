/**
 * Plain SMS on a patient's documented request (issue 17 item 4), end to end in Chromium with the
 * policy on (patientPlainSmsAllowed) and a gateway that allows plain SMS (plainSms.allowed), through
 * the real gateway (a component of the real Prosody) and its SMS sink: the receptionist records
 * where the patient's request is documented, writes a plain SMS, gets the warning that it goes
 * unencrypted (axe 0, light and dark), can step back without anything sent, confirms, and the
 * patient's phone gets the text as it is. (Under the default policy the option is absent:
 * ui-patient-segments.test.ts checks that.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSink } from '../../gateway/sms/sink';
import type { TestGateway } from '../support/gateway-support';
import { openPatients, patientDesk, type PatientDesk } from '../support/patient-desk-ui';
import { axeViolations, person, screenshot, type Workstation } from '../support/ui-support';

const reception = person('front.desk', 'clinic.test', 'Kim Front', 'reception');
const ANN = '+15550609001';
const TEXT = 'Your ferritin was 12 ng/mL; Dr Ray will call you about iron tablets.';
const CSV = `First name,Last name,Phone,Date of birth\nAnn,Plainly,${ANN},1961-04-05\nBen,Linked,+15550609002,1972-08-09\n`;

let desk: PatientDesk;
let rec: Workstation;
let gw: TestGateway;

beforeAll(async () => {
  desk = await patientDesk('ui-patient-plain-sms', reception, {
    policy: { patientPlainSmsAllowed: true },
    gateway: (b) => ({ ...b, plainSms: { allowed: true } }),
  });
  ({ rec, gw } = desk);
});

afterAll(async () => {
  await desk?.close();
});

describe('plain SMS on a patient’s documented request', () => {
  it('records the request, warns before sending, and sends the text as it is once confirmed', async () => {
    const page = rec.page;
    await openPatients(page);
    await page
      .getByLabel('CSV file')
      .setInputFiles({ name: 'patients.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
    await expect.poll(() => page.getByTestId('patient-count').textContent()).toBe('2 patients in the list.');

    const section = page.getByTestId('plain-sms');
    await section.getByRole('heading', { name: 'Plain SMS on the patient’s request' }).waitFor();
    await section.getByLabel('Patient who asked for plain SMS').selectOption({ label: 'Plainly, Ann' });
    await section.getByLabel('Where the request is documented').fill('Signed form, scanned to the chart');
    await section.getByRole('button', { name: 'Record the request' }).click();
    const request = section.getByTestId('plain-sms-request');
    await request.getByText('Signed form, scanned to the chart; recorded by front.desk@clinic.test').waitFor();

    await section.getByRole('button', { name: 'Write a plain SMS to Ann Plainly' }).click();
    await section.getByLabel('Plain SMS to Ann Plainly').fill(TEXT);
    await section.getByRole('button', { name: 'Send as plain SMS…' }).click();
    const warning = page.getByRole('alertdialog', { name: 'Send this unencrypted?' });
    await warning.getByText('This text goes unencrypted through the phone network.').waitFor();
    expect(
      await warning.getByRole('button', { name: 'Send unencrypted' }).evaluate((b) => b === document.activeElement),
    ).toBe(true);
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
      expect(await axeViolations(page), scheme).toEqual([]);
      await warning.scrollIntoViewIfNeeded();
      await screenshot(page, `ui-patient-plain-sms-warning-${scheme}`);
    }
    await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'reduce' });

    // Stepping back sends nothing.
    await warning.getByRole('button', { name: 'Do not send' }).click();
    expect(await warning.count()).toBe(0);
    expect(readSink(gw.sinkDir).filter((s) => s.to === ANN)).toEqual([]);

    await section.getByRole('button', { name: 'Send as plain SMS…' }).click();
    await warning.getByRole('button', { name: 'Send unencrypted' }).click();
    await section.getByRole('status').getByText('Plain SMS sent to Ann Plainly.').waitFor();
    await expect
      .poll(() =>
        readSink(gw.sinkDir)
          .filter((s) => s.to === ANN)
          .map((s) => s.body),
      )
      .toEqual([TEXT]);
    expect(rec.problems).toEqual([]);
  });
});
