/**
 * `clinic-admin wipe <jid> [--device <id>] --key <file> [--expires <duration>] [--out <file>]
 * [--send --as <admin-jid> …]`: builds and signs a wipe command (main/crypto/admin-command.ts),
 * writes it to a file and/or sends it over the clinic's XMPP server (../send.ts). With both, the
 * file is written first: IT keeps a copy even when sending fails.
 */
import * as openpgp from 'openpgp';
import type { PrivateKey } from 'openpgp';
import {
  DEVICE_ID_RE,
  MAX_ADMIN_COMMAND_VALIDITY_MS,
  newWipeCommand,
  signAdminCommand,
} from '../../main/crypto/admin-command';
import { normalizeFingerprint } from '../../main/crypto/keys';
import { CliError, usageError } from '../errors';
import { readSmallText, refuseExisting, writeNewFile } from '../files';
import type { CliIo } from '../io';
import { readPassphrase, readXmppPassword } from '../passphrase';
import { sendAdminCommand } from '../send';
import { parseBareJid, parseSendOptions, type SendOptions } from '../send-options';

export const WIPE_USAGE = `Usage: clinic-admin wipe <jid> [--device <id>] --key <file> [--expires <duration>]
         [--out <file>] [--send --as <admin-jid> [--server <host>[:<port>]] [--tls starttls|direct]
         [--ca <pem-file>]]

Signs a command that erases the profile of <jid> (a bare JID: alice@clinic.example) on one
workstation (--device) or on all of them. --out writes it to a file, --send sends it over the
clinic's XMPP server; give one or both (with both, the file is written first).
Workstations act on it: see docs/protocol.md › Admin commands.

  --device <id>         the workstation profile's id (admin/README.md); default: all devices
  --key <file>          the admin key from "clinic-admin keygen"; its passphrase is asked
                        at the terminal (not shown) or read from CLINIC_ADMIN_PASSPHRASE
  --expires <duration>  how long the command stays valid: 30m, 12h, 7d (default 7d, at most 30d)
  --out <file>          where to write the signed command (never overwritten)
  --send                send it to <jid> and wait until the server confirms it
  --as <admin-jid>      the admin account to sign in with (the policy's adminAccount); its
                        password is asked at the terminal (not shown) or read from
                        CLINIC_ADMIN_XMPP_PASSWORD
  --server <host>[:<port>]  where the XMPP server is (default: the domain of --as, port 5222,
                        or 5223 with --tls direct)
  --tls starttls|direct STARTTLS (default) or direct TLS; never unencrypted
  --ca <pem-file>       the clinic's CA certificate, when the server's is not publicly trusted`;

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
  return parseBareJid(jid, 'The account');
}

/** An admin key file from keygen, decrypted with its passphrase (also `report`'s compliance key). */
export async function unlockKey(io: CliIo, file: string): Promise<PrivateKey> {
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

export interface WipeOptions extends SendOptions {
  jid: string | undefined;
  device: string | undefined;
  key: string | undefined;
  expires: string | undefined;
  out: string | undefined;
}

export async function wipe(io: CliIo, opts: WipeOptions): Promise<void> {
  const account = parseAccount(opts.jid);
  const device = opts.device === undefined ? null : opts.device.trim().toLowerCase();
  if (device !== null && !DEVICE_ID_RE.test(device))
    throw usageError(`--device "${opts.device}" is not a device id (the profile id: letters, digits and -, 8 to 64).`);
  if (!opts.key) throw usageError('wipe needs --key <file> (the admin key from clinic-admin keygen).');
  if (!opts.out && !opts.send)
    throw usageError('wipe needs --out <file>, --send --as <admin-jid>, or both: where the signed command goes.');
  const validityMs = parseDuration(opts.expires ?? '7d');
  // Every option and file is checked before a passphrase or password is asked.
  const sending = parseSendOptions(opts);
  if (opts.out) refuseExisting(opts.out, 'command file');
  const key = await unlockKey(io, opts.key);
  const password = sending ? await readXmppPassword(io, sending.as) : null;
  const now = io.now();
  const command = newWipeCommand({ account, device, now, validityMs });
  const signed = await signAdminCommand(command, key, now);
  io.stdout(`Wipe command for ${command.account}, ${device === null ? 'all devices' : `device ${device}`}.`);
  io.stdout(`Valid from ${command.issuedAt} until ${command.expiresAt}; nonce ${command.nonce}.`);
  io.stdout(`Signed by ${normalizeFingerprint(key.getFingerprint())}.`);
  if (opts.out) {
    writeNewFile(opts.out, signed, 0o644);
    io.stdout(`Written to ${opts.out}.`);
  }
  if (!sending || password === null) {
    io.stdout('Nothing was sent (no --send).');
    return;
  }
  try {
    const via = await sendAdminCommand({ as: sending.as, password, to: account, text: signed, target: sending.target });
    io.stdout(`Sent to ${account} via ${via} as ${sending.as} (the server confirmed it).`);
  } catch (err) {
    if (!(err instanceof CliError) || !opts.out) throw err;
    throw new CliError(`${err.message} (${opts.out} was written before sending and is kept.)`);
  }
}
