// A second workstation with the same key (XEP-0373 §5): the physician reads the backup code in
// Settings on the laptop and enters it when signing in at the desk PC. The desk PC then uses the
// same key: the receptionist sees no key change, and both of the physician's workstations read
// the reply.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  axeViolations,
  messageFromDirectory,
  person,
  screenshot,
  send,
  startClinic,
  type Clinic,
  type Workstation,
} from '../support/ui-support';

const reception = person('desk5', 'clinic.test', 'Robin Front', 'reception');
const physician = person('dr.lee', 'clinic.test', 'Dr. Sam Lee', 'physician');
const reply = `Room 2 is free (${Date.now().toString(36)})`;

let clinic: Clinic;
let rec: Workstation;
let laptop: Workstation;
let desk: Workstation;

beforeAll(async () => {
  clinic = await startClinic('ui-backup', [reception, physician]);
  rec = await clinic.open('reception');
  laptop = await clinic.open('laptop');
  await clinic.signUp(laptop.page, physician);
  await clinic.signUp(rec.page, reception);
});

afterAll(async () => {
  await clinic?.close();
});

describe('key backup', () => {
  it('moves the key to a second workstation with the backup code shown in Settings', async () => {
    await laptop.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Settings' }).click();
    // The passphrase again (issue 10 §12): a wrong one shows no code and says how many tries are left.
    await laptop.page.getByLabel('Your passphrase').fill(`not ${physician.passphrase}`);
    await laptop.page.getByRole('button', { name: 'Show backup code' }).click();
    await laptop.page.getByRole('status').filter({ hasText: 'attempts left before this profile is erased' }).waitFor();
    expect(await laptop.page.getByTestId('backup-code').count()).toBe(0);
    await laptop.page.getByLabel('Your passphrase').fill(physician.passphrase);
    await laptop.page.getByRole('button', { name: 'Show backup code' }).click();
    await laptop.page.getByTestId('backup-code').waitFor();
    const code = (await laptop.page.getByTestId('backup-code').innerText()).trim();
    expect(code).toMatch(/^([A-HJ-NP-Z2-9]{4}-){5}[A-HJ-NP-Z2-9]{4}$/);
    expect(await axeViolations(laptop.page)).toEqual([]);
    await laptop.page.getByRole('button', { name: 'Hide the code' }).click();
    expect(await laptop.page.getByTestId('backup-code').count()).toBe(0);

    desk = await clinic.open('desk');
    await clinic.fillSignUp(desk.page, physician);
    await desk.page.getByTestId('key-step').waitFor({ timeout: 60_000 });
    // First a wrong code: the key step stays, with a clear message.
    await desk.page.getByLabel('Backup code', { exact: true }).fill('AAAA-BBBB-CCCC-DDDD-EEEE-FFFF');
    await desk.page.getByRole('button', { name: 'Sign in' }).click();
    await desk.page.getByRole('alert').filter({ hasText: 'does not open' }).waitFor({ timeout: 60_000 });
    expect(await axeViolations(desk.page)).toEqual([]);
    await screenshot(desk.page, 'ui-key-backup-step');
    await desk.page.getByLabel('Backup code', { exact: true }).fill(code.toLowerCase());
    await desk.page.getByRole('button', { name: 'Sign in' }).click();
    await desk.page.getByRole('heading', { name: 'Inbox' }).waitFor({ timeout: 60_000 });

    // The receptionist writes to the physician: no key-change banner, and both workstations read it.
    await messageFromDirectory(rec.page, physician);
    await send(rec.page, reply);
    expect(await rec.page.getByTestId('key-change-banner').count()).toBe(0);
    for (const w of [laptop, desk]) {
      await w.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Inbox' }).click();
      await w.page.getByText(reply).first().waitFor({ timeout: 30_000 });
    }
  });
});
