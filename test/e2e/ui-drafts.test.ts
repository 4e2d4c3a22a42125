// Nothing typed is lost (issue 12 item 2): drafts per conversation survive switching, lock/unlock
// and a restart; a failed message keeps its reason and a Retry button that works after switching
// away and back; before the idle lock a warning lets the person stay, and a half-written draft
// is there after the lock. The desk's main process runs on a clock the test can move forward
// (test/support/jump-clock.ts), so the idle tests skip the timeout instead of waiting for it.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventName } from '../../common/ipc-contract';
import { newOriginId } from '../../main/xmpp/origin-id';
import { jumpClock, type JumpClock } from '../support/jump-clock';
import {
  axeViolations,
  closeWorkstation,
  expectNoPhi,
  messageFromDirectory,
  openWorkstation,
  person,
  screenshot,
  startClinic,
  unlockAs,
  type Clinic,
  type Workstation,
} from '../support/ui-support';

const reception = person('desk.drafts', 'clinic.test', 'Robin Reyes', 'reception');
const physician = person('dr.okafor', 'clinic.test', 'Dr. Ada Okafor', 'physician');
const nurse = person('nurse.lee', 'clinic.test', 'Sam Lee', 'nurse');
const tag = Date.now().toString(36);
const draftDoc = `Bed 7 asks whether the scan (${tag})`;
const draftNurse = `Please restock room 2 with (${tag})`;
// The desk's idle lock (policy maximum): long enough that no test lingers into it by accident.
const IDLE_MINUTES = 5;
const MIN = 60_000;

let clinic: Clinic;
let rec: Workstation;
let doc: Workstation;
let clock: JumpClock;

/** The desk on its profile folder: a new harness (a restart of the app) each time. */
async function openDesk(): Promise<Workstation> {
  clock = jumpClock();
  return openWorkstation(clinic.browser, {
    userDataDir: join(clinic.dir, 'desk'),
    policy: { ...clinic.policy, lockTimeoutMaxMinutes: IDLE_MINUTES },
    clock,
  });
}

const box = () => rec.page.getByRole('textbox', { name: 'Message' });
const composerText = () => box().inputValue();
const saves = () => rec.ipc.answered.filter((c) => c === 'drafts:set').length;

/** Types into the composer and waits until main has stored it (answered the page's save). */
async function typeDraft(text: string): Promise<void> {
  const before = saves();
  await box().fill(text);
  await expect.poll(saves, { timeout: 10_000 }).toBeGreaterThan(before);
}

/** Events main emitted (names and payloads, in this process: never printed). */
function recordEvents(w: Workstation, name: EventName): unknown[] {
  const seen: unknown[] = [];
  w.harness.core.events.subscribe((n, payload) => {
    if (n === name) seen.push(payload);
  });
  return seen;
}

/** One more call through the harness and a frame: whatever was asked before it has been answered and drawn. */
const roundTrip = () =>
  rec.page.evaluate(async () => {
    await (window as unknown as { clinic: { app: { info(): Promise<unknown> } } }).clinic.app.info();
    await new Promise((r) => requestAnimationFrame(r));
  });

/** Lets main's microtasks run (an idle lock starts in one) before looking at its state. */
const settle = () => new Promise<void>((r) => setImmediate(r));

beforeAll(async () => {
  clinic = await startClinic('ui-drafts', [reception, physician, nurse]);
  doc = await clinic.open('laptop');
  const ward = await clinic.open('ward');
  rec = await openDesk();
  await clinic.signUp(doc.page, physician);
  await clinic.signUp(ward.page, nurse);
  await clinic.signUp(rec.page, reception);
  await messageFromDirectory(doc.page, reception);
});

afterAll(async () => {
  await closeWorkstation(rec);
  await clinic?.close();
});

describe('drafts', () => {
  it('keeps each conversation’s draft when switching between them', async () => {
    await messageFromDirectory(rec.page, physician);
    await box().fill(draftDoc);
    await messageFromDirectory(rec.page, nurse);
    expect(await composerText()).toBe('');
    await box().fill(draftNurse);
    await messageFromDirectory(rec.page, physician);
    await expect.poll(composerText).toBe(draftDoc);
    await messageFromDirectory(rec.page, nurse);
    await expect.poll(composerText).toBe(draftNurse);
  });

  it('keeps the draft across a lock from here (Ctrl+L) and one main makes (OS lock), with none of it shown while locked', async () => {
    await messageFromDirectory(rec.page, physician);
    await expect.poll(composerText).toBe(draftDoc);
    // Typed and locked at once: the save goes out before the lock (no waiting for the debounce).
    await box().fill(`${draftDoc} came back`);
    await rec.page.keyboard.press('Control+l');
    await rec.page.getByRole('heading', { name: 'Clinic Messenger is locked' }).waitFor();
    await expectNoPhi(rec.page, [draftDoc, draftNurse]);
    await unlockAs(rec.page, reception);
    await rec.page.getByRole('heading', { name: physician.name, level: 2 }).waitFor();
    await expect.poll(composerText).toBe(`${draftDoc} came back`);

    // The OS locks the screen right after the last keystroke: main locks by itself. The save left
    // the page with the change (nothing waits for a pause in typing); the round trip only lets it
    // arrive (calls are answered in order), so the lock below cannot overtake it on a busy machine.
    await box().fill(draftDoc);
    await roundTrip();
    await rec.harness.core.session.lock('os-lock');
    await rec.page.getByRole('heading', { name: 'Clinic Messenger is locked' }).waitFor();
    await expectNoPhi(rec.page, [draftDoc]);
    await unlockAs(rec.page, reception);
    await rec.page.getByRole('heading', { name: physician.name, level: 2 }).waitFor();
    await expect.poll(composerText).toBe(draftDoc);
  });

  it('keeps drafts across a restart; sending one clears it and leaves the other', async () => {
    await closeWorkstation(rec);
    rec = await openDesk();
    await unlockAs(rec.page, reception);
    await messageFromDirectory(rec.page, nurse);
    await expect.poll(composerText).toBe(draftNurse);
    await messageFromDirectory(rec.page, physician);
    await expect.poll(composerText).toBe(draftDoc);

    await box().press('Enter');
    await expect.poll(composerText).toBe('');
    await doc.page.locator('[data-message-id]', { hasText: draftDoc }).waitFor({ timeout: 45_000 });
    await messageFromDirectory(rec.page, nurse);
    await expect.poll(composerText).toBe(draftNurse);
    const loads = rec.ipc.calls.filter((c) => c === 'drafts:get').length;
    await messageFromDirectory(rec.page, physician);
    // Its draft was asked for and answered (calls are answered in order) before saying it is empty.
    await expect.poll(() => rec.ipc.calls.filter((c) => c === 'drafts:get').length).toBeGreaterThan(loads);
    await roundTrip();
    expect(await composerText()).toBe('');
    expect(rec.problems).toEqual([]);
  });
});

describe('a failed message', () => {
  const text = `Is the 3 pm slot still free? (${tag})`;

  it('keeps its reason and a Retry button after switching away and back', async () => {
    await messageFromDirectory(rec.page, nurse);
    // What the outbox leaves when it gives up (25 attempts the server never acknowledged, about
    // 20 minutes of backoff): the message stored as failed with the last attempt's code.
    const { store } = rec.harness.core.session.active();
    const conv = store.conversations.byPeer(physician.jid)!;
    const now = Date.now();
    const { id } = store.messages.insert({
      conversationId: conv.id,
      direction: 'out',
      state: 'queued',
      body: text,
      originId: newOriginId(now),
      sentAt: now,
    });
    store.messages.updateState(id, 'failed', now, 'NOT_CONNECTED');

    await messageFromDirectory(rec.page, physician);
    const row = rec.page.locator(`[data-message-id="${id}"]`);
    await expect.poll(() => row.getAttribute('data-state')).toBe('failed');
    const reason = 'Not sent: the clinic server did not confirm it after several tries.';
    expect(await row.getByTestId('failure-reason').textContent()).toBe(reason);
    expect(await row.getByRole('button', { name: 'Retry' }).count()).toBe(1);

    await messageFromDirectory(rec.page, nurse);
    await messageFromDirectory(rec.page, physician);
    await expect.poll(() => row.getAttribute('data-state')).toBe('failed');
    expect(await row.getByTestId('failure-reason').textContent()).toBe(reason);
    const retry = row.getByRole('button', { name: 'Retry' });
    // The button says what it retries (its description is the reason).
    expect(await retry.getAttribute('aria-describedby')).toBe(`failure-${id}`);
    expect(await axeViolations(rec.page)).toEqual([]);
    await screenshot(rec.page, 'ui-drafts-failed-message');
  });

  it('Retry sends it once the server is back, exactly once', async () => {
    await clinic.prosody.restart();
    const row = rec.page.locator('[data-message-id]', { hasText: text });
    await row.getByRole('button', { name: 'Retry' }).click();
    await expect.poll(() => row.getAttribute('data-state'), { timeout: 60_000 }).toMatch(/^(sent|delivered|read)$/);
    expect(await row.getByTestId('failure-reason').count()).toBe(0);
    expect(await row.getByRole('button', { name: 'Retry' }).count()).toBe(0);
    // The physician's workstation stored it once (live or from the archive after the restart).
    const received = () => {
      const { store } = doc.harness.core.session.active();
      const conv = store.conversations.byPeer(reception.jid);
      return conv ? store.messages.page(conv.id, { before: null, limit: 50 }).items.filter((m) => m.body === text) : [];
    };
    await expect.poll(() => received().length, { timeout: 60_000 }).toBe(1);
    expect(received()[0]).toMatchObject({ direction: 'in', body: text });
  });
});

describe('warning before the idle lock', () => {
  const half = `Half-written: the patient in room 5 (${tag})`;
  const dialog = () => rec.page.getByRole('dialog', { name: 'About to lock' });

  it('warns 30 s ahead, and "Stay signed in" keeps the session unlocked', async () => {
    await messageFromDirectory(rec.page, physician);
    await typeDraft(half);
    const warnings = recordEvents(rec, 'session:idleWarning');
    // The person's last input, as main counts it (the page reports input at most every 15 s).
    rec.harness.core.session.reportActivity();
    clock.advance(IDLE_MINUTES * MIN - 30_000);
    await dialog().waitFor();
    expect(warnings).toEqual([{ lockInSeconds: 30 }]);
    // It counts down in real time from here (the lock itself is main's, 30 s of its clock away).
    expect(await dialog().getByRole('heading').textContent()).toMatch(/^Locking in \d+ s$/);
    expect(await axeViolations(rec.page)).toEqual([]);
    await screenshot(rec.page, 'ui-drafts-idle-warning');

    await dialog().getByRole('button', { name: 'Stay signed in' }).click();
    await dialog().waitFor({ state: 'detached' });
    // Main heard the activity: the warning is over there too.
    await expect.poll(() => warnings.length).toBe(2);
    expect(warnings[1]).toEqual({ lockInSeconds: null });
    clock.advance(MIN); // well past the lock the warning announced
    await settle();
    expect(rec.harness.core.session.isUnlocked()).toBe(true);
    expect(await dialog().count()).toBe(0);
    expect(await composerText()).toBe(half);
  });

  it('without "Stay", the lock comes and the half-written draft is there after unlock', async () => {
    // From the "Stay" above, another full timeout: first the warning again, then the lock.
    clock.advance(IDLE_MINUTES * MIN - 30_000 - MIN);
    await dialog().waitFor();
    clock.advance(31_000);
    await rec.page.getByRole('heading', { name: 'Clinic Messenger is locked' }).waitFor();
    expect(rec.harness.core.session.isUnlocked()).toBe(false);
    await expectNoPhi(rec.page, [half]);
    await unlockAs(rec.page, reception);
    await rec.page.getByRole('heading', { name: physician.name, level: 2 }).waitFor();
    await expect.poll(composerText).toBe(half);
    expect(rec.problems).toEqual([]);
  });
});
