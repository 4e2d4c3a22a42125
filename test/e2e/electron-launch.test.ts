/**
 * Launches the real Electron app with Playwright's `_electron` (ARCHITECTURE.md §8), where the
 * Electron binary is installed. Where it is not (ELECTRON_SKIP_BINARY_DOWNLOAD, as in CI here),
 * the test is reported as skipped with the reason.
 *
 * Never `require('electron')` to find the binary: electron's index.js tries to download it when
 * missing. node_modules/electron/path.txt (written by its installer) names the executable.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findElectronBinary } from '../../scripts/electron-binary.mjs';

const root = resolve(import.meta.dirname, '..', '..');

const binary = findElectronBinary(root);
if (!binary.path) console.log(`[electron-launch] skipped: ${binary.reason}`);

describe('Electron app', () => {
  let app: ElectronApplication;
  let page: Page;
  let userData: string;

  beforeAll(async () => {
    if (!binary.path) return;
    if (!existsSync(join(root, 'dist', 'renderer', 'index.html'))) {
      expect(spawnSync('npx', ['vite', 'build'], { cwd: root, stdio: 'inherit' }).status).toBe(0);
    }
    expect(spawnSync(process.execPath, ['scripts/build-main.mjs'], { cwd: root, stdio: 'inherit' }).status).toBe(0);
    userData = mkdtempSync(join(tmpdir(), 'clinic-electron-'));
    const args = [root, `--user-data-dir=${userData}`];
    // Chromium refuses its OS sandbox as root (CI containers); everywhere else it stays on.
    if (process.getuid?.() === 0) args.push('--no-sandbox');
    app = await _electron.launch({ executablePath: binary.path, args, cwd: root, timeout: 60_000 });
    page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
  });

  afterAll(async () => {
    await app?.close();
    if (userData) rmSync(userData, { recursive: true, force: true });
  });

  it.skipIf(!binary.path)('loads the renderer from app:// into a sandboxed, isolated page', async () => {
    expect(page.url()).toBe('app://renderer/index.html');
    expect(await page.title()).toBe('Clinic Messenger');
    const globals = await page.evaluate(() => ({
      require: typeof (window as unknown as { require?: unknown }).require,
      process: typeof (window as unknown as { process?: unknown }).process,
      clinic: typeof (window as unknown as { clinic?: unknown }).clinic,
    }));
    expect(globals).toEqual({ require: 'undefined', process: 'undefined', clinic: 'object' });
  });

  it.skipIf(!binary.path)('answers app:info through the contract over IPC', async () => {
    const info = await page.evaluate(() =>
      (window as unknown as { clinic: { app: { info(): Promise<unknown> } } }).clinic.app.info(),
    );
    expect(info).toMatchObject({ ok: true, value: { name: 'Clinic Messenger', harness: false } });
  });

  it.skipIf(!binary.path)('enforces the CSP (no eval) and refuses new windows', async () => {
    const result = await page.evaluate(() => {
      let evalBlocked = false;
      try {
        // eslint-disable-next-line no-eval -- probing that the CSP blocks it
        eval('1');
      } catch {
        evalBlocked = true;
      }
      return { evalBlocked, opened: window.open('https://example.com/') === null };
    });
    expect(result).toEqual({ evalBlocked: true, opened: true });
    expect(app.windows()).toHaveLength(1);
    mkdirSync(join(root, 'artifacts'), { recursive: true });
    await page.screenshot({ path: join(root, 'artifacts', 'electron-launch.png') });
  });

  it.skipIf(!binary.path)('keeps one window showing app://, with no unsandboxed renderer', async () => {
    const state = await app.evaluate(({ app: electronApp, BrowserWindow }) => {
      const wins = BrowserWindow.getAllWindows();
      // ProcessMetric.sandboxed is reported on macOS and Windows; undefined on Linux.
      const tabs = electronApp.getAppMetrics().filter((m) => m.type === 'Tab');
      return {
        count: wins.length,
        url: wins[0]!.webContents.getURL(),
        unsandboxedTabs: tabs.filter((m) => m.sandboxed === false).length,
      };
    });
    expect(state).toEqual({ count: 1, url: 'app://renderer/index.html', unsandboxedTabs: 0 });
  });
});
