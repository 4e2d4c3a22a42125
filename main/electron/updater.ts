/**
 * electron-updater, only when the managed policy names a feed (policy.updateFeedUrl, https only).
 * Downloads happen automatically only where the update's code signature is verified before it
 * is installed: macOS (Squirrel.Mac checks it against the running app) and Windows builds whose
 * app-update.yml pins a publisherName (electron-updater verifies the Authenticode signer).
 * Elsewhere (Linux, unsigned Windows builds) it only reports that an update exists; IT deploys it.
 */
import { errorName, type Logger } from '../log';

export interface UpdaterLike {
  autoDownload: boolean;
  autoInstallOnAppQuit: boolean;
  allowDowngrade: boolean;
  allowPrerelease: boolean;
  setFeedURL(options: { provider: 'generic'; url: string }): void;
  on(event: 'update-available' | 'error', listener: (arg: unknown) => void): unknown;
  checkForUpdates(): Promise<unknown>;
}

export function signatureVerifiedDownloads(platform: string, appUpdateYml: string | null): boolean {
  if (platform === 'darwin') return true;
  if (platform === 'win32') return appUpdateYml !== null && /^\s*publisherName\s*:/m.test(appUpdateYml);
  return false;
}

export interface UpdaterOptions {
  feedUrl: string | null;
  platform: string;
  appUpdateYml: string | null;
  logger: Logger;
  loadUpdater: () => Promise<UpdaterLike>;
}

/** Returns true when an update check was started. */
export async function startUpdater(opts: UpdaterOptions): Promise<boolean> {
  if (!opts.feedUrl) return false;
  if (!opts.feedUrl.startsWith('https://')) {
    opts.logger.warn('update feed ignored: not https');
    return false;
  }
  const updater = await opts.loadUpdater();
  updater.setFeedURL({ provider: 'generic', url: opts.feedUrl });
  updater.autoDownload = signatureVerifiedDownloads(opts.platform, opts.appUpdateYml);
  updater.autoInstallOnAppQuit = updater.autoDownload;
  updater.allowDowngrade = false;
  updater.allowPrerelease = false;
  updater.on('update-available', () => {
    opts.logger.info('update available', { autoDownload: updater.autoDownload });
  });
  updater.on('error', (err) => {
    opts.logger.warn('update check failed', { error: errorName(err) });
  });
  // The 'error' listener above has already logged a failed check; it must not fail start-up.
  await updater.checkForUpdates().catch(() => undefined);
  return true;
}
