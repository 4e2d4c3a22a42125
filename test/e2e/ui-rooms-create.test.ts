// Staff-created care-team rooms in the app (issue 18 §1, within policy), on real Prosody in
// Chromium: the server lets its accounts create rooms (restrict_room_creation = "local") and the
// policy has staffMayCreateRooms. The desk opens "New care-team room" from the inbox header, names
// the room and ticks the physician, all from the keyboard; the room opens on her screen, appears in
// the physician's inbox at once (the server's room-list notice), and her first message reaches him.
// The action's absence under the default policy is checked in ui-rooms.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  axeViolations,
  messageRow,
  person,
  screenshot,
  screenshotOnFailure,
  send,
  startClinic,
  type Clinic,
  type Workstation,
} from '../support/ui-support';

const reception = person('create.desk', 'clinic.test', 'Robin Reyes', 'reception');
const physician = person('dr.create', 'clinic.test', 'Dr. Adaeze Okafor', 'physician');
const ROOM_NAME = 'Mrs Lee care team';
const run = Date.now().toString(36);

let clinic: Clinic;
let rec: Workstation;
let doc: Workstation;

beforeAll(async () => {
  clinic = await startClinic(
    'ui-rooms-create',
    [reception, physician],
    { staffMayCreateRooms: true },
    { roomCreation: 'local' },
  );
  rec = await clinic.open('desk');
  doc = await clinic.open('laptop');
  await clinic.signUp(rec.page, reception);
  await clinic.signUp(doc.page, physician);
}, 300_000);

afterAll(async () => {
  await clinic?.close();
});

describe('a care-team room created by staff', () => {
  screenshotOnFailure(() => ({ rec, doc }));

  it('the desk creates it from the keyboard; the physician has it at once and gets her message', async () => {
    const page = rec.page;
    const action = page.getByRole('button', { name: 'New care-team room' });
    await action.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'New care-team room' });
    await dialog.waitFor();
    await dialog.getByLabel('Room name').fill(ROOM_NAME);
    const pick = dialog.getByRole('checkbox', { name: physician.name });
    await pick.waitFor({ timeout: 30_000 });
    await pick.focus();
    await page.keyboard.press('Space');
    expect(await pick.isChecked()).toBe(true);
    // The dialog, light and dark: axe finds nothing in either, and each is pictured.
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.waitForTimeout(100); // let the theme settle before the scan and the picture
      expect(await axeViolations(page)).toEqual([]);
      await screenshot(page, `rooms-create-${scheme}`);
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await dialog.getByRole('button', { name: 'Create room' }).press('Enter');
    await page.getByRole('heading', { name: ROOM_NAME, level: 2 }).waitFor({ timeout: 45_000 });
    expect(await dialog.count()).toBe(0);

    const row = doc.page
      .getByRole('list', { name: 'Conversations' })
      .getByRole('button', { name: new RegExp(ROOM_NAME) });
    await row.waitFor({ timeout: 45_000 });
    await send(page, `Her 10:30 moved to 11:00 (${run})`);
    await row.click();
    await messageRow(doc.page, `Her 10:30 moved to 11:00 (${run})`).waitFor({ timeout: 30_000 });
  });
});
