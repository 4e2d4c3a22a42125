// A shared reception PC (issue 3 §1): two people each have a profile on one workstation. The
// chooser shows names only; "switch user" locks one profile and drops its PHI before the other
// unlocks, and neither sees the other's conversations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  axeViolations,
  expectNoPhi,
  messageFromDirectory,
  person,
  screenshot,
  send,
  startClinic,
  unlockAs,
  type Clinic,
  type Workstation,
} from '../support/ui-support';

const morning = person('desk.morning', 'clinic.test', 'Alex Morning', 'reception');
const evening = person('desk.evening', 'clinic.test', 'Jamie Evening', 'reception');
const physician = person('dr.shared', 'clinic.test', 'Dr. Noor Haddad', 'physician');
const secret = `Bed 12 discharge papers (${Date.now().toString(36)})`;

let clinic: Clinic;
let pc: Workstation;
let laptop: Workstation;

beforeAll(async () => {
  clinic = await startClinic('ui-shared', [morning, evening, physician]);
  pc = await clinic.open('front-desk');
  // The physician signs in on a laptop so a key is published to message.
  laptop = await clinic.open('laptop');
  await clinic.signUp(laptop.page, physician);
  await clinic.signUp(pc.page, morning);
});

afterAll(async () => {
  await clinic?.close();
});

describe('shared reception PC', () => {
  it('a second person signs in from the lock screen; the chooser lists names only', async () => {
    const page = pc.page;
    await messageFromDirectory(page, physician);
    await send(page, secret);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Switch user' }).click();
    await page.getByRole('heading', { name: 'Clinic Messenger is locked' }).waitFor();
    await expectNoPhi(page, [secret, physician.name, physician.jid]);
    await page.getByRole('button', { name: 'Sign in as someone else' }).click();
    await clinic.signUp(page, evening);
    // Evening's inbox holds nothing of Morning's, and nothing is open: conversation ids are per
    // profile, so Morning's open one would name (and mark read) one of Evening's.
    await expectNoPhi(page, [secret]);
    await page.getByText('Choose a conversation, or press Ctrl+K to switch quickly.').waitFor({ timeout: 10_000 });

    await page.keyboard.press('Control+l');
    await page.getByRole('heading', { name: 'Clinic Messenger is locked' }).waitFor();
    // The chooser fills in after the lock heading paints: poll rather than read it once.
    const radios = page.getByRole('radiogroup', { name: 'Who is using this PC?' }).getByRole('radio');
    const names = async () => (await radios.allInnerTexts()).map((n) => n.replace(/^\s*\S\s+/, '').trim()).sort();
    await expect.poll(names, { timeout: 10_000 }).toEqual([morning.name, evening.name].sort());
    await expectNoPhi(page, [secret, physician.name, physician.jid, morning.jid, evening.jid]);
  });

  it('switching back unlocks the first profile with its own conversation', async () => {
    await unlockAs(pc.page, morning);
    await pc.page
      .getByRole('list', { name: 'Conversations' })
      .getByRole('button', { name: new RegExp(physician.name) })
      .click();
    await pc.page.locator('[data-message-id]', { hasText: secret }).waitFor({ timeout: 15_000 });
    expect(pc.problems).toEqual([]);
  });

  // Issue 12 §4: at a shared desk, who is signed in is always in view.
  it("the signed-in person's name is in the nav rail and on the lock button", async () => {
    const nav = pc.page.getByRole('navigation', { name: 'Main' });
    await expect.poll(() => nav.getByTestId('signed-in-as').innerText()).toContain(morning.name);
    await nav.getByRole('button', { name: `Lock — ${morning.name}`, exact: true }).waitFor();
    expect(await axeViolations(pc.page)).toEqual([]);
    await screenshot(pc.page, 'ui-shared-pc-name');
  });

  it('"Switch user" resets every screen, and preselects nobody on the lock screen', async () => {
    const page = pc.page;
    const nav = page.getByRole('navigation', { name: 'Main' });
    // Each screen a person can leave open; whoever unlocks next (even the same person) starts in
    // the inbox with nothing open and no dialog.
    const screens: { open: () => Promise<void>; heading: string }[] = [
      { open: () => nav.getByRole('button', { name: 'Settings' }).click(), heading: 'Settings' },
      { open: () => nav.getByRole('button', { name: 'Audit' }).click(), heading: 'Audit report' },
      { open: () => nav.getByRole('button', { name: 'Directory' }).click(), heading: 'Staff directory' },
      {
        open: async () => {
          await nav.getByRole('button', { name: 'Directory' }).click();
          await page.getByRole('button', { name: `Details for ${physician.name}` }).click({ timeout: 30_000 });
        },
        heading: physician.name,
      },
    ];
    const people = [morning, evening, morning, morning];
    for (const [i, screen] of screens.entries()) {
      await screen.open();
      await page.getByRole('heading', { name: screen.heading, level: 1 }).waitFor({ timeout: 30_000 });
      await nav.getByRole('button', { name: 'Switch user' }).click();
      await page.getByRole('heading', { name: 'Clinic Messenger is locked' }).waitFor();
      const radios = page.getByRole('radiogroup', { name: 'Who is using this PC?' }).getByRole('radio');
      await expect.poll(() => radios.count()).toBe(2);
      // Nobody preselected: the next person's passphrase must not go to the previous person's profile.
      expect(await page.getByRole('radio', { checked: true }).count()).toBe(0);
      expect(await page.getByLabel(/^Passphrase for /).count()).toBe(0);
      await unlockAs(page, people[i]!);
      await page.getByRole('heading', { name: 'Inbox', level: 1 }).waitFor();
      await page.getByText('Choose a conversation, or press Ctrl+K to switch quickly.').waitFor();
      expect(await page.getByRole('heading', { name: screen.heading, level: 1 }).count()).toBe(0);
      expect(await page.getByRole('dialog').count()).toBe(0);
    }
    // A search left typed is gone too.
    const searchInput = page.getByRole('dialog', { name: 'Search messages' }).locator('input').first();
    await page.keyboard.press('Control+f');
    await searchInput.fill('discharge');
    await page.keyboard.press('Escape');
    await nav.getByRole('button', { name: 'Switch user' }).click();
    await unlockAs(page, evening);
    await page.keyboard.press('Control+f');
    expect(await searchInput.inputValue()).toBe('');
    await page.keyboard.press('Escape');
    expect(pc.problems).toEqual([]);
  });

  it('"Remove my profile" in Settings needs the passphrase: a wrong one removes nothing', async () => {
    const page = pc.page;
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('button', { name: 'Settings' }).click();
    const account = page.getByRole('region', { name: 'Your account' });
    await account.getByText(`Signed in as ${evening.name}`).waitFor();
    await account.getByRole('button', { name: 'Remove my profile from this PC…' }).click();
    const field = page.getByLabel('Your passphrase, to remove your profile');
    await expect.poll(() => field.evaluate((el) => el === document.activeElement)).toBe(true);
    await field.fill(`not ${evening.passphrase}`);
    await account.getByRole('button', { name: 'Remove my profile', exact: true }).click();
    // The error at the field; still signed in, the profile still there.
    await account
      .getByRole('alert')
      .filter({ hasText: 'That passphrase is not correct. Nothing was removed.' })
      .waitFor({
        timeout: 30_000,
      });
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'ui-shared-pc-remove-wrong');
    await nav.getByRole('button', { name: `Lock — ${evening.name}`, exact: true }).waitFor();
    const listed = await pc.harness.core.router.dispatch('vault:listProfiles', null);
    expect(listed.ok && (listed.value as unknown[]).length).toBe(2);

    await field.fill(evening.passphrase);
    await account.getByRole('button', { name: 'Remove my profile', exact: true }).click();
    await page.getByRole('heading', { name: 'Clinic Messenger is locked' }).waitFor({ timeout: 30_000 });
    await page
      .getByRole('status')
      .filter({ hasText: `The profile of ${evening.name} was removed from this PC.` })
      .waitFor();
    const radios = page.getByRole('radiogroup', { name: 'Who is using this PC?' }).getByRole('radio');
    const names = async () => (await radios.allInnerTexts()).map((n) => n.replace(/^\s*\S\s+/, '').trim());
    await expect.poll(names, { timeout: 10_000 }).toEqual([morning.name]);
    expect(pc.problems).toEqual([]);
  });
});
