// Issue 12 §6 "Conversations like the messengers staff already use": a physician answers the
// receptionist's message with Reply (XEP-0461 inside the signed OX payload): the quote shows above
// the composer, then in the sent message and in the received one on the other workstation. Copy
// text puts a message's text on the clipboard. Consecutive messages of one sender show their time
// and status once. A conversation opens with a "New messages" divider and a jump to it; "Mark as
// unread" brings a message back as unread without telling the sender. axe finds nothing, light or dark.
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
  twoDesks,
  type Clinic,
  type Workstation,
} from '../support/ui-support';

const DOMAIN = 'clinic.test';
const reception = person('reception', DOMAIN, 'Robin Reyes', 'reception');
const physician = person('dr.okafor', DOMAIN, 'Dr. Adaeze Okafor', 'physician');
const token = `CA${Date.now().toString(36)}`;
const question = `Can you see Mr. Lee at 3? (${token}Q)`;
const answer = `Yes, send him to room 2 (${token}A)`;

let clinic: Clinic;
let rec: Workstation;
let doc: Workstation;

/** The question's own row: replies quoting it contain its text too, and come after it. */
const questionRow = (page: Page) => messageRow(page, question).first();

beforeAll(async () => {
  ({ clinic, from: rec, to: doc } = await twoDesks('ui-conv-actions', reception, physician, question));
});

afterAll(async () => {
  await clinic?.close();
});

screenshotOnFailure(() => ({ reception: rec, physician: doc }));

describe('reply', () => {
  it('quotes the answered message above the composer, in the sent message and on the other side', async () => {
    const row = questionRow(doc.page);
    await row.hover();
    await row.getByRole('button', { name: 'Reply' }).click();
    const replying = doc.page.getByTestId('replying-to');
    await expect.poll(() => replying.textContent()).toContain(`Replying to ${reception.name}`);
    expect(await replying.textContent()).toContain(question);
    // The composer has the focus: the physician just types the answer.
    await doc.page.keyboard.type(answer);
    await doc.page.keyboard.press('Enter');
    await expect.poll(() => replying.count()).toBe(0);

    const sent = messageRow(doc.page, answer);
    await expect.poll(() => sent.getByTestId('reply-quote').textContent()).toContain(question);
    expect(await sent.getByTestId('reply-quote').textContent()).toContain(reception.name);
    // On the receptionist's screen: her own message quoted, the answer without the fallback "> " lines.
    const got = messageRow(rec.page, answer);
    await got.waitFor({ timeout: 45_000 });
    expect(await got.getByTestId('reply-quote').textContent()).toContain(question);
    expect(await got.getByTestId('reply-quote').textContent()).toContain('You');
    expect(await got.textContent()).not.toContain('> Can you');
    expect(await axeViolations(doc.page)).toEqual([]);
    expect(await axeViolations(rec.page)).toEqual([]);
  });

  it('Cancel reply takes the quote away and sends a plain message', async () => {
    const row = messageRow(rec.page, answer);
    await row.hover();
    await row.getByRole('button', { name: 'Reply' }).click();
    await rec.page.getByRole('button', { name: 'Cancel reply' }).click();
    await expect.poll(() => rec.page.getByTestId('replying-to').count()).toBe(0);
    const plain = `Thank you (${token}P)`;
    await send(rec.page, plain);
    await messageRow(doc.page, plain).waitFor({ timeout: 45_000 });
    expect(await messageRow(doc.page, plain).getByTestId('reply-quote').count()).toBe(0);
  });
});

describe('copy text', () => {
  it("puts the message's text on the clipboard", async () => {
    await doc.page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await doc.page.evaluate(() => navigator.clipboard.writeText('nothing yet'));
    const row = questionRow(doc.page);
    await row.hover();
    await row.getByRole('button', { name: 'Copy text' }).click();
    await expect.poll(() => row.getByRole('button', { name: 'Copied' }).count()).toBe(1);
    expect(await doc.page.evaluate(() => navigator.clipboard.readText())).toBe(question);
  });
});

describe('grouping', () => {
  it('shows time and status once for consecutive messages of one sender', async () => {
    const burst = [1, 2, 3].map((i) => `Checklist ${i} (${token}G${i})`);
    for (const text of burst) await send(rec.page, text);
    for (const page of [rec.page, doc.page]) {
      await messageRow(page, burst[2]!).waitFor({ timeout: 45_000 });
      // Each message still shows its text; only the last of the three carries the time line (once
      // the earlier ones left 'queued': a message on its way keeps its own status line).
      const metas = () => Promise.all(burst.map((t) => messageRow(page, t).getByTestId('message-meta').count()));
      await expect.poll(metas, { timeout: 45_000 }).toEqual([0, 0, 1]);
    }
    // The sender's status for the group is on its last message.
    await expect
      .poll(() => messageRow(rec.page, burst[2]!).getByTestId('message-state').textContent(), { timeout: 45_000 })
      .toMatch(/Delivered|Read/);
    expect(await axeViolations(rec.page)).toEqual([]);
  });
});

describe('unread', () => {
  const later = [1, 2].map((i) => `Lab results ${i} are in (${token}U${i})`);
  const conversations = (page: Page) => page.getByRole('list', { name: 'Conversations' });

  it('opens with a "New messages" divider above the first unread, and a jump to it', async () => {
    // The physician is elsewhere in the app while the receptionist writes, and stays there until
    // both arrived (the nav rail's Inbox badge counts them). Going back to the inbox would show the
    // conversation, still open there, and so read them before the test looks for the divider.
    const nav = doc.page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('button', { name: 'Directory' }).click();
    for (const text of later) await send(rec.page, text);
    const badge = nav.getByRole('button', { name: /Inbox/ }).locator('.badge');
    const unread = async () => ((await badge.count()) ? Number.parseInt(await badge.innerText(), 10) : 0);
    await expect.poll(unread, { timeout: 45_000 }).toBe(2);
    await messageFromDirectory(doc.page, reception);
    const divider = doc.page.getByTestId('unread-divider');
    await divider.waitFor();
    expect(await divider.textContent()).toContain('New messages');
    // The divider sits right above the first of the two: the next row in the list is that message.
    const next = doc.page.locator('[data-key="unread"] + [data-key]');
    expect(await next.textContent()).toContain(later[0]);
    await doc.page.getByRole('button', { name: 'Jump to first unread' }).click();
    await expect.poll(() => doc.page.getByTestId('jump-target').textContent()).toContain(later[0]);
    // Seen on screen: read as usual; the divider stays for this visit.
    await expect.poll(() => conversations(doc.page).textContent(), { timeout: 45_000 }).not.toMatch(/unread/);
    expect(await divider.count()).toBe(1);
    expect(await axeViolations(doc.page)).toEqual([]);
    await screenshot(doc.page, 'ui-conversation-actions-unread');
  });

  it('Mark as unread brings it back as unread, locally, and it stays so while it is on screen', async () => {
    const from = doc.ipc.calls.length;
    const row = messageRow(doc.page, later[1]!);
    await row.hover();
    await row.getByRole('button', { name: 'Mark as unread' }).click();
    await expect.poll(() => conversations(doc.page).textContent()).toMatch(/1\sunread/);
    // The divider moves to it.
    expect(await doc.page.locator('[data-key="unread"] + [data-key]').textContent()).toContain(later[1]);
    await doc.page.waitForTimeout(1_500); // longer than the renderer's dwell before "seen" (view.svelte.ts)
    expect(await conversations(doc.page).textContent()).toMatch(/1\sunread/);
    expect(doc.ipc.calls.slice(from)).toContain('conversations:markUnread');
    expect(doc.ipc.calls.slice(from)).not.toContain('conversations:markRead');
    // No marker goes back: the receptionist still sees it as read.
    await expect.poll(() => messageRow(rec.page, later[1]!).getAttribute('data-state')).toBe('read');
    // Opened again later, it is read once it is on screen.
    await doc.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Directory' }).click();
    await messageFromDirectory(doc.page, reception);
    await expect.poll(() => conversations(doc.page).textContent(), { timeout: 45_000 }).not.toMatch(/unread/);
  });
});

describe('looks', () => {
  it('has no axe violations in light and dark, and gives the docs their pictures', async () => {
    // The conversation as the last test left it: a reply, a group, and the divider above the
    // message marked unread; the physician is answering the question again.
    await doc.page.getByTestId('unread-divider').waitFor();
    const row = questionRow(doc.page);
    await row.hover();
    await row.getByRole('button', { name: 'Reply' }).click();
    // The notifications of the test's own messages would hide the inbox in the picture.
    await dismissToasts(doc.page);
    // The newest row in view above the bars the reply and the jump add.
    const list = doc.page.getByTestId('message-list');
    await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await list.dispatchEvent('scroll');
    mkdirSync(resolve('docs/screenshots'), { recursive: true });
    for (const scheme of ['light', 'dark'] as const) {
      await doc.page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
      expect(await axeViolations(doc.page), scheme).toEqual([]);
      const shot = await screenshot(doc.page, `ui-conversation-actions-${scheme}`);
      copyFileSync(shot, resolve(`docs/screenshots/conversation-${scheme}.png`));
    }
    await doc.page.getByRole('button', { name: 'Cancel reply' }).click();
    await doc.page.emulateMedia({ colorScheme: 'light' });
  });
});
