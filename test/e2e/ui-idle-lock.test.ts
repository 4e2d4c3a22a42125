// Inactivity lock end to end (issue 3 §6): a policy with a short idle maximum → the lock screen
// appears by itself with no PHI anywhere in the document → unlock → back in the same conversation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectNoPhi,
  messageFromDirectory,
  person,
  screenshot,
  send,
  startClinic,
  unlockAs,
  type Clinic,
  type Workstation,
} from '../support/ui-support';

const reception = person('front.desk', 'clinic.test', 'Kim Front', 'reception');
const physician = person('dr.lind', 'clinic.test', 'Dr. Erik Lindqvist', 'physician');
const text = `Lab results for bed 7 are in (${Date.now().toString(36)})`;
// 30 s: long enough that throttled activity reports (≤ 1 per 15 s) keep an active user unlocked.
const IDLE_MINUTES = 0.5;

let clinic: Clinic;
let rec: Workstation;
let doc: Workstation;

beforeAll(async () => {
  clinic = await startClinic('ui-idle', [reception, physician]);
  rec = await clinic.open('desk', { lockTimeoutMaxMinutes: IDLE_MINUTES });
  doc = await clinic.open('laptop');
  await clinic.signUp(doc.page, physician);
  await clinic.signUp(rec.page, reception);
});

afterAll(async () => {
  await clinic?.close();
});

describe('inactivity lock', () => {
  it('stays unlocked while the person keeps typing and moving the pointer (throttled activity reports)', async () => {
    await messageFromDirectory(rec.page, physician);
    const box = rec.page.getByRole('textbox', { name: 'Message' });
    const started = Date.now();
    // Longer than the idle time, with input every few seconds: activity reaches main at most every 15 s.
    while (Date.now() - started < IDLE_MINUTES * 60_000 + 10_000) {
      await box.press('x');
      await rec.page.mouse.move(300 + Math.random() * 200, 300);
      await rec.page.waitForTimeout(4_000);
    }
    expect(await rec.page.getByRole('heading', { name: 'Clinic Messenger is locked' }).count()).toBe(0);
    await box.fill('');
  });

  it('locks by itself after the policy idle time and the page holds no PHI', async () => {
    await send(rec.page, text);
    await rec.page.locator('[data-message-id]', { hasText: text }).waitFor();
    const idleFrom = Date.now();
    // No input from here on: only main's idle timer can lock.
    await rec.page
      .getByRole('heading', { name: 'Clinic Messenger is locked' })
      .waitFor({ timeout: IDLE_MINUTES * 60_000 + 30_000 });
    const after = Date.now() - idleFrom;
    console.log(`idle lock after ${(after / 1000).toFixed(1)} s (policy ${IDLE_MINUTES * 60} s)`);
    expect(after).toBeGreaterThan(IDLE_MINUTES * 60_000 - 16_000);
    await expectNoPhi(rec.page, [text, physician.name, physician.jid]);
    await screenshot(rec.page, 'ui-idle-locked');
  });

  it('unlocking returns to the same conversation', async () => {
    await unlockAs(rec.page, reception);
    await rec.page.getByRole('heading', { name: physician.name, level: 2 }).waitFor();
    await rec.page.locator('[data-message-id]', { hasText: text }).waitFor({ timeout: 15_000 });
    expect(rec.problems).toEqual([]);
  });

  it('settings offer only what the policy allows, and the theme override applies at once', async () => {
    const page = rec.page;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Settings' }).click();
    await page.getByText(`The clinic allows at most ${IDLE_MINUTES} minutes`).waitFor();
    expect(await page.getByLabel('Lock after inactivity (minutes)').getAttribute('max')).toBe(String(IDLE_MINUTES));
    // The default policy allows no notification preview: no richer option is offered.
    const options = await page.getByLabel('Notification content').locator('option').allInnerTexts();
    expect(options).toHaveLength(1);
    await page.getByRole('radio', { name: 'Dark' }).check();
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    // The colours follow (light-dark() in app.css resolves by color-scheme): the dark --bg on a light OS.
    const bodyBg = (): Promise<string> => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await expect.poll(bodyBg).toBe('rgb(17, 21, 26)');
    await page.getByRole('radio', { name: 'Follow the system' }).check();
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme ?? 'system')).toBe('system');
    await expect.poll(bodyBg).toBe('rgb(244, 246, 248)');
  });
});
