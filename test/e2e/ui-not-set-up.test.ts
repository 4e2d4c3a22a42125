// Colleagues who cannot receive yet (issue 12 §3), end to end: real Prosody, keychain, SQLCipher and
// Chromium. A physician who has never signed in has no published key: the receptionist's directory
// says "Not set up yet" (axe finds nothing), her message is accepted and shows "Waiting for … to
// sign in" instead of an error, and once he signs in for the first time it goes by itself — Sent,
// then Delivered — and he reads it, once.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../main/store/types';
import {
  axeViolations,
  messageFromDirectory,
  person,
  screenshot,
  screenshotOnFailure,
  send,
  startClinic,
  type Clinic,
  type Workstation,
} from '../support/ui-support';

const DOMAIN = 'clinic.test';
const reception = person('reception', DOMAIN, 'Robin Reyes', 'reception');
const physician = person('dr.okafor', DOMAIN, 'Dr. Adaeze Okafor', 'physician');
const token = `NS${Date.now().toString(36)}`;
const text = `Welcome aboard, your first patient is in room 2 (${token})`;

let clinic: Clinic;
let rec: Workstation;
let doc: Workstation | undefined;

const messageRow = (page: Page, body: string) => page.locator('[data-message-id]', { hasText: body });
const trustLabel = (page: Page, scope: string) => page.getByTestId(scope).locator('[data-trust] .label').innerText();
const activeStore = (w: Workstation): Store => w.harness.core.session.active().store;

beforeAll(async () => {
  clinic = await startClinic('ui-not-set-up', [reception, physician]);
  rec = await clinic.open('reception-pc');
  await clinic.signUp(rec.page, reception);
});

afterAll(async () => {
  await clinic?.close();
});

screenshotOnFailure(() => ({ reception: rec }));

describe('a colleague who has not signed in yet', () => {
  it('the directory shows "Not set up yet" for them, and axe finds nothing', async () => {
    const page = rec.page;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Directory' }).click();
    const row = page.getByRole('row').filter({ hasText: physician.name });
    await expect.poll(() => row.locator('[data-trust] .label').innerText(), { timeout: 30_000 }).toBe('Not set up yet');
    // Messaging them stays possible.
    expect(await page.getByRole('button', { name: `Message ${physician.name}` }).isEnabled()).toBe(true);
    expect(await axeViolations(page)).toEqual([]);
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await axeViolations(page)).toEqual([]);
    await page.emulateMedia({ colorScheme: 'light' });
    await screenshot(page, 'ui-not-set-up-directory');
    // Their details say the same, in words, and that messages wait.
    await page.getByRole('button', { name: `Details for ${physician.name}` }).click();
    const note = page.getByTestId('contact-not-set-up');
    await note.waitFor({ timeout: 30_000 });
    expect(await note.innerText()).toContain('has not signed in to Clinic Messenger yet');
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'ui-not-set-up-contact');
  });

  it('a message to them is accepted and shows "Waiting for … to sign in", not an error', async () => {
    const page = rec.page;
    await messageFromDirectory(page, physician);
    await expect.poll(() => trustLabel(page, 'conversation-trust')).toBe('Not set up yet');
    await send(page, text);
    const mine = messageRow(page, text);
    await expect
      .poll(() => mine.getByTestId('message-state').textContent(), { timeout: 30_000 })
      .toBe(`Waiting for ${physician.name} to sign in`);
    expect(await mine.getAttribute('data-state')).toBe('queued');
    expect(await page.getByRole('alert').count()).toBe(0);
    // The inbox row says the same as the header (not "Could not verify").
    const inboxRow = page.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: physician.name });
    expect(await inboxRow.locator('[data-trust] .label').innerText()).toBe('Not set up yet');
    expect(await inboxRow.innerText()).toContain('You (Waiting)');
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'ui-not-set-up-waiting');
  });

  it('once they sign in for the first time it is sent by itself, delivered and read by them, once', async () => {
    doc = await clinic.open('physician-laptop');
    await clinic.signUp(doc.page, physician);
    // Nobody touches the receptionist's screen: the message leaves the outbox on its own.
    const mine = messageRow(rec.page, text);
    await expect.poll(() => mine.getAttribute('data-state'), { timeout: 60_000 }).toMatch(/^(sent|delivered|read)$/);
    await expect.poll(() => mine.getAttribute('data-state'), { timeout: 60_000 }).toMatch(/^(delivered|read)$/);
    expect(await mine.getByTestId('message-state').textContent()).not.toContain('Waiting');
    // His key was pinned on first use, as for anyone: the header now says so.
    await expect.poll(() => trustLabel(rec.page, 'conversation-trust')).toBe('Not verified');
    expect(await rec.page.getByRole('alert').count()).toBe(0);
    await screenshot(rec.page, 'ui-not-set-up-delivered');

    const conv = doc.page
      .getByRole('list', { name: 'Conversations' })
      .getByRole('button', { name: new RegExp(reception.name) });
    await conv.click({ timeout: 45_000 });
    await messageRow(doc.page, text).waitFor({ timeout: 30_000 });
    // Decrypted and verified on his side, and stored once.
    const store = activeStore(doc);
    const peer = store.conversations.byPeer(reception.jid);
    const got = peer ? store.messages.page(peer.id, { before: null, limit: 50 }).items : [];
    expect(got.filter((m) => m.direction === 'in').map((m) => [m.body, m.state === 'unverified'])).toEqual([
      [text, false],
    ]);
    expect(rec.problems).toEqual([]);
    expect(doc.problems).toEqual([]);
  });
});
