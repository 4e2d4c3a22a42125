/**
 * XEP-0373 §5 secret-key backup: the account's secret key, symmetrically encrypted (OpenPGP
 * SKESK + SEIPD, AES-256, iterated-salted S2K as GnuPG reads it) with a backup code the user
 * writes down, so a second workstation can use the same key instead of replacing it.
 * The server stores only this ciphertext (private PEP node, main/xmpp/pep-keys.ts).
 *
 * Backup code: 24 characters from a 32-symbol alphabet without look-alikes (no 0/O, 1/I),
 * grouped by four — 120 bits from the OS CSPRNG, far beyond guessing even offline.
 * Entry is forgiving: case, spaces and dashes do not matter.
 */
import { randomInt } from 'node:crypto';
import * as openpgp from 'openpgp';
import { KeyRejectedError } from './errors';
import { loadIdentity, normalizeBareJid, type Identity } from './keys';

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const CODE_LENGTH = 24;

export function newBackupCode(): string {
  let code = '';
  for (let i = 0; i < CODE_LENGTH; i++) code += ALPHABET[randomInt(ALPHABET.length)];
  return formatBackupCode(code);
}

/** The code as shown to people: upper case, in groups of four (what newBackupCode writes). */
export function formatBackupCode(input: string): string {
  const c = normalizeBackupCode(input) ?? input.toUpperCase();
  return c.match(/.{1,4}/g)?.join('-') ?? '';
}

/** Upper case, without spaces and dashes; null when it cannot be a backup code. */
export function normalizeBackupCode(input: string): string | null {
  const c = input.toUpperCase().replace(/[\s-]+/g, '');
  return /^[A-Z0-9]{16,64}$/.test(c) ? c : null;
}

export class BackupCodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupCodeError';
  }
}

/** The XEP-0373 §5 payload (base64 of the binary OpenPGP message) for `<secretkey/>`. */
export async function encryptSecretKeyBackup(identity: Identity, code: string): Promise<string> {
  const password = normalizeBackupCode(code);
  if (!password) throw new BackupCodeError('not a backup code');
  const message = await openpgp.createMessage({ binary: identity.privateKey.write() });
  const encrypted = await openpgp.encrypt({
    message,
    passwords: [password],
    format: 'binary',
    config: { preferredSymmetricAlgorithm: openpgp.enums.symmetric.aes256, s2kType: openpgp.enums.s2k.iterated },
  });
  return Buffer.from(encrypted).toString('base64');
}

/**
 * Opens a backup with the code the user typed. BackupCodeError: wrong code (or not a backup);
 * KeyRejectedError: the content is not a usable key for `bareJid` (wrong account, expired…).
 */
export async function decryptSecretKeyBackup(base64: string, code: string, bareJid: string): Promise<Identity> {
  const password = normalizeBackupCode(code);
  if (!password) throw new BackupCodeError('not a backup code');
  let binary: Uint8Array;
  try {
    const message = await openpgp.readMessage({ binaryMessage: new Uint8Array(Buffer.from(base64, 'base64')) });
    const { data } = await openpgp.decrypt({ message, passwords: [password], format: 'binary' });
    binary = data as Uint8Array;
  } catch {
    throw new BackupCodeError('the backup code does not open this backup');
  }
  let armored: string;
  try {
    armored = (await openpgp.readPrivateKey({ binaryKey: binary })).armor();
  } catch {
    throw new KeyRejectedError('malformed', 'the backup does not hold an OpenPGP secret key');
  } finally {
    binary.fill(0);
  }
  const identity = await loadIdentity(armored);
  if (identity.bareJid !== normalizeBareJid(bareJid))
    throw new KeyRejectedError('bad-user-id', 'the backup holds the key of another account');
  return identity;
}
