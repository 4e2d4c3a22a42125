/**
 * The migration registry (Signal-Desktop's ts/sql/migrations/ is the model): one function per
 * schema version, versions strictly increasing from 1 with no gaps, each applied in its own
 * transaction together with `PRAGMA user_version`.
 */
import { AppError } from '../../../common/result';
import type { Db } from '../open-db';
import { migrate0001Init } from './0001-init';
import { migrate0002DeferredFtsIndex } from './0002-deferred-fts-index';
import { migrate0003FtsMergeTuning } from './0003-fts-merge-tuning';
import { migrate0004DedupKeys } from './0004-dedup-keys';
import { migrate0005OrderedIdKeys } from './0005-ordered-id-keys';
import { migrate0006ReplayGuardAndClaimedTime } from './0006-replay-guard-and-claimed-time';
import { migrate0007Drafts } from './0007-drafts';
import { migrate0008MessageRefs } from './0008-message-refs';
import { migrate0009MessageUrgent } from './0009-message-urgent';
import { migrate0010MessageChanges } from './0010-message-changes';
import { migrate0011Attachments } from './0011-attachments';
import { migrate0012PatientTexts } from './0012-patient-texts';
import { migrate0013PatientSegments } from './0013-patient-segments';
import { migrate0014Rooms } from './0014-rooms';
import { migrate0015RoomSettings } from './0015-room-settings';
import { migrate0016RoomMentionsAndReads } from './0016-room-mentions-and-reads';
import { migrate0017SegmentRecipients } from './0017-segment-recipients';
import { migrate0018UnreadCounts } from './0018-unread-counts';

export interface Migration {
  version: number;
  name: string;
  up: (db: Db) => void;
}

export const migrations: readonly Migration[] = [
  { version: 1, name: 'init', up: migrate0001Init },
  { version: 2, name: 'deferred-fts-index', up: migrate0002DeferredFtsIndex },
  { version: 3, name: 'fts-merge-tuning', up: migrate0003FtsMergeTuning },
  { version: 4, name: 'dedup-keys', up: migrate0004DedupKeys },
  { version: 5, name: 'ordered-id-keys', up: migrate0005OrderedIdKeys },
  { version: 6, name: 'replay-guard-and-claimed-time', up: migrate0006ReplayGuardAndClaimedTime },
  { version: 7, name: 'drafts', up: migrate0007Drafts },
  { version: 8, name: 'message-refs', up: migrate0008MessageRefs },
  { version: 9, name: 'message-urgent', up: migrate0009MessageUrgent },
  { version: 10, name: 'message-changes', up: migrate0010MessageChanges },
  { version: 11, name: 'attachments', up: migrate0011Attachments },
  { version: 12, name: 'patient-texts', up: migrate0012PatientTexts },
  { version: 13, name: 'patient-segments', up: migrate0013PatientSegments },
  { version: 14, name: 'rooms', up: migrate0014Rooms },
  { version: 15, name: 'room-settings', up: migrate0015RoomSettings },
  { version: 16, name: 'room-mentions-and-reads', up: migrate0016RoomMentionsAndReads },
  { version: 17, name: 'segment-recipients', up: migrate0017SegmentRecipients },
  { version: 18, name: 'unread-counts', up: migrate0018UnreadCounts },
];

/** Throws when the list is not 1, 2, 3, … (a programming error caught by the unit test too). */
export function checkRegistry(list: readonly Migration[]): void {
  list.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration registry out of order at index ${i}: version ${m.version}`);
  });
}

export function latestVersion(list: readonly Migration[] = migrations): number {
  return list.length === 0 ? 0 : list[list.length - 1]!.version;
}

/** Brings the database to `target` (default: latest). Refuses a database newer than this build. */
export function runMigrations(db: Db, list: readonly Migration[] = migrations, target = latestVersion(list)): number {
  checkRegistry(list);
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > latestVersion(list)) {
    throw new AppError(
      'STORE_TOO_NEW',
      'The message cache was written by a newer version of Clinic Messenger. Update the app to open it.',
      {
        schemaVersion: current,
        supportedVersion: latestVersion(list),
      },
    );
  }
  for (const m of list) {
    if (m.version <= current || m.version > target) continue;
    db.transaction(() => {
      m.up(db);
      // PRAGMA takes no bound parameters; the value is our own integer.
      db.pragma(`user_version = ${m.version | 0}`);
    })();
  }
  return db.pragma('user_version', { simple: true }) as number;
}
