/**
 * "Open in another app" and drag-out (issue 16 §5; policy exportAllowed): the other app can only
 * read a file in the clear, so handing one over is an export. The copy is written into the
 * profile's own folder, <profile>/opened/<random>/<name> (folders 0700, the file 0600; the random
 * folder keeps two files of one name apart), never into the system's temp folder, and is removed
 * when the session locks or closes (lock, sign-out, wipe) and, after a crash, at the next unlock.
 * A wipe or profile removal deletes the whole profile folder with it.
 *
 * An app that still has the copy open when it is removed keeps reading it on Linux and macOS; on
 * Windows the removal may fail while it is open, and is tried again at the next lock or unlock.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, rmSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface OpenedCopies {
  /**
   * Writes the file's plaintext as a fresh copy and resolves with its path. `name` is a checked
   * display name (no path, no control characters: crypto/file-sharing.ts). A copy that fails on
   * its way (the stored file's checks) is removed before the error is passed on.
   */
  write(name: string, source: Readable): Promise<string>;
  /** Removes every copy; throws when one cannot be removed (Windows: still open in another app). */
  clear(): void;
}

export function createOpenedCopies(profileDir: string): OpenedCopies {
  const dir = join(profileDir, 'opened');
  return {
    async write(name, source) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const folder = join(dir, randomBytes(12).toString('hex'));
      await mkdir(folder, { mode: 0o700 });
      const path = join(folder, name);
      try {
        await pipeline(source, createWriteStream(path, { mode: 0o600, flags: 'wx' }));
      } catch (err) {
        await rm(folder, { recursive: true, force: true });
        throw err;
      }
      return path;
    },
    clear: () => rmSync(dir, { recursive: true, force: true, maxRetries: 2 }),
  };
}
