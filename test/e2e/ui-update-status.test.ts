// The update channel IT controls, on screen (issue 14 item 5): a real https feed offers a newer
// version, the decision for an MSI install is "IT installs", and Settings says so; an
// up-to-date check says that instead. The decision is made by main/update/ against the feed and
// handed to the core the way main/electron/updater.ts does (the harness has no Electron).
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFeed } from '../../main/update/fetch-feed';
import { makeTestCa, startHttpsFeed, type TestServer } from '../support/https-feed';
import { axeViolations, person, screenshot, startClinic, type Clinic, type Workstation } from '../support/ui-support';

const reception = person('desk7', 'clinic.test', 'Robin Front', 'reception');

let clinic: Clinic;
let desk: Workstation;
let feed: TestServer;
let caPem: string;

beforeAll(async () => {
  const ca = await makeTestCa();
  caPem = ca.caPem;
  feed = await startHttpsFeed(ca);
  clinic = await startClinic('ui-update', [reception]);
  desk = await clinic.open('desk');
  await clinic.signUp(desk.page, reception);
});

afterAll(async () => {
  await clinic?.close();
  await feed?.close();
});

function serve(version: string): void {
  const sha512 = createHash('sha512').update(`installer ${version}`).digest('base64');
  const file = `Clinic-Messenger-${version}.msi`;
  feed.routes.set('/win/latest.yml', {
    body: `version: ${version}\nfiles:\n  - url: ${file}\n    sha512: ${sha512}\npath: ${file}\n`,
  });
}

async function check(): Promise<void> {
  const decision = await checkFeed({
    policy: {
      updatesDisabled: false,
      updateFeedUrl: `${feed.url}/win`,
      updateMinVersion: null,
      updateMaxVersion: null,
      trustedCaPem: caPem,
    },
    runningVersion: '0.1.0',
    installKind: 'msi',
    signatureVerified: true,
    channelFile: 'latest.yml',
  });
  desk.harness.core.updates.set(decision);
}

async function openSettings(): Promise<void> {
  const nav = desk.page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('button', { name: 'Inbox' }).click();
  await nav.getByRole('button', { name: 'Settings' }).click();
}

describe('update status in Settings', () => {
  it('says the IT team will install a newer version on an MSI install', async () => {
    serve('99.1.0');
    await check();
    await openSettings();
    const line = desk.page.getByTestId('update-status');
    await expect.poll(() => line.innerText()).toBe('Update 99.1.0 available — your IT team will install it.');
    expect(await line.getAttribute('data-state')).toBe('it-installs');
    await line.scrollIntoViewIfNeeded();
    await screenshot(desk.page, 'update-it-installs');
    expect(await axeViolations(desk.page)).toEqual([]);
  });

  it('says the app is up to date when the feed has nothing newer', async () => {
    serve('0.0.9');
    await check();
    await openSettings();
    await expect.poll(() => desk.page.getByTestId('update-status').innerText()).toBe('Clinic Messenger is up to date.');
  });
});
