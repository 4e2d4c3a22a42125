/**
 * Launches Debian's Chromium through playwright-core (no bundled browser download) for the
 * e2e tests against the browser harness.
 *
 * Fresh profile: playwright's launch() starts Chromium with its own new temporary
 * --user-data-dir (it refuses one passed in args) and deletes it on close, and every
 * browser.newContext() is a further isolated in-memory profile — no state leaks between runs.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CLINIC_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  // Root in CI containers: Chromium's sandbox needs user namespaces it often cannot get.
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--no-default-browser-check',
  // Containers often have a tiny /dev/shm; Chromium then crashes on large pages.
  '--disable-dev-shm-usage',
];

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

export async function launchChromium(): Promise<Browser> {
  if (!chromiumAvailable()) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH} (apt-get install chromium, or set CLINIC_CHROMIUM)`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}
