/**
 * Version 2 (issue 17 item 3): the identity check a message uses, chosen by its sender — the
 * date of birth (`dob`, the verifier in dob_verifier) or a one-time SMS code (`code`; then
 * dob_verifier is ''). Wrong answers of either kind count in dob_failures / locked_until. Codes
 * are kept only as an HMAC (one_time_codes.code_hash); created_at paces resends.
 */
import type Database from 'better-sqlite3-multiple-ciphers';

export const IDENTITY_CHECKS = ['dob', 'code'] as const;

export function migrate0002Codes(db: Database.Database): void {
  db.exec(`
    ALTER TABLE messages ADD COLUMN check_kind TEXT NOT NULL DEFAULT 'dob' CHECK (check_kind IN ('dob', 'code'));
    ALTER TABLE one_time_codes ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
  `);
}
