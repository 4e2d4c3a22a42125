/**
 * The update channel IT controls (issue 14 item 5) against a real local https feed with a test
 * CA: main/update/fetch-feed.ts fetches latest.yml over https only, trusting the clinic CA from
 * policy, and main/update/decision.ts decides. Newer, older, pinned out of range, a bad sha512 of
 * the downloaded file, http instead of https (and a redirect to http), and updates turned off.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { UpdateDecision } from '../../main/update/decision';
import { checkFeed, downloadVerified, type CheckInput, type FeedPolicy } from '../../main/update/fetch-feed';
import { makeTestCa, startHttpServer, startHttpsFeed, type TestCa, type TestServer } from '../support/https-feed';

const INSTALLER = Buffer.from('pretend NSIS installer for 2.5.0\n');
const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('base64');

function latestYml(version: string, fileSha512: string): string {
  const file = `Clinic-Messenger-Setup-${version}.exe`;
  return [
    `version: ${version}`,
    'files:',
    `  - url: ${file}`,
    `    sha512: ${fileSha512}`,
    `    size: ${INSTALLER.length}`,
    `path: ${file}`,
    `sha512: ${fileSha512}`,
    "releaseDate: '2026-11-30T10:00:00.000Z'",
    '',
  ].join('\n');
}

let ca: TestCa;
let feed: TestServer;
let plain: TestServer;
let dest: string;

beforeAll(async () => {
  ca = await makeTestCa();
  feed = await startHttpsFeed(ca);
  plain = await startHttpServer();
});
afterAll(async () => {
  await feed?.close();
  await plain?.close();
});
beforeEach(() => {
  feed.routes.clear();
  feed.requests.length = 0;
  plain.routes.clear();
  plain.requests.length = 0;
  dest = mkdtempSync(join(tmpdir(), 'update-dest-'));
  return () => rmSync(dest, { recursive: true, force: true });
});

function serveFeed(version: string, fileSha512 = sha512(INSTALLER), body = INSTALLER): void {
  feed.routes.set('/win/latest.yml', { body: latestYml(version, fileSha512) });
  feed.routes.set(`/win/Clinic-Messenger-Setup-${version}.exe`, { body });
}

const policy = (over: Partial<FeedPolicy> = {}): FeedPolicy => ({
  updatesDisabled: false,
  updateFeedUrl: `${feed.url}/win`,
  updateMinVersion: null,
  updateMaxVersion: null,
  trustedCaPem: ca.caPem,
  ...over,
});
const check = (over: Partial<FeedPolicy> = {}, input: Partial<CheckInput> = {}) =>
  checkFeed({
    policy: policy(over),
    runningVersion: '2.4.0',
    installKind: 'nsis',
    signatureVerified: true,
    channelFile: 'latest.yml',
    ...input,
  });

function approved(d: UpdateDecision): Extract<UpdateDecision, { kind: 'may-install' }> {
  if (d.kind !== 'may-install') throw new Error(`expected may-install, got ${JSON.stringify(d)}`);
  return d;
}

describe('update feed over https with the clinic CA', () => {
  it('a newer version: NSIS may install it, verified by sha512; an MSI or deb install leaves it to IT', async () => {
    serveFeed('2.5.0');
    const decision = approved(await check());
    expect(decision.version).toBe('2.5.0');
    const ready = await downloadVerified(policy(), decision, dest);
    expect(ready).toEqual({ kind: 'ready', version: '2.5.0', path: join(dest, 'Clinic-Messenger-Setup-2.5.0.exe') });
    expect(readFileSync(join(dest, 'Clinic-Messenger-Setup-2.5.0.exe'))).toEqual(INSTALLER);

    expect(await check({}, { installKind: 'msi' })).toEqual({ kind: 'it-installs', version: '2.5.0' });
    expect(await check({}, { installKind: 'deb', channelFile: 'latest.yml' })).toEqual({
      kind: 'it-installs',
      version: '2.5.0',
    });
    expect(feed.requests).toContain('/win/latest.yml');
  });

  it('an older or equal version is up to date', async () => {
    serveFeed('2.3.1');
    expect(await check()).toEqual({ kind: 'up-to-date', latest: '2.3.1' });
    serveFeed('2.4.0');
    expect(await check()).toEqual({ kind: 'up-to-date', latest: '2.4.0' });
  });

  it('a version outside the pinned range is refused and nothing is downloaded', async () => {
    serveFeed('2.5.0');
    expect(await check({ updateMaxVersion: '2.4.9' })).toMatchObject({
      kind: 'refused',
      reason: 'out-of-range',
      detail: '2.5.0 is above the pinned maximum 2.4.9',
    });
    expect(await check({ updateMinVersion: '2.6.0' })).toMatchObject({ kind: 'refused', reason: 'out-of-range' });
    expect(await check({ updateMinVersion: '2.5.0', updateMaxVersion: '2.5.0' })).toMatchObject({
      kind: 'may-install',
    });
    expect(feed.requests.filter((p) => p.endsWith('.exe'))).toEqual([]);
  });

  it('a downloaded file whose sha512 differs from latest.yml is refused and deleted, never reported ready', async () => {
    serveFeed('2.5.0', sha512(INSTALLER), Buffer.from('tampered installer\n'));
    const decision = approved(await check());
    const result = await downloadVerified(policy(), decision, dest);
    expect(result).toMatchObject({ kind: 'refused', reason: 'bad-sha512' });
    expect(feed.requests).toContain('/win/Clinic-Messenger-Setup-2.5.0.exe');
    expect(readdirSync(dest)).toEqual([]);
  });

  it('a malformed sha512 in latest.yml is refused before any download', async () => {
    serveFeed('2.5.0', 'not-a-hash');
    expect(await check()).toMatchObject({ kind: 'refused', reason: 'bad-sha512' });
  });

  it('http instead of https is refused, and so is an https feed that redirects to http', async () => {
    plain.routes.set('/win/latest.yml', { body: latestYml('2.5.0', sha512(INSTALLER)) });
    expect(await check({ updateFeedUrl: `${plain.url}/win` })).toMatchObject({
      kind: 'refused',
      reason: 'feed-not-https',
    });
    feed.routes.set('/win/latest.yml', { status: 302, headers: { location: `${plain.url}/win/latest.yml` } });
    expect(await check()).toMatchObject({ kind: 'refused', reason: 'feed-not-https' });
    expect(feed.requests).toEqual(['/win/latest.yml']);
    expect(plain.requests).toEqual([]);
  });

  it('an https redirect is followed', async () => {
    serveFeed('2.5.0');
    feed.routes.set('/moved/latest.yml', { status: 301, headers: { location: '/win/latest.yml' } });
    expect(await check({ updateFeedUrl: `${feed.url}/moved/` })).toMatchObject({ kind: 'may-install' });
  });

  it('a feed whose certificate does not chain to the clinic CA or a public root is unreachable', async () => {
    serveFeed('2.5.0');
    expect(await check({ trustedCaPem: null })).toMatchObject({ kind: 'refused', reason: 'feed-unreachable' });
  });

  it('updates turned off by policy never contact the feed', async () => {
    serveFeed('2.5.0');
    expect(await check({ updatesDisabled: true })).toMatchObject({ kind: 'refused', reason: 'disabled' });
    expect(feed.requests).toEqual([]);
  });

  it('a feed that is not a latest.yml is refused as a bad feed', async () => {
    feed.routes.set('/win/latest.yml', { body: '<html>captive portal</html>' });
    expect(await check()).toMatchObject({ kind: 'refused', reason: 'bad-feed' });
  });
});
