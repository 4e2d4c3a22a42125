/**
 * Updates through the channel IT controls (issue 14 item 5). main/update/ fetches the policy's
 * feed (https only, the clinic CA trusted) and decides; electron-updater is started only for an
 * update the decision approved, and downloads it only where its code signature is verified
 * before it is installed: macOS (Squirrel.Mac checks it against the running app) and Windows
 * builds whose app-update.yml pins a publisherName (electron-updater verifies the Authenticode
 * signer). Elsewhere — MSI and deb installs, Linux, unsigned Windows builds — the app only says
 * that an update exists; IT deploys it.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errorName, type Logger } from '../log';
import type { InstallKind, UpdateDecision } from '../update/decision';
import { checkFeed, type CheckInput, type FeedPolicy } from '../update/fetch-feed';

export interface UpdaterLike {
  autoDownload: boolean;
  autoInstallOnAppQuit: boolean;
  allowDowngrade: boolean;
  allowPrerelease: boolean;
  setFeedURL(options: { provider: 'generic'; url: string }): void;
  on(event: 'update-available' | 'error', listener: (arg: unknown) => void): unknown;
  checkForUpdates(): Promise<unknown>;
  downloadUpdate(): Promise<unknown>;
}

export function signatureVerifiedDownloads(platform: string, appUpdateYml: string | null): boolean {
  if (platform === 'darwin') return true;
  if (platform === 'win32') return appUpdateYml !== null && /^\s*publisherName\s*:/m.test(appUpdateYml);
  return false;
}

/** electron-builder.yml's productName: NSIS names its uninstaller after it. */
const PRODUCT_NAME = 'Clinic Messenger';

/**
 * How this copy was installed. Windows: the NSIS installer leaves its uninstaller beside the
 * executable, the MSI does not. Linux: AppImage sets $APPIMAGE; otherwise the deb.
 */
export function detectInstallKind(opts: {
  platform: string;
  isPackaged: boolean;
  execPath: string;
  env: NodeJS.ProcessEnv;
  exists?: (path: string) => boolean;
}): InstallKind {
  if (!opts.isPackaged) return 'unpackaged';
  const exists = opts.exists ?? existsSync;
  if (opts.platform === 'win32') {
    return exists(join(dirname(opts.execPath), `Uninstall ${PRODUCT_NAME}.exe`)) ? 'nsis' : 'msi';
  }
  if (opts.platform === 'darwin') return 'dmg';
  if (opts.platform === 'linux') return opts.env.APPIMAGE ? 'appimage' : 'deb';
  return 'unpackaged';
}

/** electron-builder's channel file for each OS. */
export function channelFileFor(platform: string): string {
  if (platform === 'darwin') return 'latest-mac.yml';
  if (platform === 'linux') return 'latest-linux.yml';
  return 'latest.yml';
}

export interface UpdaterOptions {
  policy: FeedPolicy;
  runningVersion: string;
  installKind: InstallKind;
  platform: string;
  appUpdateYml: string | null;
  logger: Logger;
  loadUpdater: () => Promise<UpdaterLike>;
  /** The decision, for the Settings line ("your IT team will install it"). */
  onDecision?: (decision: UpdateDecision) => void;
  /** Tests inject the feed check; the app uses main/update/fetch-feed.ts. */
  check?: (input: CheckInput) => Promise<UpdateDecision>;
}

/** Returns true when electron-updater was started for an approved update. */
export async function startUpdater(opts: UpdaterOptions): Promise<boolean> {
  const signatureVerified = signatureVerifiedDownloads(opts.platform, opts.appUpdateYml);
  const decision = await (opts.check ?? checkFeed)({
    policy: opts.policy,
    runningVersion: opts.runningVersion,
    installKind: opts.installKind,
    signatureVerified,
    channelFile: channelFileFor(opts.platform),
  });
  opts.onDecision?.(decision);
  if (decision.kind === 'refused') {
    const quiet = decision.reason === 'disabled' || decision.reason === 'no-feed';
    if (!quiet) opts.logger.warn('update refused', { reason: decision.reason, detail: decision.detail });
    return false;
  }
  opts.logger.info('update check', { result: decision.kind, installKind: opts.installKind });
  if (decision.kind !== 'may-install') return false;
  const updater = await opts.loadUpdater();
  updater.setFeedURL({ provider: 'generic', url: opts.policy.updateFeedUrl! });
  // Download only the version the decision approved: the feed may change between the two reads.
  updater.autoDownload = false;
  updater.autoInstallOnAppQuit = true;
  updater.allowDowngrade = false;
  updater.allowPrerelease = false;
  updater.on('update-available', (info) => {
    const version = (info as { version?: unknown } | null)?.version;
    if (version !== decision.version) {
      opts.logger.warn('update feed changed since the check; not downloading', { approved: decision.version });
      return;
    }
    updater.downloadUpdate().catch(() => undefined); // the 'error' listener logs it
  });
  updater.on('error', (err) => {
    opts.logger.warn('update failed', { error: errorName(err) });
  });
  // The 'error' listener above has already logged a failed check; it must not fail start-up.
  await updater.checkForUpdates().catch(() => undefined);
  return true;
}
