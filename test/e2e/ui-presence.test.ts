// Availability and urgency (issue 12 §7), on real Prosody in Chromium: a receptionist sets her
// presence in the nav rail's menu and the physician sees it (header and directory); under "With a
// patient" a normal message does not notify her while an Urgent one does, shown distinctly in the
// toast, the inbox and the message row; a muted conversation stays quiet; and a toast never covers
// the message list. axe finds nothing, light and dark, with the presence menu open.
import { copyFileSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  axeViolations,
  dismissToasts,
  messageFromDirectory,
  messageRow,
  person,
  screenshot,
  screenshotOnFailure,
  send,
  startClinic,
  type Clinic,
  type Person,
  type Workstation,
} from '../support/ui-support';

const reception = person('presence.desk', 'clinic.test', 'Robin Reyes', 'reception');
const physician = person('dr.presence', 'clinic.test', 'Dr. Adaeze Okafor', 'physician');
const nurse = person('nurse.presence', 'clinic.test', 'Sam Nguyen', 'nurse');
const run = Date.now().toString(36);

let clinic: Clinic;
let rec: Workstation;
let doc: Workstation;
let nur: Workstation;

const nav = (page: Page) => page.getByRole('navigation', { name: 'Main' });
const toasts = (page: Page) => page.getByTestId('toasts').locator('.toast');

async function openConversationWith(page: Page, who: Person): Promise<void> {
  await nav(page).getByRole('button', { name: 'Inbox' }).click();
  const conv = page.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: new RegExp(who.name) });
  await conv.click({ timeout: 45_000 });
  await page.getByRole('heading', { name: who.name, level: 2 }).waitFor();
}

async function setPresence(page: Page, choice: string, status = ''): Promise<void> {
  await page.getByTestId('presence-button').click();
  const panel = page.getByRole('dialog', { name: 'Your presence' });
  await panel.getByRole('radio', { name: choice }).check();
  const field = panel.getByRole('textbox', { name: /Status message/ });
  if (await field.isEnabled()) await field.fill(status);
  await panel.getByRole('button', { name: 'Set presence' }).click();
  await panel.waitFor({ state: 'detached' });
}

/** The unread count on the nav rail's Inbox button (0 when there is no badge). */
async function unreadTotal(page: Page): Promise<number> {
  const badge = nav(page).getByRole('button', { name: /Inbox/ }).locator('.badge');
  return (await badge.count()) === 0 ? 0 : Number.parseInt(await badge.innerText(), 10);
}

async function sendUrgent(page: Page, text: string): Promise<void> {
  await page.getByTestId('composer-urgent').check();
  await send(page, text);
  // Urgent is for one message: the toggle turns itself off once it is sent.
  await expect.poll(() => page.getByTestId('composer-urgent').isChecked()).toBe(false);
}

beforeAll(async () => {
  clinic = await startClinic('ui-presence', [reception, physician, nurse]);
  rec = await clinic.open('desk');
  doc = await clinic.open('laptop');
  nur = await clinic.open('ward');
  await clinic.signUp(rec.page, reception);
  await clinic.signUp(doc.page, physician);
  await clinic.signUp(nur.page, nurse);
  await messageFromDirectory(rec.page, physician);
  await send(rec.page, `Hello from the desk (${run})`);
  await openConversationWith(doc.page, reception);
}, 300_000);

afterAll(async () => {
  await clinic?.close();
});

screenshotOnFailure(() => ({ presence: rec }));

describe('presence a person sets', () => {
  it('is set from the nav rail and a colleague sees it in the conversation header and the directory', async () => {
    await rec.page.getByTestId('presence-button').click();
    const panel = rec.page.getByRole('dialog', { name: 'Your presence' });
    await panel.waitFor();
    for (const choice of ['Available', 'With a patient', 'Busy / Do not disturb', 'Away'])
      expect(await panel.getByRole('radio', { name: choice }).count()).toBe(1);
    await panel.getByRole('radio', { name: 'Away' }).check();
    await panel.getByRole('textbox', { name: /Status message/ }).fill('Back at 2 pm');
    // The picture for the docs: the menu open, light and dark, each scanned by axe.
    mkdirSync(resolve('docs/screenshots'), { recursive: true });
    for (const scheme of ['light', 'dark'] as const) {
      await rec.page.emulateMedia({ colorScheme: scheme });
      await rec.page.waitForTimeout(100); // let the theme settle before the scan and the picture
      expect(await axeViolations(rec.page)).toEqual([]);
      copyFileSync(
        await screenshot(rec.page, `presence-${scheme}`),
        resolve(`docs/screenshots/presence-${scheme}.png`),
      );
    }
    await rec.page.emulateMedia({ colorScheme: 'light' });
    // Esc closes it without change and gives focus back to the button.
    await rec.page.keyboard.press('Escape');
    await panel.waitFor({ state: 'detached' });
    expect(await rec.page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('presence-button');
    expect(await rec.page.getByTestId('presence-button').innerText()).toContain('Available');

    await setPresence(rec.page, 'Away', 'Back at 2 pm');
    expect(await rec.page.getByTestId('presence-button').innerText()).toContain('Back at 2 pm');
    const header = doc.page.locator('header.conv-head');
    await header.getByText('Away').waitFor({ timeout: 30_000 });
    await header.getByTestId('presence-status').getByText('Back at 2 pm').waitFor();

    await setPresence(rec.page, 'With a patient');
    await header.getByTestId('presence-status').getByText('With a patient').waitFor({ timeout: 30_000 });
    await header.getByText('Do not disturb').waitFor();
    await nav(doc.page).getByRole('button', { name: 'Directory' }).click();
    const row = doc.page.getByRole('row', { name: new RegExp(reception.name) });
    await row.getByText('With a patient').waitFor({ timeout: 30_000 });
    expect(await axeViolations(doc.page)).toEqual([]);
  });
});

describe('Urgent, Do not disturb and mute', () => {
  it('under With a patient a normal message does not notify; an urgent one does, shown distinctly', async () => {
    // The inbox opens on the conversation last selected, which reads it: the physician's must not be
    // that one, or its Urgent mark in the list would go as soon as the inbox is shown.
    await messageFromDirectory(rec.page, nurse);
    // The receptionist is busy elsewhere in the app: a notification would be a toast.
    await nav(rec.page).getByRole('button', { name: 'Settings' }).click();
    await openConversationWith(doc.page, reception);
    const before = await unreadTotal(rec.page);
    await send(doc.page, `Normal note (${run})`);
    await expect.poll(() => unreadTotal(rec.page), { timeout: 45_000 }).toBe(before + 1);
    expect(await toasts(rec.page).count()).toBe(0);

    await sendUrgent(doc.page, `Urgent note (${run})`);
    const toast = toasts(rec.page).first();
    await toast.waitFor({ timeout: 45_000 });
    expect(await toast.getAttribute('data-urgent')).toBe('true');
    expect(await toast.innerText()).toContain('Urgent');
    expect(await toasts(rec.page).count()).toBe(1); // only the urgent one
    expect(await axeViolations(rec.page)).toEqual([]);

    // The inbox marks the conversation, the history marks the message, on both sides.
    await nav(rec.page).getByRole('button', { name: 'Inbox' }).click();
    const conv = rec.page.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: /Adaeze/ });
    await conv.getByTestId('inbox-urgent').waitFor();
    await openConversationWith(rec.page, physician);
    const urgentRow = messageRow(rec.page, `Urgent note (${run})`);
    await urgentRow.getByTestId('urgent-tag').waitFor();
    expect(await urgentRow.getAttribute('data-urgent')).toBe('true');
    expect(await messageRow(rec.page, `Normal note (${run})`).getAttribute('data-urgent')).toBe('false');
    await messageRow(doc.page, `Urgent note (${run})`).getByTestId('urgent-tag').waitFor();
    expect(await axeViolations(rec.page)).toEqual([]);
    // An urgent toast stays until dismissed or read: opening the conversation above read it.
    await expect.poll(() => toasts(rec.page).count()).toBe(0);
  });

  it('a muted conversation does not notify, an urgent message in it does, and no toast covers the message list', async () => {
    await setPresence(rec.page, 'Available');
    // The nurse's conversation, muted from its header.
    await messageFromDirectory(nur.page, reception);
    await send(nur.page, `First from the ward (${run})`);
    await openConversationWith(rec.page, nurse);
    await rec.page.getByTestId('mute-conversation').click();
    await expect.poll(() => rec.page.getByTestId('mute-conversation').getAttribute('aria-pressed')).toBe('true');
    // Back to the physician's conversation: the message list is on screen beside any toast.
    await openConversationWith(rec.page, physician);
    // The first message (not muted yet) left its toast: dismiss what is there before the muted one.
    await dismissToasts(rec.page);
    const before = await unreadTotal(rec.page);
    await send(nur.page, `Muted note (${run})`);
    await expect.poll(() => unreadTotal(rec.page), { timeout: 45_000 }).toBe(before + 1);
    expect(await toasts(rec.page).count()).toBe(0);

    await sendUrgent(nur.page, `Urgent from the ward (${run})`);
    const toast = toasts(rec.page).first();
    await toast.waitFor({ timeout: 45_000 });
    expect(await toast.getAttribute('data-urgent')).toBe('true');
    const t = (await toast.boundingBox())!;
    const list = (await rec.page.getByTestId('message-list').boundingBox())!;
    const overlaps =
      t.x < list.x + list.width && list.x < t.x + t.width && t.y < list.y + list.height && list.y < t.y + t.height;
    expect(overlaps).toBe(false);
    await dismissToasts(rec.page);

    // Unmuted from Settings, a normal message notifies again.
    await nav(rec.page).getByRole('button', { name: 'Settings' }).click();
    const notifications = rec.page.getByRole('region', { name: 'Notifications' });
    await notifications.getByRole('button', { name: /Unmute/ }).click();
    await notifications.getByText('None. Mute a conversation from its header.').waitFor();
    expect(await axeViolations(rec.page)).toEqual([]);
    await send(nur.page, `Unmuted note (${run})`);
    await toasts(rec.page).first().waitFor({ timeout: 45_000 });
    expect(await toasts(rec.page).first().getAttribute('data-urgent')).toBe('false');
  });
});
