/**
 * Launches Debian's Chromium through playwright-core (no bundled browser download) for the
 * e2e tests against the browser harness.
 *
 * Fresh profile: playwright's launch() starts Chromium with its own new temporary
 * --user-data-dir (it refuses one passed in args) and deletes it on close, and every
 * browser.newContext() is a further isolated in-memory profile — no state leaks between runs.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions } from 'playwright-core';

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

/** Survives the per-file module reset (test/support/runner.ts): one per worker process. */
const WORKER_BROWSER = Symbol.for('clinic.test.worker-chromium');

/**
 * This test file's browser: one Chromium per vitest worker process, shared by the files that
 * worker runs one after another (test/support/runner.ts), and launched again if it has gone away.
 * A launch with one blank page costs about 1.4 s of CPU in Chromium's processes here. A file gets
 * the browser with its own `newContext()`s (each an isolated in-memory profile, as before), and
 * `close()` closes those contexts, not the browser. The browser ends with the worker process:
 * Playwright closes the browsers it launched when the process exits.
 */
export async function fileBrowser(): Promise<Browser> {
  const g = globalThis as { [WORKER_BROWSER]?: Promise<Browser> };
  // A launch that failed before is tried again below, where its failure reaches the file.
  const current = await g[WORKER_BROWSER]?.catch(() => undefined);
  const browser = current?.isConnected() ? current : await (g[WORKER_BROWSER] = launchChromium());
  const contexts = new Set<BrowserContext>();
  return new Proxy(browser, {
    get(target, prop) {
      if (prop === 'newContext') {
        return async (options?: BrowserContextOptions) => {
          const context = await target.newContext(options);
          contexts.add(context);
          return context;
        };
      }
      if (prop === 'newPage') {
        return async (options?: BrowserContextOptions) => {
          const context = await target.newContext(options);
          contexts.add(context);
          return context.newPage();
        };
      }
      if (prop === 'close') {
        return async () => {
          // A context the browser already closed (a crashed page, the browser gone) has nothing left to close.
          await Promise.all([...contexts].map((c) => c.close().catch(() => undefined)));
          contexts.clear();
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
