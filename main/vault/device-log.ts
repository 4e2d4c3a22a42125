/**
 * The device-level log: <userDataDir>/device-log.jsonl. Lives outside every profile folder so a
 * wipe (too many failed unlocks) is still on record after the profile and its audit log are gone
 * (HIPAA §164.312(b) audit controls). Append-only, one JSON object a line, no PHI: profile ids,
 * counts and reasons only.
 *
 * Each line carries an HMAC chained to the line before (issue 10 item 7), so an edited, inserted
 * or removed line is detected by verifyDeviceLog. The key is derived from a device-wide secret in
 * the keychain (record `device:log-key`), not from a profile's secret: the log must stay
 * checkable after the profile it speaks of was wiped and its keychain entry deleted. Cutting
 * lines off the END is not detected (nothing mirrors the newest line); the audit log inside each
 * profile and its keychain-mirrored head cover that for profile events.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Keychain } from './keychain';
import { deviceMacKey } from './keys';

const DEVICE_LOG_FILE = 'device-log.jsonl';
const KEY_RECORD = 'device:log-key';

export interface DeviceLogEntry {
  at: number;
  event:
    | 'profile-created'
    | 'profile-removed'
    | 'profile-wiped'
    | 'device-mismatch'
    | 'unlock-state-rejected'
    | 'audit-rollback'
    /** The cached offline lease had expired and the server gave no new one (issue 15 item 3). */
    | 'lease-unlock-refused';
  profileId: string;
  detail?: Record<string, string | number | boolean | null>;
}

interface StoredLine extends DeviceLogEntry {
  /** The previous line's mac ('' for the first), stored so verify can tell an edit from a gap. */
  prev: string;
  /** hex HMAC over `prev` and this entry; null when the keychain was unreachable. */
  mac: string | null;
}

export interface DeviceLogProblem {
  /** 1-based line number in the file. */
  line: number;
  kind: 'edited' | 'unauthenticated' | 'broken-chain';
}

const entryText = (e: DeviceLogEntry) => JSON.stringify([e.at, e.event, e.profileId, e.detail ?? null]);

function lineMac(key: Buffer, prev: string, e: DeviceLogEntry): string {
  return createHmac('sha256', key)
    .update(`clinic-device-log-v1|${prev}|${entryText(e)}`)
    .digest('hex');
}

async function macKey(keychain: Keychain, create: boolean): Promise<Buffer | null> {
  let secret = await keychain.getRecord(KEY_RECORD);
  if (!secret && create) {
    secret = randomBytes(32);
    await keychain.setRecord(KEY_RECORD, secret);
  }
  if (!secret) return null;
  const key = deviceMacKey(secret, 'device-log');
  secret.fill(0);
  return key;
}

function readLines(userDataDir: string): (StoredLine | null)[] {
  let text: string;
  try {
    text = readFileSync(join(userDataDir, DEVICE_LOG_FILE), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      try {
        return JSON.parse(l) as StoredLine;
      } catch {
        return null; // a torn last line after a power cut
      }
    });
}

export async function appendDeviceLog(userDataDir: string, keychain: Keychain, entry: DeviceLogEntry): Promise<void> {
  let mac: string | null = null;
  const prev =
    readLines(userDataDir)
      .filter((l): l is StoredLine => l !== null)
      .at(-1)?.mac ?? '';
  try {
    const key = await macKey(keychain, true);
    if (key) {
      mac = lineMac(key, prev, entry);
      key.fill(0);
    }
  } catch {
    // No keychain right now: the event is still worth recording; verify reports it as unauthenticated.
  }
  const line: StoredLine = { ...entry, prev, mac };
  // 'a' = O_APPEND: every write lands at the end, never overwriting earlier lines.
  appendFileSync(join(userDataDir, DEVICE_LOG_FILE), JSON.stringify(line) + '\n', { flag: 'a', mode: 0o600 });
}

/** Every readable entry, unverified (see verifyDeviceLog). */
export function readDeviceLog(userDataDir: string): DeviceLogEntry[] {
  return readLines(userDataDir)
    .filter((l): l is StoredLine => l !== null)
    .map(({ mac: _mac, prev: _prev, ...entry }) => entry);
}

/** Checks each line's MAC and its link to the line before; says which line and how. */
export async function verifyDeviceLog(
  userDataDir: string,
  keychain: Keychain,
): Promise<{ checked: number; problems: DeviceLogProblem[] }> {
  const lines = readLines(userDataDir);
  const key = await macKey(keychain, false);
  const problems: DeviceLogProblem[] = [];
  const eq = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
  let last = '';
  lines.forEach((l, i) => {
    const line = i + 1;
    if (!l) {
      problems.push({ line, kind: 'edited' }); // not even JSON any more
      return;
    }
    const { mac, prev, ...entry } = l;
    if (!key || typeof mac !== 'string' || typeof prev !== 'string') {
      problems.push({ line, kind: 'unauthenticated' });
      return;
    }
    if (!eq(lineMac(key, prev, entry), mac)) problems.push({ line, kind: 'edited' });
    // Authentic, but not linked to the line before it: a line was removed, inserted or moved.
    else if (prev !== last) problems.push({ line, kind: 'broken-chain' });
    last = mac;
  });
  key?.fill(0);
  return { checked: lines.length, problems };
}
