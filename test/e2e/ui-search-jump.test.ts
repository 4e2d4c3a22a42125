// Choosing a search result opens its conversation scrolled to the found message (messages:around):
// the message is inside the history's viewport, briefly highlighted and focused (WCAG 2.4.3), and
// scrolling down from there pages newer history back to the latest. Real Prosody, keychain,
// SQLCipher store (seeded like a long-used workstation) and Chromium.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BIG_PEER,
  person,
  screenshot,
  seedBigStore,
  startClinic,
  unlockAs,
  type Clinic,
  type Workstation,
} from '../support/ui-support';

const me = person('jump.desk', 'clinic.test', 'Jo Jumper', 'reception');
const HISTORY = 2_000;
const token = `JMP${Date.now().toString(36)}`;
let clinic: Clinic;
let ws: Workstation;
let targetId: string;

beforeAll(async () => {
  clinic = await startClinic('ui-search-jump', [me]);
  ws = await clinic.open('desk');
  await clinic.signUp(ws.page, me);
  const store = ws.harness.core.session.active().store;
  seedBigStore(store, { conversations: 3, history: HISTORY });
  // The target sits between seeded messages ~600 and ~601: 1,400 newer ones, so far outside the
  // newest page (200) the history opens with.
  const conv = store.conversations.getOrCreate(BIG_PEER);
  const around = store.messages.page(conv.id, { before: null, limit: 1400 }).items.at(-1)!;
  targetId = store.messages.insert({
    conversationId: conv.id,
    direction: 'in',
    state: 'read',
    body: `Lab result for the search jump ${token}`,
    sentAt: around.sentAt - 1,
  }).id;
  // Lock and unlock so the inbox lists the seeded conversations.
  await ws.page.keyboard.press('Control+l');
  await ws.page.getByRole('heading', { name: 'Clinic Messenger is locked' }).waitFor();
  await unlockAs(ws.page, me);
}, 300_000);

afterAll(async () => {
  await clinic?.close();
});

describe('search result jump', () => {
  it('opens the conversation at the found message: in view, highlighted and focused', async () => {
    const page = ws.page;
    await page.keyboard.press('Control+f');
    await page.getByRole('combobox', { name: 'Search messages' }).fill(token);
    const results = page.getByTestId('search-results');
    await results.getByRole('option').first().waitFor({ timeout: 15_000 });
    expect(await results.getByRole('option').count()).toBe(1);
    await results.getByRole('option').first().click();
    await page.getByRole('heading', { name: 'Big History', level: 2 }).waitFor();

    const row = page.locator(`[data-testid="jump-target"]:has([data-message-id="${targetId}"])`);
    await row.waitFor({ timeout: 15_000 });
    await expect.poll(() => row.evaluate((el) => el === document.activeElement), { timeout: 5_000 }).toBe(true);
    expect(await row.evaluate((el) => el.classList.contains('flash'))).toBe(true);
    const list = page.getByTestId('message-list');
    const box = (await row.boundingBox())!;
    const view = (await list.boundingBox())!;
    expect(box.y).toBeGreaterThanOrEqual(view.y);
    expect(box.y + box.height).toBeLessThanOrEqual(view.y + view.height);
    // The newest message is not rendered: the history really opened in the past.
    expect(await page.locator('[data-message-id]', { hasText: `Seeded message ${HISTORY - 1}` }).count()).toBe(0);
    // Audited like any opened page of history (ARCHITECTURE.md §7): ids and counts, no text.
    const audit = await page.evaluate(async () => {
      const r = await window.clinic.audit.list({ before: null, limit: 50 });
      return r.ok ? r.value.items.filter((e) => e.type === 'message-opened') : [];
    });
    const opened = audit.find((e) => e.detail.aroundId === targetId);
    expect(opened?.detail).toMatchObject({ count: 200 });
    expect(JSON.stringify(audit)).not.toContain(token);
    await screenshot(page, 'ui-search-jump');
    // The highlight is brief.
    await expect.poll(() => row.evaluate((el) => el.classList.contains('flash')), { timeout: 5_000 }).toBe(false);
  });

  it('scrolling down from the found message pages newer history up to the latest', async () => {
    const page = ws.page;
    const list = page.getByTestId('message-list');
    const newest = page.locator('[data-message-id]', { hasText: new RegExp(`\\bSeeded message ${HISTORY - 1}\\b`) });
    // Each scroll to the end asks for the next page; how many rounds that takes depends on the
    // machine (a busy one renders fewer rows per frame), so poll until the newest row is there.
    await expect
      .poll(
        async () => {
          await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
          return newest.count();
        },
        { timeout: 90_000, interval: 150 },
      )
      .toBeGreaterThan(0);
    expect(await page.getByText('Loading newer messages…').count()).toBe(0);
  });

  it('a second jump in the already-open conversation lands and focuses again; scrolling up pages older history', async () => {
    const page = ws.page;
    await page.keyboard.press('Control+f');
    const box = page.getByRole('combobox', { name: 'Search messages' });
    await box.fill(token);
    await page.getByTestId('search-results').getByRole('option').first().click();
    const row = page.locator(`[data-testid="jump-target"]:has([data-message-id="${targetId}"])`);
    await row.waitFor({ timeout: 15_000 });
    await expect.poll(() => row.evaluate((el) => el === document.activeElement), { timeout: 5_000 }).toBe(true);
    const list = page.getByTestId('message-list');
    const before = await list.evaluate((el) => el.scrollHeight);
    await list.evaluate((el) => (el.scrollTop = 0));
    await page.waitForFunction(
      (h) => (document.querySelector('[data-testid="message-list"]')?.scrollHeight ?? 0) > h,
      before,
      { timeout: 10_000 },
    );
    expect(ws.problems).toEqual([]);
  });

  it('typing in the composer while the jump loads keeps focus there: the found message is shown, not focused', async () => {
    const page = ws.page;
    // Main answers the jump's messages:around only once the person has typed: held, not timed.
    const router = ws.harness.core.router;
    const dispatch = router.dispatch.bind(router);
    let release = (): void => {};
    const typed = new Promise<void>((r) => (release = r));
    router.dispatch = async (channel, payload) => {
      if (channel === 'messages:around') await typed;
      return dispatch(channel, payload);
    };
    const around = (list: string[]) => list.filter((c) => c === 'messages:around').length;
    const [asked, answered] = [around(ws.ipc.calls), around(ws.ipc.answered)];
    const composer = page.getByRole('textbox', { name: 'Message' });
    // The last jump's highlight gone first: this jump's highlight then says it is done (below).
    await expect.poll(() => page.locator('[data-testid="message-list"] .flash').count(), { timeout: 10_000 }).toBe(0);
    try {
      await page.keyboard.press('Control+f');
      await page.getByRole('combobox', { name: 'Search messages' }).fill(token);
      await page.getByTestId('search-results').getByRole('option').first().click();
      await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
      await expect.poll(() => around(ws.ipc.calls), { timeout: 15_000 }).toBe(asked + 1);
      await composer.click();
      await page.keyboard.type('Still typing');
      // The jump is still waiting for its history: the typing really came first.
      expect(around(ws.ipc.answered)).toBe(answered);
    } finally {
      router.dispatch = dispatch;
      release();
    }
    // The row is highlighted and focused (or not) in one step: once it is highlighted, the jump is done.
    const row = page.locator(`[data-testid="jump-target"].flash:has([data-message-id="${targetId}"])`);
    await row.waitFor({ timeout: 15_000 });
    expect(await row.evaluate((el) => el === document.activeElement)).toBe(false);
    expect(await composer.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await composer.inputValue()).toBe('Still typing');
    await composer.fill('');
    expect(ws.problems).toEqual([]);
  });
});
