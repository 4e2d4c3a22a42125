// A shared reception PC (issue 3 §1): two people each have a profile on one workstation. The
// chooser shows names only; "switch user" locks one profile and drops its PHI before the other
// unlocks, and neither sees the other's conversations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectNoPhi,
  messageFromDirectory,
  person,
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
});
