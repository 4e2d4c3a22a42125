/**
 * When to re-read the managed policy (issue 14 item 3). Two triggers, both only re-run the loader:
 *
 * - A file watch on the folder of each policy file (inotify, FSEvents, ReadDirectoryChangesW), so
 *   a changed Linux or macOS file applies within a moment. The folder is watched, not the file:
 *   editors and `install`/`mv` replace the file, which a watch on the old file would not see. A
 *   burst of events (truncate, write, rename) is read once, SETTLE_MS after the last one, so a
 *   half-written file is not reported as invalid in between.
 * - A poll on the injected clock for what no file watch sees: the Windows registry (Group Policy
 *   and Intune write it; Group Policy itself refreshes every 90 minutes) and a folder that did not
 *   exist yet (its watch is attached at the next poll). Each poll runs reg.exe/icacls on Windows,
 *   synchronously, so it is kept rare there.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { every, type Clock } from '../clock';
import { errorName, type Logger } from '../log';

/** A burst of file events is read once, after this much quiet. */
export const SETTLE_MS = 300;

/** How often the sources are re-read without a file event. */
export function pollIntervalMs(platform: NodeJS.Platform): number {
  return platform === 'win32' ? 5 * 60_000 : 60_000;
}

export interface PolicyWatchOptions {
  /** Policy files whose folders are watched. */
  files: readonly string[];
  /** Re-reads the policy (LivePolicy.reload). */
  reload: () => void;
  clock: Clock;
  logger: Logger;
  pollMs: number;
}

export interface PolicyWatch {
  stop(): void;
}

export function watchPolicy(opts: PolicyWatchOptions): PolicyWatch {
  const { clock, logger } = opts;
  const watchers = new Map<string, FSWatcher>();
  let settle: unknown = null;
  let stopped = false;

  const reload = () => {
    if (stopped) return;
    try {
      opts.reload();
    } catch (err) {
      // load.ts reports every problem as an error on screen; a throw here is a defect, logged.
      logger.error('policy reload failed', { error: errorName(err) });
    }
  };
  const soon = () => {
    if (settle !== null) clock.clearTimeout(settle);
    settle = clock.setTimeout(() => {
      settle = null;
      reload();
    }, SETTLE_MS);
  };

  /** Watches each file's folder that exists and is not watched yet. */
  const attach = () => {
    for (const file of opts.files) {
      const folder = dirname(file);
      if (watchers.has(folder)) continue;
      try {
        const w = watch(folder, { persistent: false }, (_event, name) => {
          // No name (some platforms): any change in the folder may be ours.
          if (name === null || name === basename(file)) soon();
        });
        // The folder was removed or became unreadable: drop the watch; the poll re-attaches it.
        w.on('error', () => {
          w.close();
          watchers.delete(folder);
          soon();
        });
        watchers.set(folder, w);
      } catch {
        // No such folder yet (nothing deployed): the poll tries again.
      }
    }
  };

  attach();
  const stopPoll = every(clock, opts.pollMs, () => {
    attach();
    reload();
  });
  return {
    stop() {
      stopped = true;
      stopPoll();
      if (settle !== null) clock.clearTimeout(settle);
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}
