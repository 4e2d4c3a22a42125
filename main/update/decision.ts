/**
 * Whether an update found on the feed may be installed here (issue 14 item 5). Pure: no network,
 * no electron, so the whole table is tested in Node. The feed is fetched by fetch-feed.ts; the
 * download and install of an approved update stay electron-updater's (main/electron/updater.ts),
 * which verifies the code signature before it installs.
 */
import type { Policy } from '../policy/schema';
import { isSha512Base64, mainFile, type FeedFile, type FeedManifest } from './latest-yml';
import { compareVersions, isSemver } from './version';

/**
 * How this copy was installed. msi: IT pushes the next MSI, never a self-update. deb: the
 * package manager's job. nsis (per-machine or per-user), dmg, appimage: the app may update
 * itself. unpackaged: a development run, never updated.
 */
export type InstallKind = 'msi' | 'nsis' | 'dmg' | 'appimage' | 'deb' | 'unpackaged';

export type UpdatePolicy = Pick<Policy, 'updatesDisabled' | 'updateFeedUrl' | 'updateMinVersion' | 'updateMaxVersion'>;

export type RefusalReason =
  | 'disabled'
  | 'no-feed'
  | 'feed-not-https'
  | 'feed-unreachable'
  | 'bad-feed'
  | 'bad-running-version'
  | 'bad-range'
  | 'out-of-range'
  | 'bad-sha512';

export type UpdateDecision =
  | { kind: 'up-to-date'; latest: string }
  | { kind: 'may-install'; version: string; file: FeedFile }
  | { kind: 'it-installs'; version: string }
  | { kind: 'refused'; reason: RefusalReason; detail: string };

const SELF_UPDATING: ReadonlySet<InstallKind> = new Set<InstallKind>(['nsis', 'dmg', 'appimage']);

export function refused(reason: RefusalReason, detail: string): UpdateDecision {
  return { kind: 'refused', reason, detail };
}

/** Refusals that need no feed: updates off, no feed, a feed that is not https, an empty range. */
export function preflight(policy: UpdatePolicy): UpdateDecision | null {
  if (policy.updatesDisabled) return refused('disabled', 'updates are turned off by policy');
  if (!policy.updateFeedUrl) return refused('no-feed', 'the policy names no update feed');
  if (!policy.updateFeedUrl.startsWith('https://')) return refused('feed-not-https', 'the update feed is not https');
  const { updateMinVersion: min, updateMaxVersion: max } = policy;
  if (min && max && compareVersions(min, max) > 0) {
    return refused('bad-range', `the pinned minimum ${min} is above the pinned maximum ${max}`);
  }
  return null;
}

function outOfRange(policy: UpdatePolicy, version: string): string | null {
  const { updateMinVersion: min, updateMaxVersion: max } = policy;
  if (min && compareVersions(version, min) < 0) return `${version} is below the pinned minimum ${min}`;
  if (max && compareVersions(version, max) > 0) return `${version} is above the pinned maximum ${max}`;
  return null;
}

export interface DecideInput {
  policy: UpdatePolicy;
  runningVersion: string;
  installKind: InstallKind;
  /** The update's code signature is checked before install (main/electron/updater.ts). */
  signatureVerified: boolean;
  feed: FeedManifest;
}

export function decideUpdate(input: DecideInput): UpdateDecision {
  const early = preflight(input.policy);
  if (early) return early;
  const { feed, policy } = input;
  if (!isSemver(feed.version)) return refused('bad-feed', 'the feed names no valid version');
  // A build whose own version is not semver cannot be ordered against the feed: never update it.
  if (!isSemver(input.runningVersion)) return refused('bad-running-version', 'this build has no valid version');
  if (compareVersions(feed.version, input.runningVersion) <= 0) return { kind: 'up-to-date', latest: feed.version };
  const range = outOfRange(policy, feed.version);
  if (range) return refused('out-of-range', range);
  const file = mainFile(feed);
  if (!file) return refused('bad-feed', 'the feed names no file');
  if (!isSha512Base64(file.sha512)) return refused('bad-sha512', `${file.url} has a missing or malformed sha512`);
  // Where the app may not (or cannot safely) replace itself, IT deploys the new package.
  if (!SELF_UPDATING.has(input.installKind) || !input.signatureVerified) {
    return { kind: 'it-installs', version: feed.version };
  }
  return { kind: 'may-install', version: feed.version, file };
}
