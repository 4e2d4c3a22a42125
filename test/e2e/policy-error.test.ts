// An invalid managed policy file is an error on screen — not a crash, not an ignored file —
// and the strict defaults apply meanwhile (ARCHITECTURE.md §7).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium';
import { startHarness, type Harness } from '../support/harness';

let dir: string;
let harness: Harness;
let browser: Browser;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'e2e-policy-'));
  mkdirSync(join(dir, 'etc'));
  const policyPath = join(dir, 'etc', 'policy.json');
  // A typo'd key and a value out of range: both must be reported.
  writeFileSync(policyPath, JSON.stringify({ lockTimeoutMaxMinutes: 0, notificationPreveiw: 'full' }));
  harness = await startHarness({ userDataDir: join(dir, 'user'), rendererDir: resolve('dist/renderer'), policyPath });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await harness?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('invalid managed policy', () => {
  it('shows the problem on the first-run screen and keeps the strict defaults', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(harness.url);
    const banner = page.getByTestId('policy-error');
    await expect.poll(() => banner.textContent(), { timeout: 15_000 }).toMatch(/lockTimeoutMaxMinutes/);
    expect(await banner.getAttribute('role')).toBe('alert');
    expect(harness.core.policy.policy.notificationPreview).toBe('none');
    expect(harness.core.policy.policy.lockTimeoutMaxMinutes).toBe(5);
    // The app still works: the first-run form is there under the banner.
    await expect.poll(() => page.getByRole('heading', { level: 1 }).count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await page.screenshot({ path: resolve('artifacts/screenshots/policy-error.png') });
    expect(errors).toEqual([]);
    await page.close();
  });
});
