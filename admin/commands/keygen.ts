/**
 * `clinic-admin keygen --out <file> [--name <text>]`: the admin's signing key. A v4 Ed25519 key
 * (plus its Curve25519 subkey, which openpgp always adds) like the account keys (PROTOCOL.md
 * "Keys"), so the fingerprint has the policy's 40-hex format and GnuPG can read the file.
 * The private key is encrypted with the passphrase (OpenPGP S2K, AES-256) and written 0600.
 */
import * as openpgp from 'openpgp';
import { normalizeFingerprint } from '../../main/crypto/keys';
import { usageError } from '../errors';
import { refuseExisting, writeNewFile } from '../files';
import type { CliIo } from '../io';
import { MIN_PASSPHRASE, readPassphrase } from '../passphrase';

export const KEYGEN_USAGE = `Usage: clinic-admin keygen --out <file> [--name <text>]

Creates an admin OpenPGP key (Ed25519) in <file>, encrypted with a passphrase, file mode 0600.
The passphrase is asked at the terminal (not shown), or read from CLINIC_ADMIN_PASSPHRASE;
at least ${MIN_PASSPHRASE} characters. An existing <file> is never overwritten.
Prints the key's fingerprint and the line to add to the managed policy (adminKeyFingerprints).

  --out <file>   where to write the encrypted key (keep it off the workstations)
  --name <text>  a label in the key, e.g. "Clinic IT" (default: Clinic Messenger admin)`;

export async function keygen(io: CliIo, opts: { out: string | undefined; name: string | undefined }): Promise<void> {
  if (!opts.out) throw usageError('keygen needs --out <file>.');
  const name = (opts.name ?? 'Clinic Messenger admin').trim();
  if (!name || name.length > 100 || /[<>\p{Cc}]/u.test(name))
    throw usageError('--name must be 1 to 100 printable characters, without < or >.');
  refuseExisting(opts.out, 'key file');
  const passphrase = await readPassphrase(io, { confirm: true });
  if (passphrase.length < MIN_PASSPHRASE)
    throw usageError(`The passphrase must be at least ${MIN_PASSPHRASE} characters; nothing was written.`);
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name }],
    passphrase,
    date: io.now(),
    format: 'object',
    config: { preferredSymmetricAlgorithm: openpgp.enums.symmetric.aes256, s2kType: openpgp.enums.s2k.iterated },
  });
  writeNewFile(opts.out, privateKey.armor(), 0o600);
  const fingerprint = normalizeFingerprint(privateKey.getFingerprint());
  io.stdout(`Admin key written to ${opts.out} (encrypted with your passphrase, mode 0600).`);
  io.stdout(`Fingerprint: ${fingerprint}`);
  io.stdout('Add it to the managed policy (docs/deploy):');
  io.stdout(`  "adminKeyFingerprints": ["${fingerprint}"]`);
}
