// Tamper-resistant local state in the UI (issue 10 §7): an older copy of the profile's database
// put back while the app was locked is reported at unlock (and audited); removing a profile this
// PC can still open from the chooser needs its passphrase.
import { copyFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  axeViolations,
  person,
  screenshot,
  startClinic,
  unlockAs,
  type Clinic,
  type Workstation,
} from '../support/ui-support';

const me = person('desk.integrity', 'clinic.test', 'Kim Integrity', 'reception');

let clinic: Clinic;
let pc: Workstation;
let profileDir: string;

/** Locks from the keyboard, then waits for main to finish closing the store (lock is serialised and idempotent). */
async function lock(page: Page): Promise<void> {
  await page.keyboard.press('Control+l');
  await page.getByRole('heading', { name: 'Clinic Messenger is locked' }).waitFor();
  await page.evaluate(() => window.clinic.vault.lock({ reason: 'manual' }));
}

const dbFiles = () => readdirSync(profileDir).filter((f) => f.startsWith('cache.db'));

beforeAll(async () => {
  clinic = await startClinic('ui-integrity', [me]);
  pc = await clinic.open('front-desk');
  await clinic.signUp(pc.page, me);
  const profiles = await pc.page.evaluate(() => window.clinic.vault.listProfiles());
  if (!profiles.ok || !profiles.value[0]) throw new Error('expected one profile');
  profileDir = join(clinic.dir, 'front-desk', 'profiles', profiles.value[0].id);
});

afterAll(async () => {
  await clinic?.close();
});

describe('tamper-resistant local state', () => {
  it('an older cache.db restored while locked is reported at unlock, in an accessible alert', async () => {
    const page = pc.page;
    await lock(page);
    const aside = join(clinic.dir, 'aside');
    const saved = dbFiles();
    for (const f of saved) copyFileSync(join(profileDir, f), `${aside}-${f}`);
    await unlockAs(page, me);
    expect(await page.getByTestId('security-alert').count()).toBe(0);
    await lock(page);
    for (const f of dbFiles()) rmSync(join(profileDir, f));
    for (const f of saved) copyFileSync(`${aside}-${f}`, join(profileDir, f));

    await unlockAs(page, me);
    const alert = page.getByTestId('security-alert');
    await alert.waitFor();
    expect(await alert.getAttribute('role')).toBe('alert');
    expect(await alert.innerText()).toMatch(/older than when this profile was last used here/);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'ui-integrity-audit-rollback');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Audit' }).click();
    await page.getByRole('cell', { name: 'audit-rollback' }).first().waitFor();
    await alert.getByRole('button', { name: 'Dismiss' }).click();
    expect(await page.getByTestId('security-alert').count()).toBe(0);
  });

  it("removing a profile from the chooser needs that profile's passphrase", async () => {
    const page = pc.page;
    await lock(page);
    await page.getByRole('radio', { name: me.name }).click();
    await page.getByRole('button', { name: 'Remove this profile from this PC…' }).click();
    const field = page.getByLabel(`Passphrase for ${me.name}, to remove it`);
    await field.fill(`not ${me.passphrase}`);
    await page.getByRole('button', { name: 'Remove from this PC' }).click();
    await page.getByRole('alert').filter({ hasText: 'attempts left before this profile is erased' }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    const still = await page.evaluate(() => window.clinic.vault.listProfiles());
    expect(still.ok && still.value.length).toBe(1);
    await field.fill(me.passphrase);
    await page.getByRole('button', { name: 'Remove from this PC' }).click();
    await page.getByRole('heading', { name: 'Sign in on this workstation' }).waitFor({ timeout: 15_000 });
    expect(await page.evaluate(() => window.clinic.vault.listProfiles())).toEqual({ ok: true, value: [] });
    expect(pc.problems).toEqual([]);
  });
});
