/**
 * Every error text the renderer writes itself (issue 11 item 4): one place to read, reword or
 * translate what a person is told when something goes wrong. Keyed by situation (the screen or
 * action), then by the IPC error code. A code a situation does not name shows main's own
 * AppError message, which main writes for people (errorText).
 */
import type { ErrorCode, IpcError } from '../../../common/result';

/** What a failed action's answer carries that the texts use. */
type ErrorLike = Pick<IpcError, 'code' | 'message' | 'details'>;
/** A fixed text, or one built from the error (attempts left) and the seconds still to wait. */
type Text = string | ((e: ErrorLike, waitSeconds: number) => string);

export const KEYCHAIN_HELP =
  "This computer's secure key storage is not available. Clinic Messenger keeps part of each profile's key in the operating system's keychain (GNOME Keyring or KWallet through the Secret Service on Linux, Keychain on macOS, Credential Manager on Windows) and never falls back to a weaker secret. Make sure you are signed in to the desktop and the keychain is unlocked, then try again, or ask IT.";

/** " 2 attempts left before …" when main said how many wrong passphrases remain, else nothing. */
function attemptsLeft(e: ErrorLike): string {
  const left = e.details?.remaining;
  if (typeof left !== 'number') return '';
  return ` ${left} ${left === 1 ? 'attempt' : 'attempts'} left before this profile is erased from this PC.`;
}

const ERROR_TEXTS = {
  /** First sign-in on this workstation (FirstRun). */
  signIn: {
    AUTH_FAILED: 'The clinic server did not accept this account name and password.',
    TLS_REQUIRED:
      'The clinic server did not offer a secure (TLS) connection, so Clinic Messenger did not connect. Ask IT.',
    NOT_CONNECTED: "Couldn't reach the clinic server. Check the server name and the network, then try again.",
    WEAK_PASSPHRASE: (e) => `This passphrase is too weak: ${e.message}`,
    KEYCHAIN_UNAVAILABLE: KEYCHAIN_HELP,
    CONFLICT: 'A profile for this account already exists on this PC. Unlock it from the lock screen.',
    BAD_INPUT: (e) => `Please check the form: ${e.message}`,
    KEY_BACKUP_CODE_WRONG:
      'That backup code does not open this account’s key backup. Check it on the other workstation (Settings, Show backup code) and try again.',
  },
  /** Unlocking (or removing) a profile on the lock screen. */
  unlock: {
    WRONG_PASSPHRASE: (e) => `Wrong passphrase.${attemptsLeft(e)}`,
    THROTTLED: (_e, wait) =>
      `Too many wrong passphrases. ${wait > 0 ? `Try again in ${wait} seconds.` : 'You can try again now.'}`,
    DEVICE_MISMATCH:
      "This profile can't be opened on this device. Nothing was changed. You can remove it and sign in again.",
    KEYCHAIN_UNAVAILABLE: KEYCHAIN_HELP,
    // The offline lease (issue 15 item 3): nothing was changed; main says why when it is not the network.
    LEASE_EXPIRED: (e) =>
      e.details?.reason === 'unreachable' && typeof e.details.hours === 'number' && e.details.hours > 0
        ? `This computer has been offline longer than your clinic allows (${e.details.hours} hours). Connect to the clinic network and unlock again. Nothing was lost.`
        : e.message,
    // By IT (issue 15): a signed command, or the server refusing the account; main says which.
    PROFILE_WIPED: (e) =>
      e.details?.by === 'admin'
        ? e.message
        : 'Too many wrong passphrases: this profile was erased from this PC. Sign in again to continue.',
  },
  /** Sending a message (the conversation's composer). */
  send: {
    KEY_CHANGED: 'Not sent: this contact’s key changed. Compare the new key below first.',
    // A colleague with no key yet is not an error any more (their messages wait, issue 12 §3):
    // this is a key the server refused or that did not validate.
    KEY_UNAVAILABLE: 'Not sent: this contact’s encryption key could not be fetched. Try again later, or ask IT.',
    NOT_CONNECTED: 'Not connected to the clinic server. The message will be sent when you reconnect.',
    // Care-team rooms (issue 18 §4, §5): main's own message names what the room no longer keeps.
    ROOM_UNSAFE: (e) => e.message,
    ROOM_OWNERS_ONLY: 'Not sent: only the room’s owners post in this announcement room.',
  },
  /** Sending a file from the composer (issue 16): main's policy refusals, nothing sent. */
  attach: {
    FORBIDDEN: "Not sent: your clinic's policy does not allow attachments.",
    TOO_LARGE: (e) =>
      typeof e.details?.maxAttachmentMB === 'number'
        ? `Not sent: this file is larger than your clinic allows (${e.details.maxAttachmentMB} MB).`
        : 'Not sent: this file is larger than your clinic allows.',
    NOT_CONNECTED: 'Not connected to the clinic server. The file will be sent when you reconnect.',
  },
  /** A file in the conversation: downloading it or showing its preview (issue 16). */
  attachment: {
    FORBIDDEN: (e) =>
      e.details?.policy === 'attachmentsAllowed' ? "Your clinic's policy does not allow attachments." : e.message,
    TOO_LARGE: (e) =>
      typeof e.details?.maxAttachmentMB === 'number'
        ? `This file is larger than your clinic allows (${e.details.maxAttachmentMB} MB).`
        : e.message,
    NOT_CONNECTED: 'Not connected to the clinic server. Try again when you are connected.',
  },
  /** Our own message that the outbox gave up on (stored 'failed' with its code): shown beside Retry. */
  failed: {
    KEY_CHANGED: 'Not sent: this contact’s key changed. Compare the new key, accept it, then retry.',
    KEY_UNAVAILABLE: 'Not sent: this contact’s encryption key could not be fetched.',
    FORBIDDEN: 'Not sent: messages can only go to colleagues on the clinic’s own server.',
    CANCELLED: 'Not sent: you cancelled the upload of its file. Retry sends it.',
    ROOM_UNSAFE:
      'Not sent: this room is not safe for patient information right now (it is open to others, or hides who writes). Retry once IT has fixed it.',
    ROOM_OWNERS_ONLY: 'Not sent: only the room’s owners post in this announcement room.',
  },
  /** Editing or deleting one's own sent message for everyone (issue 12 §6): nothing changed. */
  change: {
    NOT_CONNECTED: 'Not connected to the clinic server, so nothing was changed. Try again when you are connected.',
    KEY_CHANGED: 'Nothing was changed: this contact’s key changed. Compare the new key first.',
    KEY_UNAVAILABLE: 'Nothing was changed: this contact’s encryption key could not be fetched. Try again later.',
  },
  /** Settings, change passphrase: the current one was asked for. */
  changePassphrase: {
    WRONG_PASSPHRASE: 'The current passphrase is not correct.',
  },
  /** Settings, show the key backup code: the passphrase was asked for. */
  keyBackup: {
    WRONG_PASSPHRASE: (e) => `That passphrase is not correct.${attemptsLeft(e)}`,
  },
  /**
   * Making a care-team room (issue 18 §1). A step that failed after the room existed: main's own
   * message says what the server refused and whether the room was removed again (nothing kept).
   */
  createRoom: {
    NOT_CONNECTED: (e) =>
      typeof e.details?.step === 'string'
        ? e.message
        : 'Not connected to the clinic server, so no room was created. Try again when you are connected.',
  },
  /** Texting a patient (issue 17): main's own message names the SMS problem or the gateway's reason. */
  patients: {
    NOT_CONNECTED: 'Not connected to the clinic server. The text is kept and goes when you reconnect.',
  },
  /** Settings → Your account, removing one's own profile: the passphrase was asked for. */
  removeProfile: {
    WRONG_PASSPHRASE: (e) => `That passphrase is not correct. Nothing was removed.${attemptsLeft(e)}`,
    THROTTLED: 'Too many wrong passphrases. Nothing was removed. Wait a moment, then try again.',
  },
} satisfies Record<string, Partial<Record<ErrorCode, Text>>>;

export type ErrorSituation = keyof typeof ERROR_TEXTS;

/** Main's own message for an error (AppError messages are written for people), else its code. */
export function errorText(e: Pick<IpcError, 'code' | 'message'>): string {
  return e.message || e.code;
}

/** What the person is told when `e` ends `situation`; `waitSeconds` counts down a throttle. */
export function errorTextFor(situation: ErrorSituation, e: ErrorLike, waitSeconds = 0): string {
  const texts: Partial<Record<ErrorCode, Text>> = ERROR_TEXTS[situation];
  const t = texts[e.code];
  if (t === undefined) return errorText(e);
  return typeof t === 'string' ? t : t(e, waitSeconds);
}

/** Why a stored message failed (Message.failure, an error code), in words; any other code: the server. */
export function failedMessageText(code: string | null | undefined): string {
  const texts: Partial<Record<string, string>> = ERROR_TEXTS.failed;
  return (code ? texts[code] : undefined) ?? 'Not sent: the clinic server did not confirm it after several tries.';
}

/**
 * Why a secure text to a patient was not sent (issue 17): the gateway's reasons and the archive
 * key's problems (codes from main), as the end of "Not sent (…)".
 */
const PATIENT_TEXT_FAILURES: Partial<Record<string, string>> = {
  'opted-out': 'the patient has opted out of texts',
  'quiet-hours': 'inside the clinic’s quiet hours',
  'rate-limited': 'this number has had as many texts today as the clinic allows',
  'sms-failed': 'the SMS provider did not take it',
  'archive-no-key': 'the clinic’s archive key is not published; ask IT',
  'archive-key-mismatch': 'the published archive key is not the one the policy names; ask IT',
  forbidden: 'this account may not text patients',
};

/** Why a text to a patient was not sent, in words; a code this list does not know, as main wrote it. */
export const patientTextFailure = (code: string): string => PATIENT_TEXT_FAILURES[code] ?? code;

/** Friendly text for the error codes the sign-in screen can meet. */
export const signInErrorText = (e: IpcError): string => errorTextFor('signIn', e);

/** A received file's element that main refused to read (docs/protocol.md Attachments): never fetchable. */
const REFUSED_FILE = new Set(['several', 'malformed', 'unknown-cipher', 'unencrypted', 'not-https']);

/** Whether a failed received file may be tried again (a transfer failure, not a policy or a refused element). */
export function attachmentRetryable(failure: string | null): boolean {
  return !REFUSED_FILE.has(failure ?? '') && !['FORBIDDEN', 'TOO_LARGE', 'too-large'].includes(failure ?? '');
}

/** Why a file did not arrive or go (Attachment.failure), in words: a policy code, else a transfer reason. */
export function attachmentFailureText(a: { direction: 'in' | 'out'; failure: string | null }): string {
  if (REFUSED_FILE.has(a.failure ?? ''))
    return 'This file was not sent in a safe, encrypted form, so it cannot be downloaded.';
  switch (a.failure) {
    case 'FORBIDDEN':
      return "Not available: your clinic's policy does not allow attachments.";
    case 'TOO_LARGE':
    case 'too-large':
      return 'Not available: this file is larger than your clinic allows.';
    case 'cancelled':
      return 'Download cancelled. Nothing of it was kept.';
    case 'CANCELLED':
      return 'Upload cancelled: not sent.';
    case null:
      return a.direction === 'in' ? 'The download did not finish. Try again.' : 'Not sent.';
    default:
      return a.direction === 'in'
        ? 'The download did not finish. Try again.'
        : 'Not sent yet: the upload did not finish. It is tried again.';
  }
}

/** Texts for situations that are not an IPC error code. */
export const NOTICE_TEXTS = {
  /** Shown on first sign-in when the last profile was erased after too many wrong passphrases. */
  profileWiped:
    'Too many wrong passphrases: that profile and its messages were erased from this PC. Sign in again to continue.',
  /** After IT's remote wipe (issue 15) erased a profile, live or at its unlock. */
  remoteWiped:
    "Your clinic's IT erased that profile and its messages from this PC (remote wipe). If you did not expect this, contact IT before signing in again.",
  /** The lock screen, for a profile whose keychain entry on this PC is gone (or a copied folder). */
  profileNotOpenable:
    "This profile can't be opened on this device: it was copied from another computer or its key in this PC's keychain is gone.",
  /** Settings: an inactivity lock longer than the clinic's policy allows. */
  lockTimeoutTooLong: (maxMinutes: number) => `Choose a number of minutes up to ${maxMinutes} (the clinic's maximum).`,
  /** Settings: the inactivity lock field is empty, zero or not a number. */
  lockTimeoutMissing: (maxMinutes: number) => `Enter a number of minutes from 1 to ${maxMinutes}.`,
} as const;

/**
 * Why a care-team room stopped being used (its `unsafe` list, issue 18 §5): said on the room's
 * banner and in the audit report.
 */
export const ROOM_PROBLEM_TEXTS: Readonly<Record<'open' | 'anonymous', string>> = {
  open: 'people who are not on its member list can join it',
  anonymous: 'it no longer shows who wrote each message',
};
