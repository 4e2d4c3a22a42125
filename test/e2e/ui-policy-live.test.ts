// A managed policy that changes while the app runs (issue 14 item 3). IT rewrites the Linux policy
// file of a reception PC whose person is signed in; without a restart:
//   - Settings show the managed values locked, "Managed by your organization", with the new limits;
//   - the shorter lock timeout takes effect at once (counted from the last activity);
//   - the next notification follows the stricter preview;
//   - screenshots become blocked (the Electron windows' content protection: unit electron-window).
// Main runs on a clock the test moves forward (jump-clock.ts): the idle time is skipped, not waited for.
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyInput } from '../../main/policy/schema';
import { jumpClock } from '../support/jump-clock';
import {
  closeWorkstation,
  dismissToasts,
  messageFromDirectory,
  openWorkstation,
  person,
  screenshot,
  send,
  startClinic,
  TEST_ARGON2,
  type Clinic,
  type Workstation,
} from '../support/ui-support';

const reception = person('front.desk', 'clinic.test', 'Kim Front', 'reception');
const physician = person('dr.lind', 'clinic.test', 'Dr. Erik Lindqvist', 'physician');
const clock = jumpClock();

let clinic: Clinic;
let policyPath: string;
let rec: Workstation | undefined;
let doc: Workstation;

/** As IT's deployment script does: a new file beside the old one, then renamed over it (atomic). */
function writePolicy(policy: PolicyInput): void {
  const next = `${policyPath}.new`;
  writeFileSync(next, JSON.stringify({ trustedCaPem: clinic.policy.trustedCaPem, argon2: TEST_ARGON2, ...policy }));
  chmodSync(next, 0o644);
  renameSync(next, policyPath);
}

const toasts = (page: Page) => page.getByTestId('toasts').locator('.toast');

async function openSettings(page: Page): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
}

beforeAll(async () => {
  clinic = await startClinic('ui-policy-live', [reception, physician]);
  mkdirSync(join(clinic.dir, 'etc'));
  policyPath = join(clinic.dir, 'etc', 'policy.json');
  writePolicy({ lockTimeoutMaxMinutes: 30, notificationPreview: 'full', screenshotsAllowed: true });
  rec = await openWorkstation(clinic.browser, {
    userDataDir: join(clinic.dir, 'desk'),
    policyPath,
    // A managed file raises Argon2 to the built-in minimum (load.ts); the test keeps its fast cost.
    policySource: { argon2Minimum: { memoryKiB: TEST_ARGON2.memoryKiB, iterations: TEST_ARGON2.iterations } },
    clock,
  });
  doc = await clinic.open('laptop');
  await clinic.signUp(doc.page, physician);
  await clinic.signUp(rec.page, reception);
  await messageFromDirectory(doc.page, reception);
});

afterAll(async () => {
  await closeWorkstation(rec);
  await clinic?.close();
});

describe('a managed policy changed while the app runs', () => {
  it('applies without a restart: managed settings, the lock timeout at once, the next notification, screenshots', async () => {
    const page = rec!.page;
    const core = rec!.harness.core;
    expect(core.policy.source).toBe(policyPath);
    await openSettings(page);
    const timeoutHint = page.locator('#set-timeout-hint');
    await expect.poll(() => timeoutHint.innerText()).toContain('at most 30 minutes');
    expect(await page.locator('#set-timeout-managed').innerText()).toContain('Managed by your organization');
    expect(await page.getByTestId('policy-screenshotsAllowed').innerText()).toContain('Screenshots: allowed');
    // Retention is not in the file: a built-in default, not shown as managed.
    expect(await page.getByTestId('policy-retentionDays').getByTestId('managed-badge').count()).toBe(0);

    // Before the change: the preview the file allows shows the sender's name in the notification.
    await send(doc.page, 'Before the change');
    await expect.poll(() => toasts(page).first().innerText()).toContain(physician.name);
    await dismissToasts(page);

    writePolicy({ lockTimeoutMaxMinutes: 2, notificationPreview: 'none', screenshotsAllowed: false });
    // The file watch re-reads it; Settings follow the policy:changed event.
    await expect.poll(() => timeoutHint.innerText()).toContain('at most 2 minutes');
    expect(await page.getByLabel('Lock after inactivity (minutes)').inputValue()).toBe('2');
    expect(await page.getByTestId('policy-screenshotsAllowed').innerText()).toContain('Screenshots: blocked');
    expect(await page.getByTestId('policy-screenshotsAllowed').getByTestId('managed-badge').count()).toBe(1);
    // One choice left: the select is locked, and says why.
    expect(await page.getByLabel('Notification content').isDisabled()).toBe(true);
    expect(await page.locator('#set-preview-managed').count()).toBe(1);
    expect(core.policy.policy.screenshotsAllowed).toBe(false);
    await screenshot(page, 'settings-managed');

    // The next notification follows the stricter preview: no name, no text.
    await send(doc.page, 'After the change');
    await expect.poll(() => toasts(page).count()).toBeGreaterThan(0);
    const shown = await toasts(page).first().innerText();
    expect(shown).toContain('New message');
    expect(shown).not.toContain(physician.name);
    expect(shown).not.toContain('After the change');
    await dismissToasts(page);

    // The audit log of the open profile records which keys changed (never values).
    const applied = core.session
      .active()
      .audit.list(null, 50)
      .items.filter((e) => e.type === 'policy-applied');
    expect(applied.map((e) => e.detail.keys)).toContain('lockTimeoutMaxMinutes,notificationPreview,screenshotsAllowed');

    // The lock timeout took effect at once: 3 minutes without input lock the app now, where the
    // 30 minutes it was armed with before the change would not have.
    expect(core.session.isUnlocked()).toBe(true);
    clock.advance(3 * 60_000);
    await page.getByRole('heading', { name: 'Clinic Messenger is locked' }).waitFor({ timeout: 30_000 });
    expect(core.session.isUnlocked()).toBe(false);
  });

  it('a file that turns invalid while the app runs: the error on screen, the strict defaults at once', async () => {
    writeFileSync(policyPath, '{ "lockTimeoutMaxMinutes": ');
    const banner = rec!.page.getByTestId('policy-error');
    await expect.poll(() => banner.textContent()).toMatch(/is not valid JSON/);
    expect(rec!.harness.core.policy.policy.notificationPreview).toBe('none');
    expect(rec!.harness.core.policy.managedKeys).toEqual([]);
    // Fixed again: the banner goes.
    writePolicy({ lockTimeoutMaxMinutes: 10 });
    await expect.poll(() => banner.count()).toBe(0);
    expect(rec!.harness.core.policy.policy.lockTimeoutMaxMinutes).toBe(10);
  });
});
