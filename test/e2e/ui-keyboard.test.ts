// Keyboard and feedback (issue 12 §9): search results by arrows and Enter, the Ctrl+/ shortcuts
// sheet and focus back on whatever opened a dialog, the audit log in plain words beside the exact
// record, the app's own message for an out-of-range setting, and catch-up progress with a bar for
// a backlog sent while the receptionist was offline. Real Prosody, keychain, SQLCipher, Chromium.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  axeViolations,
  closeWorkstation,
  messageFromDirectory,
  messageRow,
  person,
  screenshot,
  screenshotOnFailure,
  send,
  startClinic,
  unlockAs,
  type Clinic,
  type Workstation,
} from '../support/ui-support';

const reception = person('keys.desk', 'clinic.test', 'Robin Reyes', 'reception');
const physician = person('dr.keys', 'clinic.test', 'Dr. Adaeze Okafor', 'physician');
const token = `KB${Date.now().toString(36)}`;
const notes = ['first', 'second', 'third'].map((w) => `Chart ${token} ${w} note`);
const BACKLOG = 24;

let clinic: Clinic;
let rec: Workstation;
let doc: Workstation;

const focusedIs = (page: Page, selector: string) =>
  page.evaluate((s) => document.activeElement === document.querySelector(s), selector);

beforeAll(async () => {
  clinic = await startClinic('ui-keys', [reception, physician]);
  rec = await clinic.open('desk');
  doc = await clinic.open('laptop');
  await clinic.signUp(rec.page, reception);
  await clinic.signUp(doc.page, physician);
  await messageFromDirectory(rec.page, physician);
  for (const n of notes) await send(rec.page, n);
  await messageRow(rec.page, notes[2]!).waitFor();
}, 300_000);

afterAll(async () => {
  await clinic?.close();
});

screenshotOnFailure(() => ({ keys: rec }));

describe('keyboard', () => {
  it('search results work with the arrow keys, and Enter opens the chosen message', async () => {
    const page = rec.page;
    // Leave the conversation first, so opening one is the result's doing.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Directory' }).click();
    await page.keyboard.press('Control+f');
    const box = page.getByRole('combobox', { name: 'Search messages' });
    await box.fill(token);
    const options = page.getByRole('listbox', { name: 'Search results' }).getByRole('option');
    await expect.poll(() => options.count(), { timeout: 15_000 }).toBe(3);
    await box.press('ArrowDown');
    await box.press('ArrowDown');
    await box.press('ArrowDown');
    await box.press('ArrowUp');
    const chosen = options.nth(1);
    expect(await chosen.getAttribute('aria-selected')).toBe('true');
    expect(await box.getAttribute('aria-activedescendant')).toBe(await chosen.getAttribute('id'));
    // Focus stays in the field the whole time (combobox pattern): typing goes on working.
    expect(await focusedIs(page, '#search-input')).toBe(true);
    // Which note the chosen result is (each has its own word: first, second, third).
    const chosenText = await chosen.innerText();
    const expected = notes.find((n) => chosenText.includes(` ${n.split(' ')[2]} `))!;
    expect(expected).toBeDefined();
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'ui-keyboard-search-light');

    await box.press('Enter');
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    await page.getByRole('heading', { name: physician.name, level: 2 }).waitFor();
    const target = page.getByTestId('jump-target');
    await target.waitFor({ timeout: 15_000 });
    expect(await target.innerText()).toContain(expected);
    await expect.poll(() => target.evaluate((el) => el === document.activeElement)).toBe(true);
  });

  it('Ctrl+/ opens the shortcuts sheet, and Escape gives focus back to what opened it', async () => {
    const page = rec.page;
    const composer = page.getByRole('textbox', { name: 'Message' });
    await composer.focus();
    await page.keyboard.press('Control+/');
    const sheet = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await sheet.waitFor();
    const text = await sheet.innerText();
    for (const what of [
      'Go to a conversation or person',
      'Search messages',
      'Lock Clinic Messenger',
      'Show these shortcuts',
    ])
      expect(text).toContain(what);
    expect(await sheet.locator('kbd', { hasText: '/' }).count()).toBe(1);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'ui-keyboard-shortcuts-light');
    await page.keyboard.press('Escape');
    await expect.poll(() => sheet.count()).toBe(0);
    expect(await focusedIs(page, '#composer-text')).toBe(true);

    // A dialog opened with a button gives focus back to that button.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Inbox' }).click();
    const search = page.getByRole('button', { name: 'Search', exact: true });
    await search.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Search messages' }).waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    expect(await search.evaluate((el) => el === document.activeElement)).toBe(true);

    // Opened by a shortcut with nothing focused: focus lands on the screen's heading, not nowhere.
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.keyboard.press('Control+k');
    await page.getByRole('dialog', { name: 'Quick switcher' }).waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    const heading = page.getByRole('heading', { name: 'Inbox', level: 1 });
    expect(await heading.evaluate((el) => el === document.activeElement)).toBe(true);
  });
});

describe('feedback', () => {
  it('the audit log says what happened in plain words next to the exact record, without message text', async () => {
    const page = rec.page;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Audit' }).click();
    const row = page
      .getByRole('row')
      .filter({ hasText: `Opened a conversation with ${physician.name}` })
      .first();
    await row.waitFor({ timeout: 15_000 });
    const record = await row.locator('td').nth(3).innerText();
    expect(record).toContain('message-opened');
    expect(record).toContain(`peer=${physician.jid}`);
    expect(
      await page
        .getByRole('row')
        .filter({ hasText: `Sent a message to ${physician.name}` })
        .count(),
    ).toBe(3);
    expect(await page.getByRole('table').innerText()).not.toContain(token);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'ui-keyboard-audit-light');
  });

  it('an out-of-range setting gets the app’s own message at the field, not the browser’s', async () => {
    const page = rec.page;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Settings' }).click();
    const field = page.getByLabel('Lock after inactivity (minutes)');
    await field.waitFor();
    const hint = await page.locator('#set-timeout-hint').innerText();
    const max = Number(/at most (\d+)/.exec(hint)![1]);
    await field.fill(String(max + 10));
    await page.getByRole('button', { name: 'Save' }).click();
    const error = page.getByTestId('timeout-error');
    await error.waitFor();
    expect(await error.innerText()).toBe(`Choose a number of minutes up to ${max} (the clinic's maximum).`);
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    expect(await field.getAttribute('aria-describedby')).toContain('set-timeout-error');
    expect(await field.evaluate((el) => el === document.activeElement)).toBe(true);
    // The browser's own check did not stop the form (it would have shown its bubble instead).
    expect(await field.evaluate((el) => (el as HTMLInputElement).form?.noValidate)).toBe(true);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'ui-keyboard-setting-light');

    await field.fill('');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => error.innerText()).toBe(`Enter a number of minutes from 1 to ${max}.`);
    await field.fill(String(max));
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Settings saved.').waitFor();
    expect(await error.count()).toBe(0);
  });

  it('catch-up after being offline shows "Getting N messages…" with a bar, the first time and the next', async () => {
    // The receptionist's PC is off; the physician writes a backlog meanwhile.
    const first = await offlineBacklog(BACKLOG, 'first');
    // The whole archive so far (catch-up started at its beginning): at least the backlog.
    expect(first).toBeGreaterThanOrEqual(BACKLOG);
    // Off again, five more: counted from where the last catch-up stopped, not the whole archive
    // (which now holds at least first + 5). Receipts and markers are archived too, so it can be more than 5.
    const second = await offlineBacklog(5, 'second');
    expect(second).toBeGreaterThanOrEqual(5);
    expect(second).toBeLessThan(first + 5);
    expect(rec.problems).toEqual([]);
  });
});

/** Closes the desk, sends `n` messages from the laptop, reopens and unlocks; the total the desk showed. */
async function offlineBacklog(n: number, round: string): Promise<number> {
  await closeWorkstation(rec);
  const conv = doc.page.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: /Robin Reyes/ });
  await conv.click();
  for (let i = 0; i < n; i++) await send(doc.page, `Backlog ${token} ${round} ${i}`);

  rec = await clinic.open('desk');
  const page = rec.page;
  await page.getByRole('heading', { name: 'Clinic Messenger is locked' }).waitFor({ timeout: 30_000 });
  // Record what the progress region shows as it changes: it may be gone before a poll would look.
  await page.evaluate(() => {
    const seen: { text: string; max: number | null; value: number | null }[] = [];
    (window as unknown as { __sync: typeof seen }).__sync = seen;
    new MutationObserver(() => {
      const el = document.querySelector('[data-testid="sync-progress"]');
      const bar = el?.querySelector('progress');
      if (!el?.textContent?.trim()) return;
      seen.push({
        text: el.textContent.trim(),
        max: bar?.hasAttribute('max') ? bar.max : null,
        value: bar?.hasAttribute('value') ? bar.value : null,
      });
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  await unlockAs(page, reception);
  await page
    .getByRole('list', { name: 'Conversations' })
    .getByRole('button', { name: /Dr. Adaeze Okafor/ })
    .click();
  await messageRow(page, `Backlog ${token} ${round} ${n - 1}`).waitFor({ timeout: 60_000 });
  await expect.poll(() => page.getByTestId('sync-progress').innerText()).toBe('');

  const seen = await page.evaluate(
    () => (window as unknown as { __sync: { text: string; max: number | null; value: number | null }[] }).__sync,
  );
  const counted = seen.find((s) => /^Getting [\d,]+ messages?…/.test(s.text));
  expect(counted, JSON.stringify(seen.map((s) => s.text))).toBeDefined();
  const total = Number(/Getting ([\d,]+)/.exec(counted!.text)![1]!.replace(/,/g, ''));
  // The bar is determinate, its maximum that total.
  expect(seen.some((s) => s.max === total && s.value !== null)).toBe(true);
  return total;
}
