/** Friendly text for the error codes the sign-in and unlock screens can meet. */
import type { IpcError } from '../../../common/result';

export const KEYCHAIN_HELP =
  "This computer's secure key storage is not available. Clinic Messenger keeps part of each profile's key in the operating system's keychain (GNOME Keyring or KWallet through the Secret Service on Linux, Keychain on macOS, Credential Manager on Windows) and never falls back to a weaker secret. Make sure you are signed in to the desktop and the keychain is unlocked, then try again, or ask IT.";

export function signInErrorText(e: IpcError): string {
  switch (e.code) {
    case 'AUTH_FAILED':
      return 'The clinic server did not accept this account name and password.';
    case 'TLS_REQUIRED':
      return 'The clinic server did not offer a secure (TLS) connection, so Clinic Messenger did not connect. Ask IT.';
    case 'NOT_CONNECTED':
      return "Couldn't reach the clinic server. Check the server name and the network, then try again.";
    case 'WEAK_PASSPHRASE':
      return `This passphrase is too weak: ${e.message}`;
    case 'KEYCHAIN_UNAVAILABLE':
      return KEYCHAIN_HELP;
    case 'CONFLICT':
      return 'A profile for this account already exists on this PC. Unlock it from the lock screen.';
    case 'BAD_INPUT':
      return `Please check the form: ${e.message}`;
    case 'KEY_BACKUP_CODE_WRONG':
      return 'That backup code does not open this account’s key backup. Check it on the other workstation (Settings, Show backup code) and try again.';
    default:
      return e.message || e.code;
  }
}
