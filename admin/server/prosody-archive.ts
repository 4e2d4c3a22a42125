/**
 * The server's own message metadata for `clinic-admin report --prosody-config` (issue 15 item 4):
 * who exchanged messages with whom, and when, from Prosody's archive (mod_mam) in its SQLite store
 * (table "prosodyarchive": user, host, when, with). Only those columns are read — never the stored
 * stanza ("value"), so no content, not even ciphertext. Read-only; the deployed configuration's
 * storage (storage = "sql", SQLite3) only, as `lease`.
 */
import Database from 'better-sqlite3-multiple-ciphers';
import { existsSync } from 'node:fs';
import { CliError } from '../errors';
import { prosodySqliteFile } from './prosody-lease';

export interface ArchivedExchange {
  /** The account whose archive holds it, and the other party (bare JIDs). */
  account: string;
  peer: string;
  /** The server's time (ms). */
  at: number;
}

/** At most this many rows: a period's metadata, not a dump of the server. */
const MAX_ROWS = 500_000;

export function archiveMetadata(
  config: string,
  period: { from: number; to: number },
  exclude: string[],
): ArchivedExchange[] {
  let file: string;
  try {
    file = prosodySqliteFile(config);
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    throw new CliError(
      `${config} does not keep the archive in SQLite (storage = "sql" with SQLite3, as deploy/prosody's configuration does): --prosody-config supports only that storage. Leave it out for a report without the server's metadata; no report was written.`,
    );
  }
  if (!existsSync(file)) throw new CliError(`Prosody's database ${file} does not exist; no report was written.`);
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 10000');
  } catch (err) {
    throw new CliError(
      `Cannot open Prosody's database ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'}): run clinic-admin report on the Prosody server as root (sudo), or leave out --prosody-config.`,
    );
  }
  try {
    const rows = db
      .prepare<[number, number, number], { user: string; host: string; when: number; with: string }>(
        `SELECT "user", "host", "when", "with" FROM "prosodyarchive"
         WHERE "store" = 'archive' AND "when" >= ? AND "when" <= ? ORDER BY "when", "sort_id" LIMIT ?`,
      )
      .all(Math.floor(period.from / 1000), Math.ceil(period.to / 1000), MAX_ROWS);
    const skip = new Set(exclude);
    return rows
      .map((r) => ({
        account: `${r.user}@${r.host}`.toLowerCase(),
        peer: r.with.split('<')[0]!.toLowerCase(),
        at: r.when * 1000,
      }))
      .filter((r) => !skip.has(r.account) && !skip.has(r.peer));
  } catch (err) {
    throw new CliError(
      `Prosody's archive in ${file} could not be read (${(err as Error).message}); no report was written.`,
    );
  } finally {
    db.close();
  }
}
