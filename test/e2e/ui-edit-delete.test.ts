// Issue 12 §6, edit and delete for everyone (XEP-0308 / XEP-0424 inside the signed OX payload), on
// two workstations in Chromium against real Prosody: the receptionist corrects a room number in
// place (Edit, type, Enter) and the physician's screen shows the new text marked "Edited"; she
// deletes a message sent to the wrong person after a confirmation, and both screens and the
// physician's inbox say it was deleted, with no trace of its text. Received messages offer neither
// action. axe finds nothing in the editor, the confirmation or the result, light or dark.
import { copyFileSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  axeViolations,
  dismissToasts,
  messageRow,
  person,
  screenshot,
  screenshotOnFailure,
  send,
  twoDesks,
  type Clinic,
  type Workstation,
} from '../support/ui-support';

const DOMAIN = 'clinic.test';
const reception = person('reception', DOMAIN, 'Robin Reyes', 'reception');
const physician = person('dr.okafor', DOMAIN, 'Dr. Adaeze Okafor', 'physician');
const token = `ED${Date.now().toString(36)}`;
const first = `Mr. Lee is waiting in room 4 (${token}1)`;
const corrected = `Mr. Lee is waiting in room 5 (${token}1)`;
const wrong = `Results for Mrs. Park attached (${token}2)`;

let clinic: Clinic;
let rec: Workstation;
let doc: Workstation;

beforeAll(async () => {
  ({ clinic, from: rec, to: doc } = await twoDesks('ui-edit-delete', reception, physician, first));
});

afterAll(async () => {
  await clinic?.close();
});

screenshotOnFailure(() => ({ reception: rec, physician: doc }));

/** Hover a row and press one of its actions. */
async function act(page: Page, text: string, action: string): Promise<void> {
  const row = messageRow(page, text).first();
  await row.hover();
  await row.getByRole('button', { name: action }).click();
}

describe('edit', () => {
  it('corrects a sent message in place on both screens, marked Edited', async () => {
    await expect
      .poll(() => messageRow(rec.page, first).getByTestId('message-state').textContent())
      .toMatch(/Read|Delivered|Sent/);
    await act(rec.page, first, 'Edit');
    const editor = rec.page.getByRole('textbox', { name: 'Edit message' });
    // The editor has the focus and the text: the receptionist fixes the number and presses Enter.
    await expect.poll(() => editor.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await editor.inputValue()).toBe(first);
    expect(await axeViolations(rec.page)).toEqual([]);
    await screenshot(rec.page, 'ui-edit-delete-editor');
    await editor.fill(corrected);
    await rec.page.keyboard.press('Enter');
    await expect.poll(() => rec.page.getByTestId('message-edit').count()).toBe(0);
    const mine = messageRow(rec.page, corrected);
    await expect.poll(() => mine.getByTestId('message-edited').count()).toBe(1);
    // On the physician's screen: the same row, new text, marked; the old text is gone.
    const theirs = messageRow(doc.page, corrected);
    await theirs.waitFor({ timeout: 45_000 });
    await expect.poll(() => theirs.getByTestId('message-edited').textContent()).toBe('Edited');
    expect(await messageRow(doc.page, 'room 4').count()).toBe(0);
  });

  it('Esc leaves a message as it was; received messages offer no Edit or Delete', async () => {
    await act(rec.page, corrected, 'Edit');
    const editor = rec.page.getByRole('textbox', { name: 'Edit message' });
    await editor.fill('something else entirely');
    await rec.page.keyboard.press('Escape');
    await expect.poll(() => rec.page.getByTestId('message-edit').count()).toBe(0);
    expect(await messageRow(rec.page, corrected).count()).toBe(1);
    const received = messageRow(doc.page, corrected).first();
    await received.hover();
    expect(await received.getByRole('button', { name: 'Reply' }).count()).toBe(1);
    expect(await received.getByRole('button', { name: 'Edit' }).count()).toBe(0);
    expect(await received.getByRole('button', { name: 'Delete for everyone' }).count()).toBe(0);
  });
});

describe('delete for everyone', () => {
  it('asks first, then removes the text on both screens and from the inbox preview', async () => {
    await send(rec.page, wrong);
    await messageRow(doc.page, wrong).waitFor({ timeout: 45_000 });
    await expect
      .poll(() => messageRow(rec.page, wrong).getByTestId('message-state').textContent())
      .toMatch(/Read|Delivered|Sent/);
    await act(rec.page, wrong, 'Delete for everyone');
    const dialog = rec.page.getByRole('dialog', { name: 'Delete for everyone' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('cannot be undone');
    expect(await axeViolations(rec.page)).toEqual([]);
    await screenshot(rec.page, 'ui-edit-delete-confirm');
    // Cancel keeps it.
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => dialog.count()).toBe(0);
    expect(await messageRow(rec.page, wrong).count()).toBe(1);
    await act(rec.page, wrong, 'Delete for everyone');
    await rec.page.getByTestId('confirm-delete').click();
    await expect.poll(() => messageRow(rec.page, wrong).count()).toBe(0);
    await expect.poll(() => rec.page.getByTestId('message-deleted').textContent()).toBe('You deleted this message');
    await expect.poll(() => messageRow(doc.page, wrong).count(), { timeout: 45_000 }).toBe(0);
    expect(await doc.page.getByTestId('message-deleted').textContent()).toBe('This message was deleted');
    // The physician's inbox says so too, and nowhere on either page is the text left.
    const inbox = doc.page.getByRole('list', { name: 'Conversations' });
    await expect.poll(() => inbox.textContent()).toContain('Message deleted');
    for (const page of [rec.page, doc.page]) {
      expect(await page.evaluate(() => document.body.innerText)).not.toContain('Mrs. Park');
    }
  });
});

describe('looks', () => {
  it('has no axe violations in light and dark with a reply, an edited and a deleted message', async () => {
    // The physician answers the corrected message: the picture shows a reply, an edit, a deletion
    // and the unread divider together (issue 12 §10).
    await act(doc.page, corrected, 'Reply');
    await doc.page.keyboard.type(`On my way (${token}3)`);
    await doc.page.keyboard.press('Enter');
    await messageRow(doc.page, `On my way (${token}3)`).getByTestId('reply-quote').waitFor();
    await dismissToasts(doc.page);
    mkdirSync(resolve('docs/screenshots'), { recursive: true });
    for (const scheme of ['light', 'dark'] as const) {
      await doc.page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
      expect(await axeViolations(doc.page), scheme).toEqual([]);
      const shot = await screenshot(doc.page, `ui-edit-delete-${scheme}`);
      copyFileSync(shot, resolve(`docs/screenshots/conversation-edited-${scheme}.png`));
    }
    await doc.page.emulateMedia({ colorScheme: 'light' });
  });
});
