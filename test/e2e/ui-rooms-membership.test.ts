// Care-team rooms when the team changes (issue 18 "Done when"), on real Prosody in Chromium with
// three workstations. IT creates a room for a receptionist, a physician and a nurse.
// - The physician moves to a new laptop (a new key): the room pauses on the receptionist's and the
//   nurse's workstations, naming her, until a person compares and accepts the new key; then the
//   receptionist's next message reaches the new laptop.
// - IT removes the nurse: her workstation says so and cannot send; the others see two members;
//   what is written next reaches the physician and never the nurse, although a later one-to-one
//   message from the same colleague does reach her.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { careTeam, composer, openRoom as openNamedRoom, type CareTeam } from '../support/care-team-ui';
import { setAffiliations, type MucPerson } from '../support/muc-support';
import {
  axeViolations,
  closeWorkstation,
  dismissToasts,
  messageFromDirectory,
  messageRow,
  person,
  screenshot,
  screenshotOnFailure,
  send,
  type Clinic,
  type Workstation,
} from '../support/ui-support';

const reception = person('team.desk', 'clinic.test', 'Robin Reyes', 'reception');
const physician = person('dr.team', 'clinic.test', 'Dr. Adaeze Okafor', 'physician');
const nurse = person('nurse.team', 'clinic.test', 'Sam Nguyen', 'nurse');
const it_ = person('it.team', 'clinic.test', 'Clinic IT', 'admin');
const ROOM_NAME = 'Ward 5 care team';
const run = Date.now().toString(36);
const text = (s: string) => `${s} (${run})`;

let team: CareTeam;
let clinic: Clinic;
let admin: MucPerson;
let rec: Workstation;
let doc: Workstation;
let newDoc: Workstation | undefined;
let nur: Workstation;

const openRoom = (page: Page) => openNamedRoom(page, ROOM_NAME);

beforeAll(async () => {
  team = await careTeam('ui-rooms-team', { reception, physician, nurse, it: it_ }, 'ward5', ROOM_NAME);
  ({ clinic, admin, rec, doc, nur } = team);
}, 300_000);

afterAll(async () => {
  await team?.close();
});

screenshotOnFailure(() => ({ desk: rec, laptop: newDoc ?? doc, ward: nur }));

describe('a care team that changes', () => {
  it('a member’s new key pauses the room for the others until a person accepts it', async () => {
    // Everyone pins everyone's key: the desk writes, the physician answers, all three see both.
    await openRoom(rec.page);
    await send(rec.page, text('Mr Diaz is in bay 2'));
    await openRoom(doc.page);
    await messageRow(doc.page, text('Mr Diaz is in bay 2')).waitFor({ timeout: 30_000 });
    await send(doc.page, text('Coming down now'));
    await openRoom(nur.page);
    for (const w of [rec, nur]) await messageRow(w.page, text('Coming down now')).waitFor({ timeout: 30_000 });

    // The physician's new laptop: a new profile and a new key for the same account. It finds the
    // room at first sign-in and writes to it, signed by the new key.
    await closeWorkstation(doc);
    newDoc = await clinic.open('new-laptop');
    await clinic.signUp(newDoc.page, physician, 'replace');
    await openRoom(newDoc.page);
    await send(newDoc.page, text('New laptop, same doctor'));

    // The others refuse that message (not her pinned key), fetch her key, find it changed, and the
    // room stops sending, naming her.
    for (const w of [rec, nur]) {
      const paused = w.page.getByTestId('room-key-changed');
      await paused.waitFor({ timeout: 60_000 });
      expect(await paused.innerText()).toContain(physician.name);
      expect(await composer(w.page).isDisabled()).toBe(true);
      expect(await messageRow(w.page, text('New laptop, same doctor')).count()).toBe(0);
    }
    await dismissToasts(rec.page);
    expect(await axeViolations(rec.page)).toEqual([]);
    await screenshot(rec.page, 'ui-rooms-key-changed');

    // The receptionist compares the new number and accepts it from the room's own prompt.
    await rec.page.getByRole('button', { name: `Review ${physician.name}’s key` }).click();
    await rec.page.getByRole('heading', { name: physician.name, level: 1 }).waitFor();
    await rec.page.getByRole('button', { name: /Compare and accept the new key/ }).click();
    await rec.page.getByRole('button', { name: /Yes, they match — accept the new key/ }).click();
    await expect.poll(() => rec.page.getByTestId('contact-trust').innerText()).not.toContain('has changed');
    await rec.page.getByRole('button', { name: '← Back to the conversation' }).click();
    await rec.page.getByRole('heading', { name: ROOM_NAME, level: 2 }).waitFor();
    expect(await rec.page.getByTestId('room-key-changed').count()).toBe(0);
    expect(await composer(rec.page).isDisabled()).toBe(false);
    await send(rec.page, text('Thanks, bay 2 is ready'));
    await messageRow(newDoc.page, text('Thanks, bay 2 is ready')).waitFor({ timeout: 45_000 });
    expect(
      await messageRow(newDoc.page, text('Thanks, bay 2 is ready')).getByTestId('message-sender').innerText(),
    ).toBe(reception.name);
    // The nurse has not accepted yet: her room stays paused.
    expect(await nur.page.getByTestId('room-key-changed').count()).toBe(1);
    expect(rec.problems).toEqual([]);
  }, 300_000);

  it('a removed member is told, cannot send, and never gets what is written next', async () => {
    await setAffiliations(admin, team.room, { [nurse.jid]: 'none' });
    await nur.page
      .getByRole('status')
      .filter({ hasText: 'You are no longer a member of this room' })
      .waitFor({ timeout: 45_000 });
    expect(await composer(nur.page).isDisabled()).toBe(true);
    // What she had stays readable on her workstation.
    expect(await messageRow(nur.page, text('Mr Diaz is in bay 2')).count()).toBe(1);
    await expect.poll(() => rec.page.getByTestId('room-meta').innerText(), { timeout: 30_000 }).toContain('2 members');

    await send(rec.page, text('Bay 2 results are back'));
    await messageRow(newDoc!.page, text('Bay 2 results are back')).waitFor({ timeout: 45_000 });
    // A one-to-one message from the desk, sent after the room message, reaches the nurse: by then
    // the room message would have too, had it been meant for her.
    await messageFromDirectory(rec.page, nurse);
    await send(rec.page, text('Can you cover bay 4'));
    await messageFromDirectory(nur.page, reception);
    await messageRow(nur.page, text('Can you cover bay 4')).waitFor({ timeout: 45_000 });
    await openRoom(nur.page);
    // The heading comes before the room's messages: counted once what she had is shown again.
    await messageRow(nur.page, text('Mr Diaz is in bay 2')).waitFor({ timeout: 45_000 });
    expect(await messageRow(nur.page, text('Mr Diaz is in bay 2')).count()).toBe(1);
    expect(await messageRow(nur.page, text('Bay 2 results are back')).count()).toBe(0);
    expect(nur.problems).toEqual([]);
  }, 300_000);
});
