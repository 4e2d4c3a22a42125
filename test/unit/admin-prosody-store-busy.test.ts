/**
 * When clinic-admin tries prosodyctl again (admin/server/prosody.ts storeWasBusy): the two ways
 * prosodyctl says the running server held the SQLite store, as Prosody 0.12 prints them, and the
 * answers that are not that (an account that really does not exist, a plain success).
 */
import { describe, expect, it } from 'vitest';
import { cleanCtlOutput, storeWasBusy } from '../../admin/server/prosody';

// As prosodyctl printed it in a run against a server archiving messages (the banner cut short).
const LOCKED = [
  '**************************',
  'Old DNS resolver library will be used',
  '**************************',
  '',
  'sql                 error\tError in SQL transaction: /usr/lib/prosody/util/sql.lua:150: Error preparing statement handle: database is locked',
  'clinic.test:storage_sql  error\tUnable to read from database accounts store for u15: /usr/lib/prosody/util/sql.lua:150: Error preparing statement handle: database is locked',
  'That user does not exist on this server',
].join('\n');

// A read whose COMMIT failed: LuaDBI gives no reason, so util/sql.lua says "commit failed" (twice:
// engine:transaction logs it, then the store), and no "database is locked" appears.
const COMMIT_FAILED = [
  'sql                 error\tError in SQL transaction: commit failed',
  'clinic.test:storage_sql  error\tUnable to read from database accounts store for u3: commit failed',
  'That user does not exist on this server',
].join('\n');

describe('prosodyctl found the server store busy', () => {
  it('is recognised in both forms, also after the banner is cleaned away', () => {
    expect(storeWasBusy(LOCKED)).toBe(true);
    expect(storeWasBusy(cleanCtlOutput(LOCKED))).toBe(true);
    expect(storeWasBusy(COMMIT_FAILED)).toBe(true);
    expect(storeWasBusy(cleanCtlOutput(COMMIT_FAILED))).toBe(true);
  });

  it('is not what an account that really does not exist, or a success, looks like', () => {
    expect(storeWasBusy('That user does not exist on this server')).toBe(false);
    expect(storeWasBusy('No password - cancelled')).toBe(false);
    expect(storeWasBusy('')).toBe(false);
  });
});
