/**
 * The update decision table (issue 14 item 5): policy × running version × install kind × the
 * feed's latest.yml → up to date / may install / IT installs / refused with a reason. Pure code.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { policySchema } from '../../main/policy/schema';
import { decideUpdate, type DecideInput, type InstallKind, type UpdatePolicy } from '../../main/update/decision';
import { FeedFormatError, parseLatestYml, type FeedManifest } from '../../main/update/latest-yml';
import { createUpdateStatus, statusOf } from '../../main/update/status';
import { compareVersions } from '../../main/update/version';

const SHA = createHash('sha512').update('installer bytes').digest('base64');
const policy: UpdatePolicy = {
  updatesDisabled: false,
  updateFeedUrl: 'https://updates.clinic.example/win/x64',
  updateMinVersion: null,
  updateMaxVersion: null,
};
const feed = (version: string, sha512 = SHA): FeedManifest => ({
  version,
  files: [{ url: `Clinic-Messenger-Setup-${version}.exe`, sha512, size: 15 }],
  path: `Clinic-Messenger-Setup-${version}.exe`,
  sha512,
  releaseDate: '2026-11-30T10:00:00.000Z',
});
const decide = (over: Partial<Omit<DecideInput, 'policy'>> & { policy?: Partial<UpdatePolicy> } = {}) =>
  decideUpdate({
    runningVersion: '2.4.0',
    installKind: 'nsis',
    signatureVerified: true,
    feed: feed('2.5.0'),
    ...over,
    policy: { ...policy, ...over.policy },
  });

describe('decideUpdate', () => {
  it('is up to date when the feed offers the running version or an older one', () => {
    expect(decide({ feed: feed('2.4.0') })).toEqual({ kind: 'up-to-date', latest: '2.4.0' });
    expect(decide({ feed: feed('2.3.9') })).toEqual({ kind: 'up-to-date', latest: '2.3.9' });
    expect(decide({ feed: feed('2.4.0-rc.1') }).kind).toBe('up-to-date');
  });

  it('lets NSIS, dmg and AppImage installs update themselves when the signature is verified', () => {
    for (const installKind of ['nsis', 'dmg', 'appimage'] as InstallKind[]) {
      expect(decide({ installKind })).toMatchObject({ kind: 'may-install', version: '2.5.0' });
    }
  });

  it('leaves MSI, deb and development runs to IT, and any install whose signature is not verified', () => {
    for (const installKind of ['msi', 'deb', 'unpackaged'] as InstallKind[]) {
      expect(decide({ installKind })).toEqual({ kind: 'it-installs', version: '2.5.0' });
    }
    expect(decide({ installKind: 'nsis', signatureVerified: false })).toEqual({
      kind: 'it-installs',
      version: '2.5.0',
    });
  });

  it('refuses when policy turns updates off, names no feed, or names an http feed', () => {
    expect(decide({ policy: { updatesDisabled: true } })).toMatchObject({ kind: 'refused', reason: 'disabled' });
    expect(decide({ policy: { updateFeedUrl: null } })).toMatchObject({ kind: 'refused', reason: 'no-feed' });
    expect(decide({ policy: { updateFeedUrl: 'http://updates.clinic.example/' } })).toMatchObject({
      kind: 'refused',
      reason: 'feed-not-https',
    });
  });

  it('refuses a version outside the pinned range, and accepts its bounds', () => {
    const pinned = { updateMinVersion: '2.5.0', updateMaxVersion: '2.6.0' };
    expect(decide({ policy: pinned, feed: feed('2.7.0') })).toMatchObject({
      kind: 'refused',
      reason: 'out-of-range',
      detail: '2.7.0 is above the pinned maximum 2.6.0',
    });
    expect(decide({ policy: pinned, feed: feed('2.6.0-beta.1'), runningVersion: '2.4.0' }).kind).toBe('may-install');
    expect(decide({ policy: { updateMinVersion: '2.6.0' }, feed: feed('2.5.0') })).toMatchObject({
      reason: 'out-of-range',
    });
    expect(decide({ policy: pinned, feed: feed('2.5.0') }).kind).toBe('may-install');
    expect(decide({ policy: pinned, feed: feed('2.6.0') }).kind).toBe('may-install');
    expect(decide({ policy: { updateMinVersion: '3.0.0', updateMaxVersion: '2.0.0' } })).toMatchObject({
      reason: 'bad-range',
    });
  });

  it('refuses a missing or malformed sha512 and a feed without a valid version', () => {
    expect(decide({ feed: feed('2.5.0', '') })).toMatchObject({ kind: 'refused', reason: 'bad-sha512' });
    expect(decide({ feed: feed('2.5.0', 'abc==') })).toMatchObject({ reason: 'bad-sha512' });
    const sha256 = createHash('sha256').update('x').digest('base64');
    expect(decide({ feed: feed('2.5.0', sha256) })).toMatchObject({ reason: 'bad-sha512' });
    expect(decide({ feed: feed('latest') })).toMatchObject({ kind: 'refused', reason: 'bad-feed' });
    expect(decide({ runningVersion: 'dev' })).toMatchObject({ kind: 'refused', reason: 'bad-running-version' });
  });
});

describe('the policy fields', () => {
  it('refuses an http feed and a version that is not semver, with a clear message', () => {
    const http = policySchema.safeParse({ updateFeedUrl: 'http://updates.clinic.example/' });
    expect(http.success).toBe(false);
    expect(http.error?.issues[0]?.message).toMatch(/must be an https:\/\/ address/);
    for (const bad of ['v2.4.0', '2.4', '02.4.0', '2.4.0 ']) {
      const r = policySchema.safeParse({ updateMaxVersion: bad });
      expect(r.success, bad).toBe(false);
      expect(r.error?.issues[0]?.message).toMatch(/version such as 2\.4\.0/);
    }
    expect(policySchema.parse({ updateMinVersion: '2.4.0', updateMaxVersion: '2.9.0-rc.1' })).toMatchObject({
      updatesDisabled: false,
      updateMinVersion: '2.4.0',
      updateMaxVersion: '2.9.0-rc.1',
    });
  });
});

describe('compareVersions', () => {
  it('orders versions as semver.org does', () => {
    const ordered = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta.2', '1.0.0-beta.11'];
    ordered.push('1.0.0-rc.1', '1.0.0', '1.0.1', '1.2.0', '1.10.0', '2.0.0');
    for (let i = 1; i < ordered.length; i++) {
      expect(compareVersions(ordered[i - 1]!, ordered[i]!), `${ordered[i - 1]} < ${ordered[i]}`).toBe(-1);
      expect(compareVersions(ordered[i]!, ordered[i - 1]!)).toBe(1);
    }
    expect(compareVersions('1.0.0+build.5', '1.0.0')).toBe(0);
    expect(() => compareVersions('1.0', '1.0.0')).toThrow(/not a semantic version/);
  });
});

describe('parseLatestYml', () => {
  it('reads what electron-builder writes', () => {
    const text = [
      'version: 2.5.0',
      'files:',
      '  - url: Clinic-Messenger-Setup-2.5.0.exe',
      `    sha512: ${SHA}`,
      '    size: 15',
      '    isAdminRightsRequired: true',
      'path: Clinic-Messenger-Setup-2.5.0.exe',
      `sha512: ${SHA}`,
      "releaseDate: '2026-11-30T10:00:00.000Z'",
      '',
    ].join('\n');
    expect(parseLatestYml(text)).toEqual(feed('2.5.0'));
  });

  it('refuses what it does not understand instead of guessing', () => {
    expect(() => parseLatestYml('path: a.exe\n')).toThrow(FeedFormatError);
    expect(() => parseLatestYml('<html>not a feed</html>')).toThrow(FeedFormatError);
    expect(() => parseLatestYml('version: 1.0.0\n  stray: indented\n')).toThrow(/unexpected indentation/);
  });
});

describe('statusOf (what Settings shows)', () => {
  it('says when IT installs the update, and hides refusal details', () => {
    expect(statusOf({ kind: 'it-installs', version: '2.5.0' })).toEqual({ state: 'it-installs', version: '2.5.0' });
    expect(statusOf({ kind: 'up-to-date', latest: '2.4.0' })).toEqual({ state: 'up-to-date', version: '2.4.0' });
    expect(statusOf({ kind: 'refused', reason: 'disabled', detail: 'x' })).toEqual({ state: 'off', version: null });
    expect(statusOf({ kind: 'refused', reason: 'bad-sha512', detail: 'x' })).toEqual({
      state: 'refused',
      version: null,
    });
    const holder = createUpdateStatus();
    expect(holder.get()).toEqual({ state: 'unknown', version: null });
    holder.set({ kind: 'it-installs', version: '2.5.0' });
    expect(holder.get().state).toBe('it-installs');
  });
});
