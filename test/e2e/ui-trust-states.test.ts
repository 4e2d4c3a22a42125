// Trust shown as it is (issue 10 §9): the conversation header, the inbox and the directory show
// Verified, Not verified (pinned on first use), Key changed and Could not verify as distinct words
// with icons; a message that could not be verified is neither counted as unread nor previewed as
// "Secure message". Real Prosody, keychain, SQLCipher store (contacts' trust seeded in it, as a
// long-used workstation holds it) and Chromium; axe still finds nothing.
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrustState } from '../../common/contract/domain';
import {
  axeViolations,
  person,
  screenshot,
  startClinic,
  unlockAs,
  type Clinic,
  type Workstation,
} from '../support/ui-support';

const me = person('trust.desk', 'clinic.test', 'Toni Trust', 'reception');
const FPR = (c: string) => c.repeat(40);

/** One colleague per trust state, with the label each must show; Nia's last message could not be verified. */
const colleagues: { jid: string; name: string; trust: TrustState; label: string; forged?: true }[] = [
  { jid: 'ver.ified@clinic.test', name: 'Vera Compared', trust: 'verified', label: 'Verified' },
  { jid: 'pin.ned@clinic.test', name: 'Pia Firstuse', trust: 'pinned', label: 'Not verified' },
  { jid: 'cha.nged@clinic.test', name: 'Cal Newkey', trust: 'changed', label: 'Key changed' },
  { jid: 'no.key@clinic.test', name: 'Nia Nokey', trust: 'unavailable', label: 'Could not verify', forged: true },
];

let clinic: Clinic;
let ws: Workstation;

beforeAll(async () => {
  clinic = await startClinic('ui-trust', [me]);
  ws = await clinic.open('desk');
  await clinic.signUp(ws.page, me);
  const store = ws.harness.core.session.active().store;
  const now = Date.now();
  colleagues.forEach((c, i) => {
    store.contacts.upsert({ jid: c.jid, displayName: c.name, role: 'nurse' });
    const pinned = c.trust === 'unavailable' ? {} : { fingerprint: FPR(String(i + 1)), firstSeen: now - 86_400_000 };
    store.contacts.setKey(c.jid, {
      trust: c.trust,
      ...pinned,
      ...(c.trust === 'changed' ? { pendingFingerprint: FPR('E') } : {}),
      ...(c.trust === 'verified' ? { verifiedAt: now - 3_600_000 } : {}),
    });
    const conv = store.conversations.getOrCreate(c.jid, now - 7_200_000 + i);
    store.messages.insert({
      conversationId: conv.id,
      direction: 'in',
      state: 'delivered',
      body: `Shift note ${i}`,
      sentAt: now - 600_000 + i,
    });
    if (c.forged) {
      // Verification failed: stored without text (main/xmpp/receive.ts), and it is the newest.
      store.messages.insert({
        conversationId: conv.id,
        direction: 'in',
        state: 'unverified',
        body: null,
        sentAt: now - 60_000,
      });
    }
  });
  // Lock and unlock so the inbox lists the seeded conversations.
  await ws.page.keyboard.press('Control+l');
  await ws.page.getByRole('heading', { name: 'Clinic Messenger is locked' }).waitFor();
  await unlockAs(ws.page, me);
}, 300_000);

afterAll(async () => {
  await clinic?.close();
});

const row = (page: Page, name: string) =>
  page.getByRole('list', { name: 'Conversations' }).getByRole('button').filter({ hasText: name });
const label = (scope: Locator) => scope.locator('[data-trust] .label').innerText();

describe('trust shown as it is', () => {
  it('shows each state in the inbox, and a could-not-verify message neither as unread nor as "Secure message"', async () => {
    const page = ws.page;
    await row(page, colleagues[0]!.name).waitFor({ timeout: 30_000 });
    for (const c of colleagues) expect(await label(row(page, c.name))).toBe(c.label);
    const forged = row(page, 'Nia Nokey');
    expect(await forged.innerText()).toContain('Message could not be verified');
    expect(await forged.innerText()).not.toContain('Secure message');
    // Two inbound messages unread, one of them could not be verified: the badge counts one.
    expect(await forged.locator('.badge').innerText()).toMatch(/^1\s*unread$/);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'ui-trust-inbox-light');
  });

  it('shows each state in the conversation header', async () => {
    const page = ws.page;
    for (const c of colleagues) {
      await row(page, c.name).click();
      await page.getByRole('heading', { name: c.name, level: 2 }).waitFor();
      await expect.poll(() => label(page.getByTestId('conversation-trust'))).toBe(c.label);
    }
    // The last one opened has no valid key: the header says so; axe in both themes.
    expect(await axeViolations(page)).toEqual([]);
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'ui-trust-conversation-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('shows each state in the directory', async () => {
    const page = ws.page;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Directory' }).click();
    await page.getByRole('button', { name: `Message ${colleagues[0]!.name}` }).waitFor({ timeout: 30_000 });
    for (const c of colleagues) {
      const tr = page.getByRole('row').filter({ hasText: c.name });
      expect(await label(tr)).toBe(c.label);
    }
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'ui-trust-directory-light');
    expect(ws.problems).toEqual([]);
  });
});
