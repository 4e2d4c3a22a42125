// Failed unlocks as a person meets them (issue 3 §4): attempts left, a growing wait shown as a
// countdown, and after the policy's maximum the profile is erased and first sign-in says why.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium';
import { startProsody } from '../support/prosody';
import { closeWorkstation, expectNoPhi, openWorkstation, person, prosodyUsers, signUp, TEST_ARGON2, type Workstation } from './ui-support';

const me = person('desk.errors', 'clinic.test', 'Lee Errors', 'reception');

let dir: string;
let prosody: Awaited<ReturnType<typeof startProsody>>;
let browser: Browser;
let ws: Workstation;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'e2e-ui-unlock-'));
  prosody = await startProsody({ users: prosodyUsers([me]) });
  browser = await launchChromium();
  ws = await openWorkstation(browser, { userDataDir: join(dir, 'pc'), policy: { argon2: TEST_ARGON2, trustedCaPem: prosody.caPem, maxFailedUnlocks: 3 } });
  await signUp(ws.page, me, { host: prosody.host, port: prosody.c2sPort });
  await ws.page.keyboard.press('Control+l');
  await ws.page.getByRole('heading', { name: 'Clinic Messenger is locked' }).waitFor();
});

afterAll(async () => {
  await closeWorkstation(ws);
  await browser?.close();
  await prosody?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function wrong(): Promise<void> {
  await ws.page.getByLabel(`Passphrase for ${me.name}`).fill('definitely not it');
  await ws.page.getByLabel(`Passphrase for ${me.name}`).press('Enter');
}

describe('failed unlocks', () => {
  it('says how many attempts are left', async () => {
    await wrong();
    await ws.page.getByText('Wrong passphrase. 2 attempts left before this profile is erased from this PC.').waitFor({ timeout: 15_000 });
  });

  it('makes the person wait, with a visible countdown, after the second failure', async () => {
    await wrong();
    await ws.page.getByText('1 attempt left').waitFor({ timeout: 15_000 });
    const button = ws.page.getByRole('button', { name: /^Wait \d+ s$/ });
    await button.waitFor({ timeout: 5_000 });
    expect(await button.isDisabled()).toBe(true);
    await ws.page.getByRole('button', { name: 'Unlock' }).waitFor({ timeout: 15_000 });
  });

  it('erases the profile after the policy maximum and first sign-in explains it', async () => {
    await wrong();
    await ws.page.getByRole('heading', { name: 'Sign in on this workstation' }).waitFor({ timeout: 15_000 });
    await ws.page.getByRole('alert').filter({ hasText: 'were erased from this PC' }).waitFor();
    expect(await ws.page.evaluate(() => window.clinic.vault.listProfiles())).toEqual({ ok: true, value: [] });
    await expectNoPhi(ws.page, [me.jid]);
    expect(ws.problems).toEqual([]);
  });
});
