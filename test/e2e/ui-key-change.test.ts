// The key-change banner (issue 6 §1, ARCHITECTURE.md §6): the physician signs in on a new laptop
// (new OpenPGP key published to PEP); the receptionist's conversation blocks sending behind a
// banner showing both fingerprints until a person acknowledges it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  axeViolations,
  closeWorkstation,
  messageFromDirectory,
  person,
  screenshot,
  send,
  startClinic,
  type Clinic,
  type Workstation,
} from '../support/ui-support';

const reception = person('desk3', 'clinic.test', 'Pat Desk', 'reception');
const physician = person('dr.moss', 'clinic.test', 'Dr. Chris Moss', 'physician');
const hello = `Morning list is ready (${Date.now().toString(36)})`;
const after = `Confirmed the new key (${Date.now().toString(36)})`;

let clinic: Clinic;
let rec: Workstation;
let oldLaptop: Workstation;
let newLaptop: Workstation | undefined;

beforeAll(async () => {
  clinic = await startClinic('ui-key', [reception, physician]);
  rec = await clinic.open('desk');
  oldLaptop = await clinic.open('old-laptop');
  await clinic.signUp(oldLaptop.page, physician);
  await clinic.signUp(rec.page, reception);
});

afterAll(async () => {
  await clinic?.close();
});

describe('key change', () => {
  it('shows the banner with both fingerprints and blocks sending when the key changes', async () => {
    await messageFromDirectory(rec.page, physician);
    await send(rec.page, hello);
    await rec.page.locator('[data-message-id]', { hasText: hello }).waitFor();

    // The physician gets a new laptop: a new profile, a new key published for the same account.
    await closeWorkstation(oldLaptop);
    newLaptop = await clinic.open('new-laptop');
    // Without the old laptop's backup code, the physician starts over with a new key.
    await clinic.signUp(newLaptop.page, physician, 'replace');
    // The new laptop writes first: the receptionist's client sees a signature by an unknown key,
    // refetches the physician's published key and finds it changed.
    await messageFromDirectory(newLaptop.page, reception);
    await send(newLaptop.page, 'New laptop, same doctor.');

    const banner = rec.page.getByTestId('key-change-banner');
    await banner.waitFor({ timeout: 60_000 });
    const fprs = await banner
      .locator('[data-fingerprint]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-fingerprint')));
    expect(fprs).toHaveLength(2);
    expect(fprs[0]).toMatch(/^[0-9A-F]{40}$/);
    expect(fprs[1]).toMatch(/^[0-9A-F]{40}$/);
    expect(fprs[0]).not.toBe(fprs[1]);
    expect(await rec.page.getByRole('textbox', { name: 'Message' }).isDisabled()).toBe(true);
    expect(await axeViolations(rec.page)).toEqual([]);
    await screenshot(rec.page, 'ui-key-change-light');
  });

  it('acknowledging the new key removes the banner and sending works again', async () => {
    await rec.page.getByRole('button', { name: /accept the new key/ }).click();
    await expect.poll(() => rec.page.getByTestId('key-change-banner').count(), { timeout: 15_000 }).toBe(0);
    await send(rec.page, after);
    await newLaptop!.page.locator('[data-message-id]', { hasText: after }).waitFor({ timeout: 45_000 });
    expect(rec.problems).toEqual([]);
  });
});
