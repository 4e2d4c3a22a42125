/**
 * clinic-admin provision's store step (admin/server/prosody-journal.ts) on real SQLite files: a
 * store in the default rollback journal is switched to WAL, its rows kept; a second call finds it
 * so; a missing file is a clear error that changes nothing. The running-server case is in
 * test/integration/admin-provision.test.ts.
 */
import Database from 'better-sqlite3-multiple-ciphers';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CliError } from '../../admin/errors';
import { useWriteAheadLog } from '../../admin/server/prosody-journal';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'prosody-journal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const mode = (file: string) => {
  const db = new Database(file, { fileMustExist: true });
  try {
    return {
      journal: db.pragma('journal_mode', { simple: true }),
      rows: db.prepare('SELECT count(*) AS n FROM prosody').get(),
    };
  } finally {
    db.close();
  }
};

describe('useWriteAheadLog', () => {
  it('switches a rollback-journal store to WAL once, keeping its rows', () => {
    const file = join(dir, 'prosody.sqlite');
    const db = new Database(file);
    db.exec('CREATE TABLE prosody (host TEXT, user TEXT, store TEXT, key TEXT, value TEXT)');
    db.prepare('INSERT INTO prosody VALUES (?, ?, ?, ?, ?)').run('clinic.test', 'alice', 'accounts', 'k', 'v');
    db.close();
    expect(mode(file)).toEqual({ journal: 'delete', rows: { n: 1 } });

    expect(useWriteAheadLog(file)).toBe('switched');
    expect(mode(file)).toEqual({ journal: 'wal', rows: { n: 1 } });
    expect(useWriteAheadLog(file)).toBe('already');
    expect(mode(file)).toEqual({ journal: 'wal', rows: { n: 1 } });
  });

  it('refuses a store that does not exist, and creates none', () => {
    const file = join(dir, 'missing.sqlite');
    expect(() => useWriteAheadLog(file)).toThrow(CliError);
    expect(() => useWriteAheadLog(file)).toThrow(/does not exist: has this server started once\? Nothing was changed/);
    expect(existsSync(file)).toBe(false);
  });
});
