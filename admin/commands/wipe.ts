/**
 * `clinic-admin wipe <jid> [--device <id>] --key <file> [--expires <duration>] --out <file>`:
 * builds and signs a wipe command (main/crypto/admin-command.ts) and writes it to a file.
 * Sending it over XMPP is the next slice of issue 15; this command says so rather than pretend.
 */
import * as openpgp from 'openpgp';
import type { PrivateKey } from 'openpgp';
import {
  BARE_JID_RE,
  DEVICE_ID_RE,
  MAX_ADMIN_COMMAND_VALIDITY_MS,
  newWipeCommand,
  signAdminCommand,
} from '../../main/crypto/admin-command';
import { normalizeFingerprint } from '../../main/crypto/keys';
import { CliError, usageError } from '../errors';
import { readSmallText, refuseExisting, writeNewFile } from '../files';
import type { CliIo } from '../io';
import { readPassphrase } from '../passphrase';

export const WIPE_USAGE = `Usage: clinic-admin wipe <jid> [--device <id>] --key <file> [--expires <duration>] --out <file>

Signs a command that erases the profile of <jid> (a bare JID: alice@clinic.example) on one
workstation (--device) or on all of them, and writes it to <file>.
Sending it to the workstations over XMPP: planned (the next step of issue 15).

  --device <id>         the workstation profile's id (docs: "Remote wipe"); default: all devices
  --key <file>          the admin key from "clinic-admin keygen"; its passphrase is asked
                        at the terminal (not shown) or read from CLINIC_ADMIN_PASSPHRASE
  --expires <duration>  how long the command stays valid: 30m, 12h, 7d (default 7d, at most 30d)
  --out <file>          where to write the signed command (never overwritten)`;

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3600_000, d: 24 * 3600_000 };

export function parseDuration(text: string): number {
  const m = /^(\d{1,4})([mhd])$/.exec(text.trim());
  const ms = m ? Number(m[1]) * UNIT_MS[m[2]!]! : NaN;
  if (!(ms > 0 && ms <= MAX_ADMIN_COMMAND_VALIDITY_MS))
    throw usageError(`--expires must be a duration such as 30m, 12h or 7d, at most 30d (got "${text}").`);
  return ms;
}

function parseAccount(jid: string | undefined): string {
  if (!jid) throw usageError('wipe needs the account: clinic-admin wipe <jid> …');
  const account = jid.trim().toLowerCase();
  if (account.includes('/'))
    throw usageError(`"${jid}" has a resource (/…): give the bare JID, e.g. ${account.split('/')[0]}.`);
  if (!BARE_JID_RE.test(account) || account.length > 320)
    throw usageError(`"${jid}" is not a bare JID (name@server, e.g. alice@clinic.example).`);
  return account;
}

async function unlockKey(io: CliIo, file: string): Promise<PrivateKey> {
  let key: PrivateKey;
  try {
    key = await openpgp.readPrivateKey({ armoredKey: readSmallText(file, 'a key file') });
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`${file} is not an OpenPGP private key file (make one with: clinic-admin keygen).`);
  }
  if (key.isDecrypted())
    throw new CliError(`${file} holds a key without a passphrase: refused. Make one with clinic-admin keygen.`);
  const passphrase = await readPassphrase(io, { confirm: false });
  try {
    return await openpgp.decryptKey({ privateKey: key, passphrase });
  } catch {
    throw new CliError(`Wrong passphrase for ${file}; nothing was signed.`);
  }
}

export async function wipe(
  io: CliIo,
  opts: {
    jid: string | undefined;
    device: string | undefined;
    key: string | undefined;
    expires: string | undefined;
    out: string | undefined;
  },
): Promise<void> {
  const account = parseAccount(opts.jid);
  const device = opts.device === undefined ? null : opts.device.trim().toLowerCase();
  if (device !== null && !DEVICE_ID_RE.test(device))
    throw usageError(`--device "${opts.device}" is not a device id (the profile id: letters, digits and -, 8 to 64).`);
  if (!opts.key) throw usageError('wipe needs --key <file> (the admin key from clinic-admin keygen).');
  if (!opts.out) throw usageError('wipe needs --out <file> for the signed command.');
  const validityMs = parseDuration(opts.expires ?? '7d');
  refuseExisting(opts.out, 'command file');
  const key = await unlockKey(io, opts.key);
  const now = io.now();
  const command = newWipeCommand({ account, device, now, validityMs });
  writeNewFile(opts.out, await signAdminCommand(command, key, now), 0o644);
  io.stdout(`Wipe command for ${command.account}, ${device === null ? 'all devices' : `device ${device}`}.`);
  io.stdout(`Valid from ${command.issuedAt} until ${command.expiresAt}; nonce ${command.nonce}.`);
  io.stdout(`Signed by ${normalizeFingerprint(key.getFingerprint())}; written to ${opts.out}.`);
  io.stdout('Sending it to the workstations: planned (not yet implemented); nothing was sent.');
}
