/**
 * The per-profile device secret in the OS keychain (ARCHITECTURE.md §4): 32 random bytes that,
 * together with the passphrase, unwrap the master key. A copied profile folder is useless
 * without this entry. There is never a fallback secret (Element's DEFAULT_PASSPHRASE is the
 * anti-pattern): no keychain → KEYCHAIN_UNAVAILABLE with what is missing and how to fix it.
 */
import { AsyncEntry, type EntryOptions } from '@napi-rs/keyring';
import { randomBytes } from 'node:crypto';
import { AppError } from '../../common/result';

export const SECRET_BYTES = 32;
const DEFAULT_KEYCHAIN_SERVICE = 'Clinic Messenger';

export interface KeychainProbe {
  available: boolean;
  /** Human sentence: what is missing and how to fix it. null when available. */
  reason: string | null;
}

export interface Keychain {
  /** Round-trips a throwaway entry: says whether a keychain service is reachable and unlocked. */
  probe(): Promise<KeychainProbe>;
  /** The profile's secret, or null when the keychain has no entry for it. Throws KEYCHAIN_UNAVAILABLE. */
  get(profileId: string): Promise<Buffer | null>;
  set(profileId: string, secret: Buffer): Promise<void>;
  /** True when the secret's entry was deleted, false when there was none. Also deletes the profile's records. */
  delete(profileId: string): Promise<boolean>;
  /**
   * Small tamper-evidence records kept beside the secrets (see RecordName). They live in the
   * keychain because the profile folder can be copied aside and restored as a whole; the
   * keychain cannot be rolled back with it. null when there is none.
   */
  getRecord(name: RecordName): Promise<Buffer | null>;
  setRecord(name: RecordName, value: Buffer): Promise<void>;
}

/**
 * `<profileId>:unlock-gen`: the unlock-state file's generation (vault/unlock-state.ts);
 * `<profileId>:audit-head`: the newest audit row seen (session/audit-mirror.ts);
 * `<profileId>:lease`: the cached offline lease and its expiry (vault/lease-keys.ts);
 * `device:log-key`: the device log's MAC secret (vault/device-log.ts).
 * Profile ids match /^[a-z0-9-]{8,64}$/, so none of these account names can collide with one.
 */
export type ProfileRecordKind = 'unlock-gen' | 'audit-head' | 'lease';
export type RecordName = `${string}:${ProfileRecordKind}` | 'device:log-key';
const PROFILE_RECORDS: readonly ProfileRecordKind[] = ['unlock-gen', 'audit-head', 'lease'];
export const profileRecord = (profileId: string, kind: ProfileRecordKind): RecordName => `${profileId}:${kind}`;
const MAX_RECORD_BYTES = 1024;

export interface OsKeychainOptions {
  /** Keychain service name; tests use their own so they never touch a real profile's entry. */
  service?: string;
  platform?: NodeJS.Platform;
}

// Profile ids match /^[a-z0-9-]{8,64}$/, so this account name can never collide with one.
const PROBE_ACCOUNT = '__probe__';

export function createOsKeychain(options: OsKeychainOptions = {}): Keychain {
  const service = options.service ?? DEFAULT_KEYCHAIN_SERVICE;
  const platform = options.platform ?? process.platform;
  // On Linux the keyring crate silently falls back to the kernel keyring (keyutils), which is
  // neither persistent nor per-user-protected at rest: pin the Secret Service so a missing
  // keyring is an error, not a fallback.
  const entryOptions: EntryOptions | undefined =
    platform === 'linux' ? { linux: { store: 'secret-service' } } : undefined;
  const entry = (account: string) => new AsyncEntry(service, account, entryOptions);

  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await retryIfServiceVanished(platform, fn);
    } catch (err) {
      throw keychainError(err, platform, what);
    }
  };

  return {
    async probe() {
      const probe = randomBytes(SECRET_BYTES);
      try {
        const e = entry(PROBE_ACCOUNT);
        await e.setSecret(probe);
        const back = await e.getSecret();
        await e.deleteCredential();
        if (!back || !Buffer.from(back).equals(probe)) {
          return {
            available: false,
            reason:
              'The system keychain did not return what was stored in it. Check the keychain service, then try again.',
          };
        }
        return { available: true, reason: null };
      } catch (err) {
        return { available: false, reason: keychainError(err, platform, 'probe').message };
      } finally {
        probe.fill(0);
      }
    },
    async get(profileId) {
      const raw = await call('read', () => entry(profileId).getSecret());
      if (raw === null) return null;
      const secret = Buffer.from(raw);
      raw.fill(0);
      if (secret.length !== SECRET_BYTES) {
        secret.fill(0);
        throw new AppError(
          'DEVICE_MISMATCH',
          'The keychain entry for this profile is not one this app wrote. This profile cannot be opened on this device.',
        );
      }
      return secret;
    },
    async set(profileId, secret) {
      if (secret.length !== SECRET_BYTES) throw new Error(`keychain secret must be ${SECRET_BYTES} bytes`);
      await call('write', () => entry(profileId).setSecret(secret));
    },
    async delete(profileId) {
      const deleted = await call('delete', () => entry(profileId).deleteCredential());
      for (const kind of PROFILE_RECORDS)
        await call('delete', () => entry(profileRecord(profileId, kind)).deleteCredential());
      return deleted;
    },
    async getRecord(name) {
      const raw = await call('read', () => entry(name).getSecret());
      if (raw === null) return null;
      const out = Buffer.from(raw);
      raw.fill(0);
      return out;
    },
    async setRecord(name, value) {
      if (value.length === 0 || value.length > MAX_RECORD_BYTES)
        throw new Error(`keychain record must be 1..${MAX_RECORD_BYTES} bytes`);
      await call('write', () => entry(name).setSecret(value));
    },
  };
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * D-Bus's answer when the Secret Service left the bus in the middle of a call (NoReply: "Message
 * recipient disconnected from message bus without replying"): gnome-keyring-daemon crashed. In a
 * clean-clone CI run, the log showed its GLib-ERROR and its restart just before a vault test's
 * KEYCHAIN_UNAVAILABLE.
 */
const serviceVanished = (err: unknown) => /NoReply|disconnected from (the )?message bus/i.test(messageOf(err));

/**
 * On Linux, a keychain call whose Secret Service went away mid-call is made once more: D-Bus
 * activation starts the service again for the next call, on the same keyring. Each call here
 * reads, writes or deletes one whole entry, so a second try leaves the same entry (a delete that
 * had gone through reports that nothing was left). Any other failure, or a second one, is the
 * caller's.
 */
export async function retryIfServiceVanished<T>(platform: NodeJS.Platform, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (platform !== 'linux' || !serviceVanished(err)) throw err;
    return fn();
  }
}

/** Maps a platform keychain failure to KEYCHAIN_UNAVAILABLE with what is missing and how to fix it. */
export function keychainError(err: unknown, platform: NodeJS.Platform, what: string): AppError {
  if (err instanceof AppError) return err;
  const raw = messageOf(err);
  let reason: string;
  if (platform === 'linux') {
    if (serviceVanished(err)) {
      reason =
        'The system keychain (Secret Service) stopped answering in the middle of a request. Try again; if it keeps happening, sign out of the desktop and in again.';
    } else if (/dbus|d-bus|autolaunch|connect to socket|no such file/i.test(raw)) {
      reason =
        'No keychain service is reachable: this session has no working D-Bus session bus. Sign in to a desktop session that runs a Secret Service keyring (GNOME Keyring or KWallet), then start Clinic Messenger again.';
    } else if (/prompt was dismissed|locked/i.test(raw)) {
      reason =
        'The system keychain is locked. Unlock your login keyring (it unlocks when you sign in to the desktop, or in "Passwords and Keys"), then try again.';
    } else if (/no result found|no such object|not provided|service unknown|serviceunknown/i.test(raw)) {
      reason =
        'No usable keychain was found: the Secret Service has no default ("login") keyring. Install and start GNOME Keyring or KWallet and create a login keyring, then try again.';
    } else {
      reason = `The system keychain (Secret Service) could not be used (${trim(raw)}). Check that GNOME Keyring or KWallet is running and unlocked.`;
    }
  } else if (platform === 'darwin') {
    reason = `The macOS Keychain could not be used (${trim(raw)}). Unlock the login keychain in Keychain Access, then try again.`;
  } else if (platform === 'win32') {
    reason = `Windows Credential Manager could not be used (${trim(raw)}). Sign in to Windows with your own account, then try again.`;
  } else {
    reason = `No supported keychain on this platform (${trim(raw)}).`;
  }
  return new AppError('KEYCHAIN_UNAVAILABLE', reason, { operation: what });
}

// Platform messages carry no secrets, but keep them short for the screen.
const trim = (s: string) => (s.length > 160 ? `${s.slice(0, 157)}…` : s);
