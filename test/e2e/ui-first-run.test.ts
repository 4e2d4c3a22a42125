// A shorter first run (issue 12 §5): at a front-desk PC whose policy sets the clinic server, a
// receptionist goes from the first screen to her first message sent. The test counts the fields she
// fills and the screens she passes through (at most 6 and 3), checks that the server fields and the
// name are not asked (the name comes from the clinic directory, the same one colleagues and the
// lock screen show), that the passphrase rules are checked live at the field, and that the new
// key's backup code is shown once with a "printed it / stored it" confirmation.
import { copyFileSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyInput } from '../../main/policy/schema';
import { axeViolations, person, screenshot, startClinic, type Clinic, type Workstation } from '../support/ui-support';
import { rawConnection } from '../support/xmpp-support';
import { xml } from '@xmpp/client';

const receptionist = person('robin.reyes', 'clinic.test', 'Robin Reyes', 'reception');
const physician = person('dr.okafor', 'clinic.test', 'Dr. Adaeze Okafor', 'physician');
// IT made this account but gave it no name in the directory: first run asks for one.
const nameless = person('temp.desk', 'clinic.test', 'Sam Temp', 'reception');
const first = `Good morning, your 10:30 is here (${Date.now().toString(36)})`;

let clinic: Clinic;
let laptop: Workstation;
let desk: Workstation;
let presetServer: NonNullable<PolicyInput['server']>;

beforeAll(async () => {
  clinic = await startClinic('ui-first-run', [receptionist, physician, nameless]);
  // Clear the nameless account's directory name (startClinic provisions one for everybody).
  const c = rawConnection(clinic.prosody, nameless.jid, nameless.password, 'it');
  await c.start();
  await c.iq(xml('iq', { type: 'set' }, xml('vCard', { xmlns: 'vcard-temp' })));
  await c.stop();
  presetServer = { domain: 'clinic.test', host: clinic.server.host, port: clinic.server.port, tls: 'starttls' };
  // The physician signs in on a laptop first, so a key is published to write to.
  laptop = await clinic.open('laptop');
  await clinic.signUp(laptop.page, physician);
  desk = await clinic.open('front-desk', { server: presetServer });
});

afterAll(async () => {
  await clinic?.close();
});

/** The ids an element's aria-describedby names, joined into the text a screen reader reads with it. */
async function description(field: Locator): Promise<string> {
  const ids = ((await field.getAttribute('aria-describedby')) ?? '').split(/\s+/).filter(Boolean);
  const texts = await Promise.all(ids.map((id) => field.page().locator(`[id="${id}"]`).innerText()));
  return texts.join(' ');
}

/** Every visible form field (input, select, textarea) on the page. */
const visibleFields = (page: Page) => page.locator('input:visible, select:visible, textarea:visible');

describe('first run at a shared front-desk PC', () => {
  it("a receptionist's first run: first screen to first message sent in at most 6 fields and 3 screens", async () => {
    const page = desk.page;
    const screens: string[] = [];
    const filled = new Set<string>();
    const seeScreen = async () => {
      const h1 = (await page.locator('h1').first().innerText()).trim();
      if (screens.at(-1) !== h1) screens.push(h1);
    };
    const fill = async (label: string, value: string) => {
      filled.add(label);
      await page.getByLabel(label, { exact: true }).fill(value);
    };

    await page.getByRole('heading', { name: 'Sign in on this workstation' }).waitFor();
    await page.getByRole('region', { name: 'Messaging policy text' }).filter({ hasNotText: 'Loading' }).waitFor();
    await seeScreen();
    // Policy sets the server: no server fields. The directory has the name: not asked either.
    expect(await page.getByText('Clinic server settings').count()).toBe(0);
    expect(await page.getByLabel('Server address').count()).toBe(0);
    expect(await page.getByLabel('Your name as colleagues see it').count()).toBe(0);
    expect(await page.getByLabel('Account (JID)').count()).toBe(0);
    // User name, password, passphrase twice, the policy box: all the form asks.
    expect(await visibleFields(page).count()).toBe(5);
    await expect.poll(() => page.getByText('@clinic.test', { exact: true }).isVisible()).toBe(true);

    // The passphrase rules, live at the field: too short, then a common password, then fine.
    const pass = page.getByLabel('Passphrase', { exact: true });
    await pass.fill('short');
    await pass.blur();
    expect(await pass.getAttribute('aria-invalid')).toBe('true');
    expect(await description(pass)).toContain('Use at least 12 characters');
    await pass.fill('Password123456');
    expect(await description(pass)).toContain('common password');
    await fill('Passphrase', receptionist.passphrase);
    expect(await pass.getAttribute('aria-invalid')).toBe('false');
    expect(await description(pass)).toContain("Meets the clinic's rules");
    const repeat = page.getByLabel('Repeat the passphrase');
    await repeat.fill(`${receptionist.passphrase}x`);
    await repeat.blur();
    expect(await repeat.getAttribute('aria-invalid')).toBe('true');
    expect(await description(repeat)).toContain('The two entries differ.');
    await fill('Repeat the passphrase', receptionist.passphrase);
    expect(await repeat.getAttribute('aria-invalid')).toBe('false');

    // The user name only: the domain comes from the policy.
    await fill('User name', 'robin.reyes');
    await fill('Account password', receptionist.password);
    filled.add('policy');
    await page.getByLabel("I have read the clinic's messaging policy and will follow it").check();
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Sign in' }).click();

    // The new key's backup code, once, with the confirmation.
    await page.getByRole('heading', { name: 'Keep your key backup code' }).waitFor({ timeout: 60_000 });
    await seeScreen();
    const code = (await page.getByTestId('setup-backup-code').innerText()).trim();
    expect(code).toMatch(/^([A-HJ-NP-Z2-9]{4}-){5}[A-HJ-NP-Z2-9]{4}$/);
    expect(await visibleFields(page).count()).toBe(0);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'first-run-backup-code');
    await page.getByRole('button', { name: 'I printed it' }).click();

    await page.getByRole('heading', { name: 'Inbox' }).waitFor({ timeout: 30_000 });
    await seeScreen();
    // The directory's name, not the user name: the nav rail and the lock button say who is signed in.
    await page.getByTestId('signed-in-as').filter({ hasText: receptionist.name }).waitFor();
    await page.getByRole('button', { name: `Lock — ${receptionist.name}`, exact: true }).waitFor();

    // Ctrl+K lists the directory: a click opens the conversation, nothing to type.
    await page.keyboard.press('Control+k');
    await page.getByRole('option', { name: new RegExp(physician.name) }).click({ timeout: 30_000 });
    await fill('Message', first);
    await page.getByRole('textbox', { name: 'Message' }).press('Enter');
    await page.locator('[data-message-id]', { hasText: first }).waitFor({ timeout: 30_000 });
    await laptop.page.getByText(first).first().waitFor({ timeout: 30_000 });
    await seeScreen();

    expect(screens).toEqual(['Sign in on this workstation', 'Keep your key backup code', 'Inbox']);
    expect([...filled]).toEqual([
      'Passphrase',
      'Repeat the passphrase',
      'User name',
      'Account password',
      'policy',
      'Message',
    ]);
    expect(filled.size).toBeLessThanOrEqual(6);
    expect(screens.length).toBeLessThanOrEqual(3);
    expect(desk.problems).toEqual([]);
  });

  it('colleagues and the lock screen show the name from the directory', async () => {
    // The physician's inbox names her as the directory does.
    await laptop.page
      .getByRole('list', { name: 'Conversations' })
      .getByRole('button', { name: new RegExp(receptionist.name) })
      .waitFor({ timeout: 30_000 });
    await desk.page.keyboard.press('Control+l');
    await desk.page.getByRole('heading', { name: 'Clinic Messenger is locked' }).waitFor();
    await desk.page.getByRole('radio', { name: receptionist.name }).waitFor({ timeout: 10_000 });
  });

  it('showing the backup code again in Settings needs the passphrase', async () => {
    const page = desk.page;
    await page.getByLabel(`Passphrase for ${receptionist.name}`).fill(receptionist.passphrase);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Key backup' }).waitFor();
    expect(await page.getByTestId('backup-code').count()).toBe(0);
    await page.getByLabel('Your passphrase').fill(receptionist.passphrase);
    await page.getByRole('button', { name: 'Show backup code' }).click();
    await page.getByTestId('backup-code').waitFor();
  });

  it('asks for the name only when the directory has none, at the field', async () => {
    const w = await clinic.open('front-desk-2', { server: presetServer });
    const page = w.page;
    await page.getByLabel('User name').fill('temp.desk');
    await page.getByLabel('Account password').fill(nameless.password);
    await page.getByLabel('Passphrase', { exact: true }).fill(nameless.passphrase);
    await page.getByLabel('Repeat the passphrase').fill(nameless.passphrase);
    await page.getByLabel("I have read the clinic's messaging policy and will follow it").check();
    await page.getByRole('button', { name: 'Sign in' }).click();
    const name = page.getByLabel('Your name as colleagues see it');
    await name.waitFor({ timeout: 60_000 });
    // Focus moves to the field that appeared, which says why it is asked.
    await expect.poll(() => name.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await description(name)).toContain('The clinic directory has no name for your account');
    await name.fill(nameless.name);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Keep your key backup code' }).waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'I stored it' }).click();
    await page.getByTestId('signed-in-as').filter({ hasText: nameless.name }).waitFor({ timeout: 30_000 });
  });

  it('pictures of the first run, light and dark', async () => {
    const w = await clinic.open('pictures', { server: presetServer });
    const page = w.page;
    await page.getByRole('region', { name: 'Messaging policy text' }).filter({ hasNotText: 'Loading' }).waitFor();
    await page.getByLabel('User name').fill('robin.reyes');
    await page.getByLabel('Account password').fill('not-a-real-password');
    await page.getByLabel('Passphrase', { exact: true }).fill('lantern orbit staple meadow');
    await page.getByLabel('Repeat the passphrase').fill('lantern orbit');
    await page.getByLabel('Repeat the passphrase').blur();
    // Tall enough for the whole form, down to the Sign in button.
    await page.setViewportSize({ width: 1000, height: 1180 });
    mkdirSync(resolve('docs/screenshots'), { recursive: true });
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
      await page.waitForTimeout(100);
      expect(await axeViolations(page), scheme).toEqual([]);
      const shot = await screenshot(page, `first-run-${scheme}`);
      copyFileSync(shot, resolve(`docs/screenshots/first-run-${scheme}.png`));
    }
  });
});
