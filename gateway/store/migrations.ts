/**
 * The gateway database's migrations (STYLE.md "Database"): one function per version, applied in
 * order inside one transaction each; PRAGMA user_version records the last one applied. A database
 * newer than this code is refused rather than guessed at.
 */
import type Database from 'better-sqlite3-multiple-ciphers';
import { migrate0001Init } from './migrations/0001-init';
import { migrate0002Codes } from './migrations/0002-codes';
import { migrate0003Replies } from './migrations/0003-replies';
import { migrate0004StepUp } from './migrations/0004-step-up';
import { migrate0005ReplyCheck } from './migrations/0005-reply-check';

export const MIGRATIONS: readonly { version: number; name: string; up: (db: Database.Database) => void }[] = [
  { version: 1, name: 'init', up: migrate0001Init },
  { version: 2, name: 'codes', up: migrate0002Codes },
  { version: 3, name: 'replies', up: migrate0003Replies },
  { version: 4, name: 'step-up', up: migrate0004StepUp },
  { version: 5, name: 'reply-check', up: migrate0005ReplyCheck },
];

export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION)
    throw new Error(`the gateway database is version ${current}, newer than this gateway (${SCHEMA_VERSION})`);
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}
