// No keychain service (issue 3 §5): the app never falls back to a weaker secret; first sign-in
// says what is missing and how to fix it. (Recovery without a restart is not tested: the native
// Secret Service client keeps its first, failed connection for the life of the process.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium';
import { startHarness, type Harness } from '../support/harness';
import { RENDERER_DIR, TEST_ARGON2 } from '../support/ui-support';

const realBus = process.env.DBUS_SESSION_BUS_ADDRESS;
let dir: string;
let browser: Browser;
let harness: Harness;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'e2e-ui-keychain-'));
  browser = await launchChromium();
  harness = await startHarness({
    userDataDir: join(dir, 'pc'),
    rendererDir: RENDERER_DIR,
    policy: { argon2: TEST_ARGON2 },
  });
  context = await browser.newContext({ viewport: { width: 1200, height: 760 } });
  page = await context.newPage();
});

afterAll(async () => {
  process.env.DBUS_SESSION_BUS_ADDRESS = realBus;
  await context?.close();
  await harness?.close();
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('keychain missing', () => {
  it('first sign-in explains that the secure key storage is unavailable', async () => {
    // The Secret Service lives on the session bus: point at a bus that does not exist.
    process.env.DBUS_SESSION_BUS_ADDRESS = `unix:path=${join(dir, 'no-such-bus')}`;
    await page.goto(harness.url);
    const alert = page.getByTestId('keychain-missing');
    await alert.waitFor({ timeout: 15_000 });
    expect(await alert.innerText()).toContain('Secure key storage unavailable');
  });
});
