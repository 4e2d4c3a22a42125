/**
 * macOS sources of the managed policy (issue 14 item 2): forced managed preferences only.
 *
 * A configuration profile (Jamf, Intune, any MDM) for the domain org.clinicmessenger.desktop is
 * written by the MDM client, as root, to
 *   /Library/Managed Preferences/org.clinicmessenger.desktop.plist            (device profile)
 *   /Library/Managed Preferences/<short user name>/org.clinicmessenger.desktop.plist (user profile)
 * These are the values CFPreferences reports as forced. Everything else CFPreferences would return —
 * `~/Library/Preferences/…`, `defaults write`, the command line — the user can write, so it is not
 * policy and is never read here (a unit test holds the source list to that).
 *
 * Precedence, per top-level key: the device profile, then the user profile, then the JSON file
 * (`/Library/Application Support/ClinicMessenger/policy.json`). Device first, like HKLM before HKCU on
 * Windows: a setting IT fixed for the machine cannot be loosened by a profile scoped to one user. We
 * found no Apple statement of the order CFPreferences itself gives the two managed files, so the
 * order is ours and documented (docs/deploy/macos.md).
 *
 * Each plist passes the same protection check as the JSON file (root-owned, not writable by
 * non-admins, every folder above too), is read once from the checked inode, and binary plists (what
 * the MDM client writes) go through `/usr/bin/plutil -convert xml1` on stdin; plist.ts maps the XML.
 */
import { execFileSync } from 'node:child_process';
import { posix } from 'node:path';
import { parsePlistXml, PlistError, type PlistValue } from './plist';
import { POLICY_DOMAIN } from './templates/plist';
import type { CommandOutput } from './windows';

export const MANAGED_PREFERENCES_DIR = '/Library/Managed Preferences';
export const MAC_POLICY_FILE = '/Library/Application Support/ClinicMessenger/policy.json';

/** Runs `/usr/bin/plutil args` with `input` on stdin. Tests hand in recorded outputs. */
export type MacCommand = (args: readonly string[], input: Buffer) => CommandOutput;

export const systemMacCommand: MacCommand = (args, input) => {
  try {
    return {
      code: 0,
      stdout: execFileSync('/usr/bin/plutil', [...args], { input, encoding: 'utf8', timeout: 10_000 }),
    };
  } catch (err) {
    const e = err as { status?: number | null; stdout?: string };
    return { code: e.status ?? -1, stdout: typeof e.stdout === 'string' ? e.stdout : '' };
  }
};

/**
 * `-` as the file: plutil reads stdin ("The file '-' means stdin", plutil -help), so it converts the
 * very bytes that passed the protection check rather than opening the path again. No `--`: there is
 * no path that could look like an option, and not every plutil documents it.
 */
export const PLUTIL_ARGS = ['-convert', 'xml1', '-o', '-', '-'] as const;

/** A macOS short user name as the MDM client names its folder; anything else could leave the folder. */
const SHORT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/**
 * The forced managed preference files, strongest first. Throws for a user name that cannot be a
 * folder name (it would point elsewhere).
 */
export function managedPreferenceFiles(userName: string, dir: string = MANAGED_PREFERENCES_DIR): string[] {
  if (!SHORT_NAME.test(userName) || userName === '.' || userName === '..')
    throw new Error(`the user name ${JSON.stringify(userName)} is not a macOS short name`);
  return [devicePreferenceFile(dir), posix.join(dir, userName, `${POLICY_DOMAIN}.plist`)];
}

/** The forced preferences of a device profile. */
export const devicePreferenceFile = (dir: string = MANAGED_PREFERENCES_DIR): string =>
  posix.join(dir, `${POLICY_DOMAIN}.plist`);

/** What the plist at `path` sets, as an object for the schema. Throws PlistError with the reason. */
export function managedPreferences(bytes: Buffer, plutil: MacCommand): Record<string, PlistValue> {
  const head = bytes.subarray(0, 64).toString('utf8').trimStart();
  let xml: string;
  if (head.startsWith('<?xml') || head.startsWith('<plist')) {
    xml = bytes.toString('utf8');
  } else {
    const out = plutil(PLUTIL_ARGS, bytes);
    if (out.code !== 0) throw new PlistError(`plutil cannot convert it (exit ${out.code})`);
    xml = out.stdout;
  }
  const value = parsePlistXml(xml);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new PlistError('its top level is not a dictionary');
  // Some MDM clients copy the payload's own bookkeeping (PayloadUUID, …) next to the settings.
  // fromEntries defines own properties, so a key named __proto__ stays data.
  return Object.fromEntries(Object.entries(value).filter(([k]) => !k.startsWith('Payload')));
}
