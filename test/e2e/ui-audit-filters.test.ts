// The audit screen's filter bar (issue 15 item 5): a colleague, event types chosen by keyboard
// from the checkbox menu, local-day date bounds (inclusive), "Clear filters", the count line,
// a bad address refused at the bar, axe 0 violations. Real Prosody, keychain, SQLCipher, Chromium.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  axeViolations,
  messageFromDirectory,
  messageRow,
  person,
  screenshot,
  screenshotOnFailure,
  send,
  startClinic,
  type Clinic,
  type Workstation,
} from '../support/ui-support';

const reception = person('filter.desk', 'clinic.test', 'Robin Reyes', 'reception');
const physician = person('dr.filter', 'clinic.test', 'Dr. Adaeze Okafor', 'physician');
const token = `AF${Date.now().toString(36)}`;
const notes = ['first', 'second'].map((w) => `Chart ${token} ${w} note`);
const reply = `Reply ${token} from the doctor`;

let clinic: Clinic;
let rec: Workstation;
let doc: Workstation;
/** The local day (yyyy-mm-dd) before any activity, and the one before it. */
let startDay: string;
let dayBefore: string;

/** yyyy-mm-dd in the page's local time zone, `offset` days from now. */
const localDay = (page: Page, offset: number): Promise<string> =>
  page.evaluate((o) => {
    const d = new Date();
    d.setDate(d.getDate() + o);
    const pad = (n: number) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  }, offset);

beforeAll(async () => {
  clinic = await startClinic('ui-audit-filters', [reception, physician]);
  rec = await clinic.open('desk');
  doc = await clinic.open('laptop');
  startDay = await localDay(rec.page, 0);
  dayBefore = await localDay(rec.page, -1);
  await clinic.signUp(rec.page, reception);
  await clinic.signUp(doc.page, physician);
  await messageFromDirectory(rec.page, physician);
  for (const n of notes) await send(rec.page, n);
  await messageFromDirectory(doc.page, reception);
  await send(doc.page, reply);
  await messageRow(rec.page, reply).waitFor({ timeout: 30_000 });
  // Opened again with messages in it: a message-opened entry (peer = the physician).
  await rec.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Directory' }).click();
  await messageFromDirectory(rec.page, physician);
  await messageRow(rec.page, reply).waitFor();
}, 300_000);

afterAll(async () => {
  await clinic?.close();
});

screenshotOnFailure(() => ({ rec }));

const words = (page: Page): Promise<string[]> => page.getByTestId('audit-words').allInnerTexts();
const shown = (page: Page): Promise<string> => page.getByTestId('audit-shown').innerText();

/** Applies the bar and waits until the list shows what `expectShown` says. */
async function apply(page: Page, expectShown: RegExp): Promise<void> {
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect.poll(() => shown(page), { timeout: 10_000 }).toMatch(expectShown);
}

describe('audit filters', () => {
  it('narrows the log to one colleague, across sent, received, opened and key entries', async () => {
    const page = rec.page;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Audit' }).click();
    await expect.poll(() => words(page)).toContain('Signed in on this PC for the first time');
    const everything = await words(page);
    expect(await shown(page)).toMatch(new RegExp(`^Showing ${everything.length} entries from .+ to .+\\.`));
    // The directory offers the colleague; typing the address works the same.
    expect(
      await page.locator('#audit-people option').evaluateAll((os) => os.map((o) => o.getAttribute('value'))),
    ).toContain(physician.jid);
    await page.getByLabel('Person').fill(physician.jid);
    await apply(page, /^Showing \d+ entr/);
    const mine = await words(page);
    expect(mine.filter((w) => w === `Sent a message to ${physician.name}`)).toHaveLength(2);
    expect(mine).toContain(`Received a message from ${physician.name}`);
    expect(mine).toContain(`Opened a conversation with ${physician.name}`);
    expect(mine.some((w) => w.includes(`${physician.name}’s encryption key`))).toBe(true);
    // Every entry left names the physician; the sign-in (our own JID) and locks are gone.
    expect(mine.every((w) => w.includes(physician.name))).toBe(true);
    expect(mine.length).toBeLessThan(everything.length);
    expect(await page.getByRole('table').innerText()).not.toContain(token);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'audit-filters');
  });

  it('adds event types from the checkbox menu by keyboard, and Clear filters shows everything again', async () => {
    const page = rec.page;
    const summary = page.getByTestId('audit-filters').locator('summary');
    expect(await summary.innerText()).toContain('All events');
    await summary.focus();
    await page.keyboard.press('Enter');
    const sent = page.getByRole('checkbox', { name: 'Message sent' });
    await sent.focus();
    await page.keyboard.press('Space');
    expect(await sent.isChecked()).toBe(true);
    expect(await summary.innerText()).toContain('Message sent');
    await screenshot(page, 'audit-filters-types');
    await page.keyboard.press('Escape');
    expect(await summary.evaluate((el) => el === document.activeElement)).toBe(true);
    await apply(page, /^Showing 2 entries from /);
    expect(await words(page)).toEqual([`Sent a message to ${physician.name}`, `Sent a message to ${physician.name}`]);
    // An open menu over the list is still accessible.
    expect(await axeViolations(page)).toEqual([]);

    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(() => words(page)).toContain('Signed in on this PC for the first time');
    expect(await page.getByLabel('Person').inputValue()).toBe('');
    expect(await page.getByRole('checkbox', { name: 'Message sent', includeHidden: true }).isChecked()).toBe(false);
    expect(await page.getByRole('button', { name: 'Clear filters' }).isDisabled()).toBe(true);
  });

  it('keeps whole local days at both ends of a date range', async () => {
    const page = rec.page;
    const all = (await words(page)).length;
    const today = await localDay(page, 0);
    // Everything happened from startDay on, up to now: both ends inclusive keep it all.
    await page.getByLabel('From', { exact: true }).fill(startDay);
    await page.getByLabel('To', { exact: true }).fill(today);
    await apply(page, new RegExp(`^Showing ${all} entries from `));
    // A range that ends the day before anything happened: nothing.
    await page.getByLabel('From', { exact: true }).fill('');
    await page.getByLabel('To', { exact: true }).fill(dayBefore);
    await apply(page, /^No entries match these filters\./);
    expect(await words(page)).toEqual([]);
    expect(await axeViolations(page)).toEqual([]);
    // From tomorrow: nothing yet.
    await page.getByLabel('To', { exact: true }).fill('');
    await page.getByLabel('From', { exact: true }).fill(await localDay(page, 1));
    await apply(page, /^No entries match these filters\./);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(() => words(page)).toHaveLength(all);
  });

  it('says what is wrong with a bad address or a reversed range, and lists nothing new', async () => {
    const page = rec.page;
    const before = await words(page);
    await page.getByLabel('Person').fill('not an address');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    expect(await page.getByRole('alert').innerText()).toContain('Type an address such as alice@clinic.example.');
    await page.getByLabel('Person').fill('');
    await page.getByLabel('From', { exact: true }).fill(startDay);
    await page.getByLabel('To', { exact: true }).fill(dayBefore);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    expect(await page.getByRole('alert').innerText()).toContain('The end date is before the start date.');
    expect(await words(page)).toEqual(before);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    expect(await page.getByRole('alert').count()).toBe(0);
  });
});
