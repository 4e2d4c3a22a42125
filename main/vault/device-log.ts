/**
 * The device-level log: <userDataDir>/device-log.jsonl. Lives outside every profile folder so a
 * wipe (too many failed unlocks) is still on record after the profile and its audit log are gone
 * (HIPAA §164.312(b) audit controls). Append-only, one JSON object a line, no PHI: profile ids,
 * counts and reasons only.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const DEVICE_LOG_FILE = 'device-log.jsonl';

export interface DeviceLogEntry {
  at: number;
  event: 'profile-created' | 'profile-removed' | 'profile-wiped' | 'device-mismatch' | 'unlock-state-rejected' | 'audit-rollback';
  profileId: string;
  detail?: Record<string, string | number | boolean | null>;
}

export function appendDeviceLog(userDataDir: string, entry: DeviceLogEntry): void {
  // 'a' = O_APPEND: every write lands at the end, never overwriting earlier lines.
  appendFileSync(join(userDataDir, DEVICE_LOG_FILE), JSON.stringify(entry) + '\n', { flag: 'a', mode: 0o600 });
}

export function readDeviceLog(userDataDir: string): DeviceLogEntry[] {
  let text: string;
  try {
    text = readFileSync(join(userDataDir, DEVICE_LOG_FILE), 'utf8');
  } catch {
    return [];
  }
  const out: DeviceLogEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as DeviceLogEntry);
    } catch {
      // A torn last line after a power cut: skip it, keep the rest.
    }
  }
  return out;
}
