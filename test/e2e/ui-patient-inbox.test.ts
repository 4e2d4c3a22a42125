/**
 * A patient conversation in the inbox, end to end in Chromium (issue 17, "Done when": a
 * receptionist texts a patient from the inbox; the patient opens the link on a phone-sized page,
 * passes the DOB check, reads the message and replies; the reply appears in the receptionist's
 * inbox). Real Prosody, the real patient gateway (an XEP-0114 component) with its SMS sink, the
 * desktop harness and a 390×844 phone page. The first text to a new patient goes from the inbox
 * ("Text a patient": the Patients screen's form in a dialog, from the keyboard, axe 0 light and
 * dark); the patient's conversation opens, marked as a patient; the next text goes from its
 * composer (same number, same DOB check, no DOB asked again); the reply arrives in that inbox
 * conversation marked "Patient — identity checked by date of birth", with an unread count while the
 * window is not focused, read once it is. A reply while the conversation is open and the window
 * focused is read at once: no toast, no unread badge, not even for a moment (conversations:view
 * covers patient conversations). An opted-out patient's next text is refused in the thread.
 */
import type { Page } from 'playwright-core';
import { copyFileSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSink } from '../../gateway/sms/sink';
import { fakeClock, type FakeClock } from '../support/fake-clock';
import { postForm, type TestGateway } from '../support/gateway-support';
import { patientDesk, type PatientDesk } from '../support/patient-desk-ui';
import { axeViolations, person, screenshot, type Clinic, type Workstation } from '../support/ui-support';

const reception = person('front.desk', 'clinic.test', 'Kim Front', 'reception');
const PHONE = '+15550707070';
const DOB = '1979-11-03';
const FIRST = 'Your clinic has your new prescription ready for pickup.';
const SECOND = 'Your test came back normal. No need to come in.';
const REPLY = 'Thank you! Good to hear.';
const THIRD = 'Please bring your medication list to the visit.';
const REPLY2 = 'Will do, see you then.';
const SMS = 'Your clinic sent you a secure message: {link}';

let desk: PatientDesk;
let clinic: Clinic;
let rec: Workstation;
let gw: TestGateway;
/** The gateway's clock: a reply's time is the gateway's. */
let gwClock: FakeClock;

/** The window loses or gets the focus (a headless page cannot be defocused by the OS). */
const setFocus = (page: Page, focused: boolean) =>
  page.evaluate((f) => window.dispatchEvent(new Event(f ? 'focus' : 'blur')), focused);
const inboxRow = (page: Page) =>
  page.getByRole('list', { name: 'Conversations' }).locator(`[data-conversation-id="patient:${PHONE}"]`);
/** The newest SMS to the patient's phone and its link. */
const lastLink = () => {
  const sms = readSink(gw.sinkDir).filter((t) => t.to === PHONE && /https?:/.test(t.body));
  return new URL(/https?:\/\/\S+/.exec(sms.at(-1)!.body)![0]);
};

/** The patient opens the newest link on a 390×844 phone page, passes the DOB check, reads `text` and replies. */
async function patientReplies(text: string, reply: string): Promise<void> {
  const link = lastLink();
  const context = await clinic.browser.newContext({ viewport: { width: 390, height: 844 } });
  try {
    const phone = await context.newPage();
    await phone.goto(`${gw.baseUrl}${link.pathname}${link.hash}`);
    await phone.getByRole('button', { name: 'Open the message' }).click();
    // The same date of birth as the first text: the conversation kept its check.
    await phone.getByLabel('Date of birth').fill(DOB);
    await phone.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(() => phone.locator('#text').textContent()).toBe(text);
    await phone.getByLabel('Your reply').fill(reply);
    await phone.getByRole('button', { name: 'Send reply' }).click();
    await phone.getByText('Your reply was sent to your clinic.').waitFor();
  } finally {
    await context.close();
  }
}

beforeAll(async () => {
  gwClock = fakeClock();
  desk = await patientDesk('ui-patient-inbox', reception, { compliance: true, clock: gwClock });
  ({ clinic, rec, gw } = desk);
});

afterAll(async () => {
  await desk?.close();
});

describe('a patient conversation in the inbox', () => {
  it('the first text to a new patient starts from the inbox and opens its conversation, marked as a patient', async () => {
    const page = rec.page;
    // From the keyboard: the inbox's "Text a patient" opens the dialog with the focus inside it.
    const opener = page.getByRole('button', { name: 'Text a patient' });
    await opener.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Text a patient' });
    await dialog.waitFor();
    await expect.poll(() => dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
    // Esc closes it and gives the focus back to the button that opened it.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(() => opener.evaluate((b) => b === document.activeElement)).toBe(true);
    await page.keyboard.press('Enter');
    await dialog.waitFor();

    // The Patients screen's form: name, number, date of birth, message, the PHI-free SMS text.
    await dialog.getByLabel('Patient name').fill('Ana Silva');
    await dialog.getByLabel('Mobile number').fill(PHONE);
    await dialog.getByLabel('Date of birth', { exact: true }).fill(DOB);
    await dialog.getByLabel('Message', { exact: true }).fill(FIRST);
    // The SMS text checker, as on the Patients screen: the patient's name in it is refused.
    const sms = dialog.getByLabel('Text message the patient receives');
    await sms.fill('Ana, a message from the clinic: {link}');
    await dialog.getByText('is part of the patient').waitFor();
    const send = dialog.getByRole('button', { name: 'Send secure text' });
    expect(await send.isDisabled()).toBe(true);
    await sms.fill(SMS);
    expect(await send.isDisabled()).toBe(false);
    await dialog.locator('form').evaluate((f) => f.scrollTo(0, 0));
    mkdirSync(resolve('docs/screenshots'), { recursive: true });
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.waitForTimeout(100); // let the theme settle before the scan and the picture
      expect(await axeViolations(page)).toEqual([]);
      const shot = await screenshot(page, `ui-patient-text-dialog-${scheme}`);
      if (scheme === 'light') copyFileSync(shot, resolve('docs/screenshots/patients-text-from-inbox.png'));
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await send.click();

    // The dialog closes and the new patient conversation opens, its composer focused.
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('heading', { name: 'Ana Silva', level: 2 }).waitFor();
    await expect
      .poll(() => page.getByLabel('Message to the patient').evaluate((e) => e === document.activeElement))
      .toBe(true);
    const row = inboxRow(page);
    await row.waitFor();
    // Its accessible name says it is a patient, not a colleague.
    expect(await row.getAttribute('data-conversation-id')).toBe(`patient:${PHONE}`);
    await expect.poll(() => row.textContent()).toMatch(/Ana Silva\s*Patient/);
    expect(await row.getByTestId('inbox-patient').textContent()).toBe('Patient');
    expect(await row.getAttribute('aria-current')).not.toBeNull();
    const first = page.getByTestId('patient-thread-text').filter({ hasText: FIRST });
    await expect.poll(() => first.getAttribute('data-state')).toBe('sms-delivered');
    expect(await first.textContent()).toContain('SMS delivered');
  });

  it('a text from the conversation reaches the phone; the reply comes back to the inbox, marked and unread', async () => {
    const page = rec.page;
    const before = readSink(gw.sinkDir).length;
    await page.getByLabel('Message to the patient').fill(SECOND);
    // The SMS text is checked as it is typed: the patient's name in it is refused.
    const sms = page.getByLabel('Text message the patient receives');
    await sms.fill('Ana, a message from the clinic: {link}');
    await page.getByText('is part of the patient').waitFor();
    const send = page.getByRole('button', { name: 'Send secure text' });
    expect(await send.isDisabled()).toBe(true);
    await sms.fill(SMS);
    await send.click();
    const second = page.getByTestId('patient-thread-text').filter({ hasText: SECOND });
    await expect.poll(() => second.getAttribute('data-state')).toBe('sms-delivered');
    expect(readSink(gw.sinkDir).length).toBe(before + 1);

    // She turns to the desk: the window loses the focus while the patient answers.
    await setFocus(page, false);
    await patientReplies(SECOND, REPLY);

    const reply = page.getByTestId('patient-thread-reply').filter({ hasText: REPLY });
    await reply.waitFor();
    expect(await reply.getAttribute('data-verified')).toBe('dob');
    expect(await reply.textContent()).toContain('Patient — identity checked by date of birth');
    await expect.poll(() => second.getAttribute('data-state')).toBe('replied');
    // Unread in the inbox while she was not looking; the row shows the reply.
    const row = inboxRow(page);
    await expect.poll(() => row.locator('.badge').textContent()).toMatch(/^1\s*unread$/);
    expect(await row.textContent()).toContain(REPLY);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'ui-patient-inbox');
    // She looks again: the reply is read, the badge goes.
    await setFocus(page, true);
    await expect.poll(() => row.locator('.badge').count()).toBe(0);
    expect(rec.problems).toEqual([]);
  });

  it('a reply to the patient conversation open and focused is read at once: no toast, no unread badge', async () => {
    const page = rec.page;
    await page.getByLabel('Message to the patient').fill(THIRD);
    await page.getByRole('button', { name: 'Send secure text' }).click();
    const third = page.getByTestId('patient-thread-text').filter({ hasText: THIRD });
    await expect.poll(() => third.getAttribute('data-state')).toBe('sms-delivered');
    const toasts = page.getByTestId('toasts').locator('.toast');
    await expect.poll(() => toasts.count()).toBe(0);
    await expect.poll(() => inboxRow(page).locator('.badge').count()).toBe(0);
    // Record whether a toast or the row's unread badge ever shows, even for a moment.
    await page.evaluate((rowSel) => {
      const w = window as unknown as { __seen: { toast: boolean; badge: boolean } };
      w.__seen = { toast: false, badge: false };
      const look = () => {
        if (document.querySelector('[data-testid="toasts"] .toast')) w.__seen.toast = true;
        if (document.querySelector(`${rowSel} .badge`)) w.__seen.badge = true;
      };
      new MutationObserver(look).observe(document.body, { subtree: true, childList: true, characterData: true });
    }, `[data-conversation-id="patient:${PHONE}"]`);

    // A minute later by the gateway's clock: the reply is newer than the read mark of the first one.
    gwClock.advance(60_000);
    await patientReplies(THIRD, REPLY2);
    const reply = page.getByTestId('patient-thread-reply').filter({ hasText: REPLY2 });
    await reply.waitFor();
    await expect.poll(() => third.getAttribute('data-state')).toBe('replied');
    // The row shows the reply (its conversation:updated came), read: the badge never showed, nor a toast.
    await expect.poll(() => inboxRow(page).textContent()).toContain(REPLY2);
    const seen = await page.evaluate(
      () => (window as unknown as { __seen: { toast: boolean; badge: boolean } }).__seen,
    );
    expect(seen).toEqual({ toast: false, badge: false });
    expect(await toasts.count()).toBe(0);
    expect(rec.problems).toEqual([]);
  });

  it('after the patient texts STOP, a text from the conversation is refused and the thread says why', async () => {
    const stop = await postForm(`${gw.baseUrl}/sms/sink/inbound`, { From: PHONE, Body: 'STOP' });
    expect(stop.status).toBeLessThan(300);
    const page = rec.page;
    const before = readSink(gw.sinkDir).filter((t) => t.to === PHONE).length;
    await page.getByLabel('Message to the patient').fill('One more message.');
    await page.getByRole('button', { name: 'Send secure text' }).click();
    const refused = page.getByTestId('patient-thread-text').filter({ hasText: 'One more message.' });
    await expect.poll(() => refused.getAttribute('data-state')).toBe('failed');
    expect(await refused.textContent()).toContain('the patient has opted out of texts');
    expect(readSink(gw.sinkDir).filter((t) => t.to === PHONE)).toHaveLength(before);
    expect(rec.problems).toEqual([]);
  });
});
