// Smoke: the real renderer build in Debian's Chromium, talking to the real main-process
// services through the harness bridge. Proves the round trip (issue 2 §6): the app version
// and the server connection state reach the screen through the contract, CSP intact.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileBrowser } from '../support/chromium';
import { startHarness, type Harness } from '../support/harness';
import { fileKeychain } from '../support/test-keychain';

const RENDERER_DIR = resolve('dist/renderer');
const SCREENSHOT = resolve('artifacts/screenshots/smoke.png');
const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

let dir: string;
let harness: Harness;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const cspViolations: string[] = [];

beforeAll(async () => {
  if (!existsSync(join(RENDERER_DIR, 'index.html'))) {
    throw new Error('dist/renderer is missing: run `npm test` (it builds first) or `npm run build:renderer`');
  }
  dir = mkdtempSync(join(tmpdir(), 'e2e-smoke-'));
  harness = await startHarness({ userDataDir: join(dir, 'user'), rendererDir: RENDERER_DIR, keychain: fileKeychain });
  browser = await fileBrowser();
  const context = await browser.newContext({ viewport: { width: 1200, height: 760 } });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    // Violations only ("Refused to … because it violates …"), not Chromium's meta-CSP warnings.
    if (/violates the following Content Security Policy/i.test(msg.text())) cspViolations.push(msg.text());
  });
  await page.goto(harness.url);
});

afterAll(async () => {
  await browser?.close();
  await harness?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('renderer against the harness in Chromium', () => {
  it('renders the app version that app:info returns through window.clinic', async () => {
    await expect
      .poll(() => page.locator('[data-testid="app-version"]').textContent(), { timeout: 15_000 })
      .toBe(version);
    const info = await page.evaluate(() => window.clinic.app.info());
    expect(info).toEqual({
      ok: true,
      value: { name: 'Clinic Messenger', version, platform: process.platform, harness: true },
    });
  });

  it('renders the connection state and follows connection:state events', async () => {
    const state = page.locator('[data-testid="connection-state"]');
    const fromContract = await page.evaluate(() => window.clinic.app.connection());
    if (!fromContract.ok) throw new Error(`app:connection failed: ${fromContract.error.code}`);
    await expect.poll(() => state.textContent(), { timeout: 15_000 }).toContain(fromContract.value.state);
    // An event pushed by main reaches the page over the bridge and updates the screen.
    harness.core.events.emit('connection:state', { state: 'connecting', detail: null });
    await expect.poll(() => state.textContent(), { timeout: 10_000 }).toContain('connecting');
    harness.core.events.emit('connection:state', { state: 'offline', detail: null });
    await expect.poll(() => state.textContent(), { timeout: 10_000 }).toContain('offline');
  });

  it('keeps the token out of the visible URL and window.clinic read-only', async () => {
    expect(page.url()).not.toContain(harness.token);
    const replaced = await page.evaluate(() => {
      try {
        (window as unknown as { clinic: unknown }).clinic = {};
      } catch {
        /* strict-mode pages throw; either way it must not change */
      }
      return typeof window.clinic.app.info === 'function';
    });
    expect(replaced).toBe(true);
  });

  it('runs with the CSP enforced and no script errors, and writes a screenshot', async () => {
    expect(cspViolations).toEqual([]);
    expect(pageErrors).toEqual([]);
    mkdirSync(resolve('artifacts/screenshots'), { recursive: true });
    // The viewport, as a person sees it (a full-page capture misplaces the fixed status footer).
    await page.screenshot({ path: SCREENSHOT });
    expect(readFileSync(SCREENSHOT).subarray(1, 4).toString()).toBe('PNG');
  });
});
