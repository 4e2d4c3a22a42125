// Issue 12 §1 "Read means the person saw it". A receptionist has a conversation open and locks;
// a physician writes meanwhile. Before the fix her open conversation did not show the message
// after unlock (catch-up announced the conversation, not the message), yet main marked it read at
// unlock and the physician's screen said "Read". Now: it appears in the open conversation, and
// "Read" goes back only once it was on her screen while unlocked and the window focused.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  messageRow,
  person,
  screenshot,
  screenshotOnFailure,
  send,
  twoDesks,
  unlockAs,
  type Clinic,
  type Workstation,
} from '../support/ui-support';

const DOMAIN = 'clinic.test';
const reception = person('reception', DOMAIN, 'Robin Reyes', 'reception');
const physician = person('dr.okafor', DOMAIN, 'Dr. Adaeze Okafor', 'physician');
const token = `RD${Date.now().toString(36)}`;
const hello = `Front desk here, ${token}`;
const duringLock = `Please call the lab about room 2 (${token}L)`;
const whileScrolledUp = `Room 6 is free now (${token}S)`;

let clinic: Clinic;
let rec: Workstation;
let doc: Workstation;

const stateOf = (page: Page, text: string) => messageRow(page, text).getAttribute('data-state');
/** The window loses or gets the focus (a headless page cannot be defocused by the OS). */
const setFocus = (page: Page, focused: boolean) =>
  page.evaluate((f) => window.dispatchEvent(new Event(f ? 'focus' : 'blur')), focused);
const markReadCalls = (w: Workstation, from: number) =>
  w.ipc.calls.slice(from).filter((c) => c === 'conversations:markRead').length;

beforeAll(async () => {
  ({ clinic, from: rec, to: doc } = await twoDesks('ui-read', reception, physician, hello));
});

afterAll(async () => {
  await clinic?.close();
});

screenshotOnFailure(() => ({ reception: rec, physician: doc }));

describe('a message sent while the reader is locked', () => {
  it('shows in her open conversation after unlock, and stays unread for the sender until she looks', async () => {
    await rec.page.keyboard.press('Control+l');
    await rec.page.getByRole('heading', { name: 'Clinic Messenger is locked' }).waitFor();
    await send(doc.page, duringLock);
    // The server has it (acknowledged); the receptionist's workstation is locked.
    await expect.poll(() => stateOf(doc.page, duringLock), { timeout: 45_000 }).toMatch(/^(sent|delivered)$/);

    // She unlocks, but the window is not focused (she turned to a patient at the desk).
    await setFocus(rec.page, false);
    const from = rec.ipc.calls.length;
    await unlockAs(rec.page, reception);
    await rec.page.getByRole('heading', { name: physician.name, level: 2 }).waitFor();
    // The open conversation shows what catch-up stored, without leaving and coming back.
    await messageRow(rec.page, duringLock).waitFor({ timeout: 45_000 });
    // Catch-up done and shown: still no "seen" went to main, and the physician sees no "Read".
    await rec.page.waitForTimeout(1_500); // longer than the renderer's dwell before "seen" (view.svelte.ts)
    expect(markReadCalls(rec, from)).toBe(0);
    expect(await stateOf(doc.page, duringLock)).not.toBe('read');
    await expect.poll(() => rec.page.getByRole('list', { name: 'Conversations' }).textContent()).toMatch(/1\sunread/);

    // She looks at the screen: now it is read, on both sides.
    await setFocus(rec.page, true);
    await expect.poll(() => stateOf(doc.page, duringLock), { timeout: 45_000 }).toBe('read');
    await expect.poll(() => doc.page.getByTestId('message-state').last().textContent()).toBe('Read');
    expect(markReadCalls(rec, from)).toBe(1);
    await expect.poll(() => rec.page.getByRole('list', { name: 'Conversations' }).textContent()).not.toMatch(/unread/);
    await screenshot(doc.page, 'ui-read-physician');
  });

  it('a live message below the fold stays unread until she scrolls down to it', async () => {
    // Enough history that the list scrolls.
    for (let i = 0; i < 14; i++) await send(rec.page, `Checklist item ${i + 1} for ${token}`);
    const list = rec.page.getByTestId('message-list');
    await list.evaluate((el) => (el.scrollTop = 0));
    await list.dispatchEvent('scroll');
    const from = rec.ipc.calls.length;
    await send(doc.page, whileScrolledUp);
    await expect
      .poll(() => rec.page.getByRole('list', { name: 'Conversations' }).textContent(), { timeout: 45_000 })
      .toMatch(/1\sunread/);
    await rec.page.waitForTimeout(1_500); // longer than the renderer's dwell before "seen"
    expect(await stateOf(doc.page, whileScrolledUp)).not.toBe('read');
    expect(markReadCalls(rec, from)).toBe(0);

    await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await list.dispatchEvent('scroll');
    await expect.poll(() => stateOf(doc.page, whileScrolledUp), { timeout: 45_000 }).toBe('read');
  });

  it('ran with the CSP enforced and no script errors', () => {
    expect(rec.problems).toEqual([]);
    expect(doc.problems).toEqual([]);
  });
});
