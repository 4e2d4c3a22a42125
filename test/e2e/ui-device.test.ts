// "This profile can't be opened on this device" (issue 3 §5): the profile's entry in the real OS
// keychain disappears; the lock screen says so, changes nothing, and offers to remove the profile,
// after which the workstation is back at first sign-in.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOsKeychain } from '../../main/vault/keychain';
import { fileBrowser } from '../support/chromium';
import { startHarness, type Harness } from '../support/harness';
import { startProsody } from '../support/prosody';
import { expectNoPhi, person, prosodyUsers, RENDERER_DIR, signUp, TEST_ARGON2 } from '../support/ui-support';
import { setDirectoryNames } from '../support/xmpp-support';

const me = person('desk.device', 'clinic.test', 'Dana Device', 'reception');
// Our own keychain service name: the test never touches another profile's entry.
const keychain = createOsKeychain({ service: `clinic-e2e-${randomBytes(4).toString('hex')}` });

let dir: string;
let prosody: Awaited<ReturnType<typeof startProsody>>;
let browser: Browser;
let harness: Harness;
let context: BrowserContext;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'e2e-ui-device-'));
  prosody = await startProsody({ users: prosodyUsers([me]) });
  // Provisioned as IT does: the name in the directory, which first sign-in reads (issue 12 §5).
  await setDirectoryNames(prosody, [me]);
  browser = await fileBrowser();
  harness = await startHarness({
    userDataDir: join(dir, 'pc'),
    rendererDir: RENDERER_DIR,
    keychain,
    policy: { argon2: TEST_ARGON2, trustedCaPem: prosody.caPem },
  });
  context = await browser.newContext({ viewport: { width: 1200, height: 760 } });
  page = await context.newPage();
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(harness.url);
  await signUp(page, me, { host: prosody.host, port: prosody.c2sPort });
});

afterAll(async () => {
  await context?.close();
  await harness?.close();
  await browser?.close();
  await prosody?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('profile that cannot be opened on this device', () => {
  it('explains the problem and offers removal instead of a passphrase field', async () => {
    const status = await page.evaluate(() => window.clinic.vault.status());
    if (!status.ok || !status.value.activeProfileId) throw new Error('expected an unlocked profile');
    const profileId = status.value.activeProfileId;
    await page.keyboard.press('Control+l');
    await page.getByRole('heading', { name: 'Clinic Messenger is locked' }).waitFor();

    // The keychain entry goes away (another machine, a reinstalled OS, an admin clean-up).
    expect(await keychain.delete(profileId)).toBe(true);
    await page.reload();
    await page.getByText("This profile can't be opened on this device").waitFor({ timeout: 15_000 });
    expect(await page.getByLabel(`Passphrase for ${me.name}`).count()).toBe(0);
    await expectNoPhi(page, [me.jid]);
  });

  it('removing it returns the workstation to first sign-in', async () => {
    await page.getByRole('button', { name: 'Remove this profile from this PC…' }).click();
    await page.getByRole('button', { name: 'Remove from this PC' }).click();
    await page.getByRole('heading', { name: 'Sign in on this workstation' }).waitFor({ timeout: 15_000 });
    const profiles = await page.evaluate(() => window.clinic.vault.listProfiles());
    expect(profiles).toEqual({ ok: true, value: [] });
    expect(problems).toEqual([]);
  });
});
