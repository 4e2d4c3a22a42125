// Issue 10 item 10: a policy file a non-administrator could change is refused with an error on
// screen (the same banner as an invalid file), and the strict defaults apply meanwhile.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium';
import { startHarness, type Harness } from '../support/harness';

let dir: string;
let policyPath: string;
let harness: Harness;
let browser: Browser;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'e2e-policy-open-'));
  mkdirSync(join(dir, 'etc'));
  policyPath = join(dir, 'etc', 'policy.json');
  // Valid, and looser than the defaults: applied, it would show message text in notifications.
  writeFileSync(policyPath, JSON.stringify({ notificationPreview: 'full', exportAllowed: true }));
  chmodSync(policyPath, 0o666); // any user on the workstation could rewrite it
  harness = await startHarness({ userDataDir: join(dir, 'user'), rendererDir: resolve('dist/renderer'), policyPath });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await harness?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('managed policy a user could change', () => {
  it('is refused on screen with its path and reason, and the strict defaults apply', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(harness.url);
    const banner = page.getByTestId('policy-error');
    await expect.poll(() => banner.textContent(), { timeout: 15_000 }).toMatch(/refused because a user who is not an administrator could change it/);
    const text = (await banner.textContent()) ?? '';
    expect(text).toContain(policyPath);
    expect(text).toMatch(/can be changed by every user \(mode 666\)/);
    expect(await banner.getAttribute('role')).toBe('alert');
    expect(harness.core.policy.policy.notificationPreview).toBe('none');
    expect(harness.core.policy.policy.exportAllowed).toBe(false);
    await page.screenshot({ path: resolve('artifacts/screenshots/policy-unprotected.png') });
    expect(errors).toEqual([]);
    await page.close();
  });
});
