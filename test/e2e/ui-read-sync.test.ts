// Issue 12 §6 "Read state synced across a person's workstations" (XEP-0490), end to end: the
// physician is signed in on a laptop and, with the same key (backup code), on a desk PC. What she
// reads on the laptop stops being unread on the desk PC, without a "New messages" divider there;
// a newer message stays unread on the desk PC until she reads it there.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  axeViolations,
  messageFromDirectory,
  messageRow,
  person,
  sameKeyWorkstation,
  screenshot,
  screenshotOnFailure,
  send,
  startClinic,
  type Clinic,
  type Workstation,
} from '../support/ui-support';

const reception = person('front', 'clinic.test', 'Robin Reyes', 'reception');
const physician = person('dr.okafor', 'clinic.test', 'Dr. Adaeze Okafor', 'physician');
const token = `RS${Date.now().toString(36)}`;
const first = `Lab results for room 3 are in (${token}1)`;
const second = `The patient in room 3 is waiting (${token}2)`;
const newer = `Room 5 asks for you too (${token}3)`;

let clinic: Clinic;
let rec: Workstation;
let laptop: Workstation;
let desk: Workstation;

/** The inbox row of the conversation with the receptionist. */
const inboxRow = (page: Page) =>
  page.getByRole('list', { name: 'Conversations' }).getByRole('button').filter({ hasText: reception.name });
const rowText = (page: Page) => inboxRow(page).textContent();
const stateOf = (page: Page, text: string) => messageRow(page, text).getAttribute('data-state');
/** The window loses or gets the focus (a headless page cannot be defocused by the OS). */
const setFocus = (page: Page, focused: boolean) =>
  page.evaluate((f) => window.dispatchEvent(new Event(f ? 'focus' : 'blur')), focused);
/** Blurs the window and waits until main was told it no longer views a conversation. */
async function lookAway(w: Workstation): Promise<void> {
  const before = w.ipc.calls.length;
  await setFocus(w.page, false);
  await expect.poll(() => w.ipc.calls.slice(before).includes('conversations:view')).toBe(true);
}

beforeAll(async () => {
  clinic = await startClinic('ui-read-sync', [reception, physician]);
  rec = await clinic.open('reception');
  laptop = await clinic.open('laptop');
  await clinic.signUp(rec.page, reception);
  await clinic.signUp(laptop.page, physician);
  desk = await sameKeyWorkstation(clinic, laptop.page, physician, 'desk');
  await laptop.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Inbox' }).click();
});

afterAll(async () => {
  await clinic?.close();
});

screenshotOnFailure(() => ({ reception: rec, laptop, desk }));

describe('read state across workstations', () => {
  it('what is read on one workstation is read on the other; a newer message stays unread until read there', async () => {
    await messageFromDirectory(rec.page, physician);
    await send(rec.page, first);
    await send(rec.page, second);
    // Both of the physician's workstations stored them, unread (neither has the conversation open).
    for (const w of [desk, laptop]) await expect.poll(() => rowText(w.page), { timeout: 45_000 }).toMatch(/2\sunread/);

    // She reads them on the laptop: the receptionist sees "Read".
    await inboxRow(laptop.page).click();
    await expect.poll(() => stateOf(rec.page, second), { timeout: 45_000 }).toBe('read');
    await expect.poll(() => rec.page.getByTestId('message-state').last().textContent()).toBe('Read');
    // She turns away from the laptop: what comes next is not read there.
    await lookAway(laptop);

    // The desk PC's inbox follows: no unread badge for the conversation, and nothing in the nav rail.
    await expect.poll(() => rowText(desk.page), { timeout: 45_000 }).not.toMatch(/unread/);
    expect(await desk.page.getByRole('navigation', { name: 'Main' }).textContent()).not.toMatch(/unread/);
    expect(await axeViolations(desk.page)).toEqual([]);
    await screenshot(desk.page, 'ui-read-sync-desk-inbox');

    // Opening it on the desk PC: both messages, no "New messages" divider above them.
    await inboxRow(desk.page).click();
    await messageRow(desk.page, second).waitFor();
    await messageRow(desk.page, first).waitFor();
    expect(await desk.page.getByTestId('unread-divider').count()).toBe(0);

    // A newer message while she is not looking at the desk PC: unread there, not read for the sender.
    await lookAway(desk);
    await send(rec.page, newer);
    await expect.poll(() => rowText(desk.page), { timeout: 45_000 }).toMatch(/1\sunread/);
    await messageRow(desk.page, newer).waitFor();
    expect(await stateOf(rec.page, newer)).not.toBe('read');

    // She looks at the desk PC: read there, and for the receptionist.
    await setFocus(desk.page, true);
    await expect.poll(() => rowText(desk.page), { timeout: 45_000 }).not.toMatch(/unread/);
    await expect.poll(() => stateOf(rec.page, newer), { timeout: 45_000 }).toBe('read');
  });

  it('ran with the CSP enforced and no script errors', () => {
    expect([...rec.problems, ...laptop.problems, ...desk.problems]).toEqual([]);
  });
});
