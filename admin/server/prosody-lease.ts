/**
 * The offline lease on Prosody (issue 15 item 3, docs/protocol.md › Offline lease): mod_private
 * keeps each account's private XML (XEP-0049) in the SQL store as a row of table "prosody"
 * (host, user, store 'private', key '<element>:<namespace>'). prosodyctl has no command for it and
 * the admin shell is not loaded (deploy/prosody/), so clinic-admin reads and deletes that row in the
 * server's SQLite file; mod_storage_sql reads the row at every request, so a running server sees
 * the change at once. Other storage (the internal file store, PostgreSQL) is refused by name.
 */
import Database from 'better-sqlite3-multiple-ciphers';
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { CliError } from '../errors';
import { readSmallText } from '../files';

/** The row key mod_private gives <lease xmlns='urn:clinic-messenger:lease:0'/> (tag.name..":"..xmlns). */
export const LEASE_ROW_KEY = 'lease:urn:clinic-messenger:lease:0';

/** The SQLite file of a Prosody configuration that uses storage = "sql" with SQLite3 (the deployed one). */
export function prosodySqliteFile(config: string): string {
  const text = readSmallText(config, 'a Prosody configuration', 1024 * 1024);
  const storage = /^\s*storage\s*=\s*["']([^"']+)["']/m.exec(text)?.[1];
  const sql = /^\s*sql\s*=\s*\{([^}]*)\}/m.exec(text)?.[1] ?? '';
  const driver = /driver\s*=\s*["']([^"']+)["']/.exec(sql)?.[1];
  const database = /database\s*=\s*["']([^"']+)["']/.exec(sql)?.[1];
  if (storage !== 'sql' || driver !== 'SQLite3' || !database)
    throw new CliError(
      `${config} does not keep accounts in SQLite (storage = "sql", sql = { driver = "SQLite3"; … }), as deploy/prosody/prosody.cfg.lua does; clinic-admin reads and writes only that storage. Nothing was changed.`,
    );
  // Prosody resolves the database against data_path, and a relative data_path against the config's folder.
  const dataPath = /^\s*data_path\s*=\s*["']([^"']+)["']/m.exec(text)?.[1] ?? '/var/lib/prosody';
  const base = isAbsolute(dataPath) ? dataPath : resolve(dirname(config), dataPath);
  return isAbsolute(database) ? database : resolve(base, database);
}

function openDb(file: string): Database.Database {
  if (!existsSync(file))
    throw new CliError(`Prosody's database ${file} does not exist: has this server started once? Nothing was changed.`);
  try {
    const db = new Database(file, { fileMustExist: true });
    // The running server writes to the same file: wait for its lock instead of failing.
    db.pragma('busy_timeout = 10000');
    return db;
  } catch (err) {
    throw new CliError(
      `Cannot open Prosody's database ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'}): run clinic-admin on the Prosody server as root (sudo).`,
    );
  }
}

const where = `"host"=? AND "user"=? AND "store"='private' AND "key"=?`;

/** Runs `fn` on Prosody's SQLite file, open read-write; its failures as a CliError that says nothing was changed. */
export function withDb<T>(file: string, fn: (db: Database.Database) => T): T {
  const db = openDb(file);
  try {
    return fn(db);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(
      `Prosody's database ${file} could not be read (${(err as Error).message}). Nothing was changed.`,
    );
  } finally {
    db.close();
  }
}

/** Whether the account has a lease on the server (never its value). */
export function hasLease(file: string, jid: string): boolean {
  const [user, host] = jid.split('@') as [string, string];
  return withDb(
    file,
    (db) => db.prepare(`SELECT 1 FROM "prosody" WHERE ${where}`).get(host, user, LEASE_ROW_KEY) !== undefined,
  );
}

/** Deletes the account's lease; true when there was one. */
export function deleteLease(file: string, jid: string): boolean {
  const [user, host] = jid.split('@') as [string, string];
  return withDb(
    file,
    (db) => db.prepare(`DELETE FROM "prosody" WHERE ${where}`).run(host, user, LEASE_ROW_KEY).changes > 0,
  );
}
