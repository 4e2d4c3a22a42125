// A shared reception PC (issue 3 §1): two people each have a profile on one workstation. The
// chooser shows names only; "switch user" locks one profile and drops its PHI before the other
// unlocks, and neither sees the other's conversations.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium';
import { startProsody } from '../support/prosody';
import {
  closeWorkstation,
  expectNoPhi,
  messageFromDirectory,
  openWorkstation,
  person,
  prosodyUsers,
  send,
  signUp,
  TEST_ARGON2,
  unlockAs,
  type Workstation,
} from './ui-support';

const morning = person('desk.morning', 'clinic.test', 'Alex Morning', 'reception');
const evening = person('desk.evening', 'clinic.test', 'Jamie Evening', 'reception');
const physician = person('dr.shared', 'clinic.test', 'Dr. Noor Haddad', 'physician');
const secret = `Bed 12 discharge papers (${Date.now().toString(36)})`;

let dir: string;
let prosody: Awaited<ReturnType<typeof startProsody>>;
let browser: Browser;
let pc: Workstation;
let laptop: Workstation;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'e2e-ui-shared-'));
  prosody = await startProsody({ users: prosodyUsers([morning, evening, physician]) });
  browser = await launchChromium();
  pc = await openWorkstation(browser, { userDataDir: join(dir, 'front-desk'), policy: { argon2: TEST_ARGON2, trustedCaPem: prosody.caPem } });
  // The physician signs in on a laptop so a key is published to message.
  laptop = await openWorkstation(browser, { userDataDir: join(dir, 'laptop'), policy: { argon2: TEST_ARGON2, trustedCaPem: prosody.caPem } });
  await signUp(laptop.page, physician, { host: prosody.host, port: prosody.c2sPort });
  await signUp(pc.page, morning, { host: prosody.host, port: prosody.c2sPort });
});

afterAll(async () => {
  await closeWorkstation(pc);
  await closeWorkstation(laptop);
  await browser?.close();
  await prosody?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('shared reception PC', () => {
  it('a second person signs in from the lock screen; the chooser lists names only', async () => {
    const page = pc.page;
    await messageFromDirectory(page, physician);
    await send(page, secret);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Switch user' }).click();
    await page.getByRole('heading', { name: 'Clinic Messenger is locked' }).waitFor();
    await expectNoPhi(page, [secret, physician.name, physician.jid]);
    await page.getByRole('button', { name: 'Sign in as someone else' }).click();
    await signUp(page, evening, { host: prosody.host, port: prosody.c2sPort });
    // Evening's inbox holds nothing of Morning's.
    await expectNoPhi(page, [secret]);

    await page.keyboard.press('Control+l');
    await page.getByRole('heading', { name: 'Clinic Messenger is locked' }).waitFor();
    const names = await page.getByRole('radiogroup', { name: 'Who is using this PC?' }).getByRole('radio').allInnerTexts();
    expect(names.map((n) => n.replace(/^\s*\S\s+/, '').trim()).sort()).toEqual([morning.name, evening.name].sort());
    await expectNoPhi(page, [secret, physician.name, physician.jid, morning.jid, evening.jid]);
  });

  it('switching back unlocks the first profile with its own conversation', async () => {
    await unlockAs(pc.page, morning);
    await pc.page.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: new RegExp(physician.name) }).click();
    await pc.page.locator('[data-message-id]', { hasText: secret }).waitFor({ timeout: 15_000 });
    expect(pc.problems).toEqual([]);
  });
});
