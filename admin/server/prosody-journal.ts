/**
 * Prosody's SQLite store in write-ahead-log mode (`clinic-admin provision`, deploy/prosody/README.md
 * › Performance notes). Prosody 0.12 opens its store in SQLite's default rollback-journal mode
 * with synchronous FULL and has no option to change it: each commit writes and syncs a journal,
 * then writes and syncs the database, then deletes the journal, and every message Prosody archives
 * costs several commits, on the way to the recipient. In WAL mode a commit appends to the log and
 * syncs it once, as durably (synchronous stays FULL), and reads (prosodyctl, clinic-admin, while
 * the server runs) no longer wait for a write. SQLite keeps the mode in the file, so it is set once
 * and a running server follows it from its next transaction. Run as root, SQLite gives the -wal and
 * -shm files the database's owner, so the server (user prosody) can open them.
 */
import { CliError } from '../errors';
import { withDb } from './prosody-lease';

/** Puts Prosody's SQLite file in WAL mode; 'already' when it was. Throws CliError when SQLite refuses. */
export function useWriteAheadLog(file: string): 'switched' | 'already' {
  return withDb(file, (db) => {
    if (String(db.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal') return 'already';
    const mode = String(db.pragma('journal_mode = WAL', { simple: true })).toLowerCase();
    if (mode !== 'wal')
      throw new CliError(
        `Prosody's database ${file} stayed in journal mode "${mode}" (SQLite refused WAL: is it on a network file system?). The server works as before, only slower.`,
      );
    return 'switched';
  });
}
