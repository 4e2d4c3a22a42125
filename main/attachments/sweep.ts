/**
 * Keeps the profile's file store in step with the database: a blob no attachment row names any
 * more is deleted. Rows go with their message (ON DELETE CASCADE), so after retention purged
 * messages their files go here; a blob left by a send that crashed before its row was written
 * goes too. Every row's blob id is chosen before the blob is written (migration 0011), so a
 * transfer under way is never swept.
 */
import type { Store } from '../store';
import type { FileStore } from './file-store';

/** Deletes the unreferenced blobs; returns how many. */
export async function sweepFiles(store: Pick<Store, 'attachments'>, files: FileStore): Promise<number> {
  const onDisk = await files.list();
  const keep = store.attachments.localFileIds();
  let removed = 0;
  for (const id of onDisk) {
    if (keep.has(id)) continue;
    await files.remove(id);
    removed++;
  }
  return removed;
}
