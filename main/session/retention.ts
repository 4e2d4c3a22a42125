/**
 * Message retention (ARCHITECTURE.md §7, HIPAA minimum necessary): when the managed policy sets
 * retentionDays, messages older than that are deleted from this workstation's cache — at unlock
 * and every RETENTION_INTERVAL_MS while unlocked — on the store worker, so a first purge of a
 * large cache does not stall the UI. Each purge that deleted something is audited (how many, the
 * cutoff), never what. Unsent drafts older than the cutoff are deleted with them, and so are the
 * files of purged messages' attachments (issue 16: their rows cascade, sweepFiles removes the
 * blobs no row names). The server archive keeps its own retention (IT configures Prosody).
 *
 * Care-team rooms (issue 18) are covered as pairs are: a room's messages are rows of the same
 * table, so they go by the same cutoff, with what hangs on them (their mentions are columns of the
 * row; "Read by" rows naming them and attachment rows cascade; the text leaves the search index).
 * A room's member changes (room_affiliations) are kept: they hold no message content, and they are
 * what says who was a member when (the receive check of a later message, an audit question).
 * Patient conversations (issue 17) are covered too: a patient's replies received before the cutoff,
 * and texts to patients written before it with no reply left on them, are deleted
 * (store.patientConversations.purgeBefore), counted as `patientTexts` in the same audit entry.
 * Catch-up, one-to-one or from a room's archive, never stores again a message the server still
 * holds from before the cutoff (main/policy/retention.ts pastRetention).
 */
import { sweepFiles } from '../attachments/sweep';
import type { FileStore } from '../attachments/file-store';
import type { AuditLog } from '../audit';
import type { Clock } from '../clock';
import { errorName, type Logger } from '../log';
import { retentionCutoff } from '../policy/retention';
import type { Store } from '../store';

export const RETENTION_INTERVAL_MS = 6 * 60 * 60 * 1000;

export interface Retention {
  /** One purge now; resolves with how many messages were deleted (0 when retention is off). */
  run(): Promise<number>;
  /**
   * No further purges; resolves once a purge under way has finished and been audited, so the
   * caller may then close the store and the audit log (a deletion is never left unaudited).
   */
  stop(): Promise<void>;
}

export function startRetention(d: {
  days: number | null;
  store: Store;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  /** The profile's attachment files (issue 16); those of purged messages are deleted. */
  files?: FileStore;
}): Retention {
  let handle: unknown = null;
  let stopped = false;
  let running: Promise<number> | null = null;

  const purge = async (): Promise<number> => {
    const cutoff = retentionCutoff(d.days, d.clock.now());
    if (cutoff === null) return 0;
    const deleted = await d.store.background.purgeBefore(cutoff);
    // Unsent drafts not touched for as long go too (issue 12 §2); a small table, so on this thread.
    const drafts = d.store.drafts.purgeBefore(cutoff);
    // Patient conversations (issue 17): texts to patients and their replies, by the same cutoff.
    const patient = d.store.patientConversations.purgeBefore(cutoff);
    if (deleted > 0 || drafts > 0 || patient > 0)
      d.audit.append('retention-purged', {
        deleted,
        ...(drafts > 0 ? { drafts } : {}),
        ...(patient > 0 ? { patientTexts: patient } : {}),
        cutoff,
        days: d.days,
      });
    // Then their files (issue 16): the blobs no attachment row names any more, once the deletion is audited.
    if (deleted > 0 && d.files) await sweepFiles(d.store, d.files);
    return deleted;
  };
  const run = (): Promise<number> => {
    running ??= purge()
      .catch((err: unknown) => {
        d.logger.warn('retention purge failed', { error: errorName(err) });
        return 0;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
  const arm = () => {
    handle = d.clock.setTimeout(() => {
      if (stopped) return;
      // A purge still under way (the one at unlock on a large cache, say) has an older cutoff: this
      // one runs after it with its own, rather than being folded into it and waiting six more
      // hours. run() logs a failed purge and resolves 0: it never rejects.
      void (running ?? Promise.resolve(0)).then(() => (stopped ? 0 : run())).then(() => !stopped && arm());
    }, RETENTION_INTERVAL_MS);
  };
  if (d.days !== null) {
    // run() logs a failed purge and resolves 0: it never rejects.
    void run();
    arm();
  }
  return {
    run,
    async stop() {
      stopped = true;
      if (handle !== null) d.clock.clearTimeout(handle);
      handle = null;
      await running;
    },
  };
}
