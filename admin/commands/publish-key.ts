/**
 * `clinic-admin publish-key --as <compliance-jid> --key <file> [--server …] [--tls …] [--ca …]`
 * (issue 15 item 4): publishes the PUBLIC part of the compliance key as the compliance account's
 * OpenPGP key (XEP-0373 PEP, open access), where workstations fetch it to encrypt their audit
 * entries. They use it only if its fingerprint is the policy's complianceKeyFingerprint.
 * No passphrase is needed: nothing is signed or decrypted.
 */
import * as openpgp from 'openpgp';
import { normalizeFingerprint } from '../../main/crypto/keys';
import { publishPublicKey } from '../../main/xmpp/pep-keys';
import { CliError, usageError } from '../errors';
import { readSmallText } from '../files';
import type { CliIo } from '../io';
import { readXmppPassword } from '../passphrase';
import { withSession } from '../report/session';
import { parseSendOptions, type SendOptions } from '../send-options';

export const PUBLISH_KEY_USAGE = `Usage: clinic-admin publish-key --as <compliance-jid> --key <file>
         [--server <host>[:<port>]] [--tls starttls|direct] [--ca <pem-file>]

Publishes the public part of the compliance key (from clinic-admin keygen) as the OpenPGP key of
the compliance account, where workstations fetch it to encrypt their audit entries (audit
anchoring). Prints the policy lines: complianceAccount and complianceKeyFingerprint.

  --as <jid>   the compliance account; its password is asked at the terminal (not shown) or read
               from CLINIC_ADMIN_XMPP_PASSWORD
  --key <file> the compliance key file (no passphrase needed: only its public part is published)
  --server, --tls, --ca  as for wipe --send`;

export async function publishKey(
  io: CliIo,
  opts: Omit<SendOptions, 'send'> & { key: string | undefined },
): Promise<void> {
  if (opts.as === undefined) throw usageError('publish-key needs --as <compliance-jid>.');
  if (!opts.key) throw usageError('publish-key needs --key <file> (the compliance key from clinic-admin keygen).');
  const sending = parseSendOptions({ ...opts, send: true })!;
  let publicKey: openpgp.PublicKey;
  try {
    publicKey = (await openpgp.readKey({ armoredKey: readSmallText(opts.key, 'a key file') })).toPublic();
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`${opts.key} is not an OpenPGP key file (make one with: clinic-admin keygen).`);
  }
  const fingerprint = normalizeFingerprint(publicKey.getFingerprint());
  const password = await readXmppPassword(io, sending.as);
  const via = await withSession(
    sending.as,
    password,
    sending.target,
    async (conn, v) => {
      await publishPublicKey(conn, fingerprint, publicKey.write(), io.now());
      return v;
    },
    'nothing was published',
  );
  io.stdout(`Published the compliance key ${fingerprint} for ${sending.as} via ${via}.`);
  io.stdout('Add to the managed policy (docs/deploy):');
  io.stdout(`  "complianceAccount": "${sending.as}",`);
  io.stdout(`  "complianceKeyFingerprint": "${fingerprint}"`);
}
