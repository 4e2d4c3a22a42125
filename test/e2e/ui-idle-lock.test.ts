// Inactivity lock end to end (issue 3 §6): a policy with a short idle maximum → the lock screen
// appears by itself with no PHI anywhere in the document → unlock → back in the same conversation.
// The desk's main process runs on a clock the test moves forward (test/support/jump-clock.ts): the
// idle time is skipped, not waited for, and nothing here depends on how fast the machine is.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jumpClock } from '../support/jump-clock';
import {
  closeWorkstation,
  expectNoPhi,
  messageFromDirectory,
  openWorkstation,
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
// 2 min: main's clock jumps ahead, but real time runs on beside it (the page throttles its activity
// reports to one per 15 s of real time); the margins below leave room for both.
const IDLE_MINUTES = 2;
const IDLE_MS = IDLE_MINUTES * 60_000;
const clock = jumpClock();

let clinic: Clinic;
let rec: Workstation;
let doc: Workstation;

beforeAll(async () => {
  clinic = await startClinic('ui-idle', [reception, physician]);
  rec = await openWorkstation(clinic.browser, {
    userDataDir: join(clinic.dir, 'desk'),
    policy: { ...clinic.policy, lockTimeoutMaxMinutes: IDLE_MINUTES },
    clock,
  });
  doc = await clinic.open('laptop');
  await clinic.signUp(doc.page, physician);
  await clinic.signUp(rec.page, reception);
});

afterAll(async () => {
  // Opened beside the clinic's own workstations, so closed here: clinic.close() then removes a
  // folder no running core still writes to (CI once saw ENOTEMPTY removing this profile).
  await closeWorkstation(rec);
  await clinic?.close();
});

describe('inactivity lock', () => {
  it('stays unlocked while the person keeps typing and moving the pointer (throttled activity reports)', async () => {
    await messageFromDirectory(rec.page, physician);
    const box = rec.page.getByRole('textbox', { name: 'Message' });
    // Counted once main has answered the report, not when the page sends it: main's clock moves
    // next, and a report it had not yet handled would count against the idle time.
    const reports = () => rec.ipc.answered.filter((c) => c === 'app:activity').length;
    // Two rounds of input, each reaching main as a throttled report (at most one per 15 s of the
    // page's time), each followed by half the idle time on main's clock: more than the idle time
    // in all, yet never that long (nor the 30 s warning before it) without input.
    for (let round = 0; round < 2; round++) {
      const before = reports();
      await expect
        .poll(
          async () => {
            await box.press('x');
            await rec.page.mouse.move(300 + round * 50, 300);
            return reports();
          },
          { timeout: 30_000, interval: 1_000 },
        )
        .toBeGreaterThan(before);
      clock.advance(IDLE_MS / 2);
    }
    expect(rec.harness.core.session.isUnlocked()).toBe(true);
    expect(await rec.page.getByRole('heading', { name: 'Clinic Messenger is locked' }).count()).toBe(0);
    await box.fill('');
  });

  it('locks by itself after the policy idle time and the page holds no PHI', async () => {
    await send(rec.page, text);
    await rec.page.locator('[data-message-id]', { hasText: text }).waitFor();
    // The send was the last activity main heard of. Not yet at the idle time: still unlocked.
    rec.harness.core.session.reportActivity();
    clock.advance(IDLE_MS - 1_000);
    expect(rec.harness.core.session.isUnlocked()).toBe(true);
    // No input from here on: past the idle time, only main's idle timer can lock.
    clock.advance(2_000);
    await rec.page.getByRole('heading', { name: 'Clinic Messenger is locked' }).waitFor({ timeout: 30_000 });
    expect(rec.harness.core.session.isUnlocked()).toBe(false);
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
