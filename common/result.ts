/**
 * The one shape every IPC answer takes (STYLE.md: Signal's wrapResult).
 * Error codes are a closed list so the renderer can branch on them.
 */
import { z } from 'zod';

export const errorCodes = [
  'BAD_INPUT', // payload failed the channel's schema; no handler ran
  'UNKNOWN_CHANNEL',
  'LOCKED', // the session is locked; only unlock / profile list / switch user answer
  'NOT_FOUND',
  'CONFLICT',
  'FORBIDDEN', // refused by policy or by a sender check
  'WRONG_PASSPHRASE',
  'THROTTLED', // too many failed unlocks: wait
  'PROFILE_WIPED',
  'DEVICE_MISMATCH', // profile folder copied from another machine / keychain entry gone
  'KEYCHAIN_UNAVAILABLE',
  'WEAK_PASSPHRASE',
  'STORE_CORRUPT',
  'STORE_WRONG_KEY',
  'STORE_TOO_NEW',
  'POLICY_INVALID',
  'KEY_CHANGED', // a contact's key changed: sending blocked until acknowledged
  'KEY_UNAVAILABLE', // a contact's key cannot be fetched
  'NOT_CONNECTED',
  'TLS_REQUIRED',
  'AUTH_FAILED',
  'KEY_BACKUP_REQUIRED', // first sign-in on another workstation: the account's key backup needs its code
  'KEY_BACKUP_CODE_WRONG',
  'ACCOUNT_KEY_EXISTS', // the account has a key without a usable backup: replacing it needs consent
  'DISPLAY_NAME_REQUIRED', // first sign-in: the clinic directory has no name for this account, so it is asked for
  'LEASE_EXPIRED', // the offline lease has expired and the server gave no new one (details.reason): unlock refused, nothing lost
  'TOO_LARGE',
  'CANCELLED', // the person cancelled it (an attachment's upload): not tried again until they retry
  'ROOM_UNSAFE', // a care-team room no longer keeps the clinic's policy (open or anonymous): nothing is sent to it
  'ROOM_OWNERS_ONLY', // an announcement room: only its owners post
  'INTERNAL',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

export const ipcErrorSchema = z.object({
  code: z.enum(errorCodes),
  message: z.string(),
  /** Optional machine-readable details (e.g. retryAfterMs). Never PHI. */
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
});
export type IpcError = z.infer<typeof ipcErrorSchema>;

export type Result<T> = { ok: true; value: T } | { ok: false; error: IpcError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = (code: ErrorCode, message: string, details?: IpcError['details']): Result<never> => ({
  ok: false,
  error: details ? { code, message, details } : { code, message },
});

/** Thrown by services; the router turns it into `{ ok: false, error }`. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: IpcError['details'];
  constructor(code: ErrorCode, message: string, details?: IpcError['details']) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }
}
