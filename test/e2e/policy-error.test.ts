// A managed policy file that cannot be applied is an error on screen — not a crash, not an
// ignored file — and the strict defaults apply meanwhile (ARCHITECTURE.md §7): an invalid file,
// and (issue 10 item 10) a valid one that a non-administrator could change.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileBrowser } from '../support/chromium';
import { startHarness, type Harness } from '../support/harness';
import { fileKeychain } from '../support/test-keychain';

let dir: string;
let browser: Browser;
const harnesses: Harness[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'e2e-policy-'));
  browser = await fileBrowser();
});

afterAll(async () => {
  await browser?.close();
  for (const h of harnesses) await h.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A fresh workstation whose managed policy file holds `policy` with file mode `mode`; its page and banner once shown. */
async function openWithPolicy(name: string, policy: unknown, mode: number, expected: RegExp) {
  mkdirSync(join(dir, name, 'etc'), { recursive: true });
  const policyPath = join(dir, name, 'etc', 'policy.json');
  writeFileSync(policyPath, JSON.stringify(policy));
  chmodSync(policyPath, mode);
  const harness = await startHarness({
    userDataDir: join(dir, name, 'user'),
    rendererDir: resolve('dist/renderer'),
    policyPath,
    keychain: fileKeychain,
  });
  harnesses.push(harness);
  const page: Page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(harness.url);
  const banner: Locator = page.getByTestId('policy-error');
  await expect.poll(() => banner.textContent(), { timeout: 15_000 }).toMatch(expected);
  expect(await banner.getAttribute('role')).toBe('alert');
  return { harness, page, banner, errors, policyPath };
}

describe('a managed policy that cannot be applied', () => {
  it('invalid: shows the problem on the first-run screen and keeps the strict defaults', async () => {
    // A typo'd key and a value out of range: both must be reported.
    const { harness, page, errors } = await openWithPolicy(
      'invalid',
      { lockTimeoutMaxMinutes: 0, notificationPreveiw: 'full' },
      0o644,
      /lockTimeoutMaxMinutes/,
    );
    expect(harness.core.policy.policy.notificationPreview).toBe('none');
    expect(harness.core.policy.policy.lockTimeoutMaxMinutes).toBe(5);
    // The app still works: the first-run form is there under the banner.
    await expect.poll(() => page.getByRole('heading', { level: 1 }).count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await page.screenshot({ path: resolve('artifacts/screenshots/policy-error.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('writable by any user: refused on screen with its path and reason, and the strict defaults apply', async () => {
    // Valid, and looser than the defaults: applied, it would show message text in notifications.
    const { harness, page, banner, errors, policyPath } = await openWithPolicy(
      'open',
      { notificationPreview: 'full', exportAllowed: true },
      0o666,
      /refused because a user who is not an administrator could change it/,
    );
    const text = (await banner.textContent()) ?? '';
    expect(text).toContain(policyPath);
    expect(text).toMatch(/can be changed by every user \(mode 666\)/);
    expect(harness.core.policy.policy.notificationPreview).toBe('none');
    expect(harness.core.policy.policy.exportAllowed).toBe(false);
    await page.screenshot({ path: resolve('artifacts/screenshots/policy-unprotected.png') });
    expect(errors).toEqual([]);
    await page.close();
  });
});
