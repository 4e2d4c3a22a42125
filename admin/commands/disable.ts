/**
 * `clinic-admin disable <jid> [--prosody-config <file> | --ejabberd-api <url>]`: the account can no longer sign in. A
 * workstation whose policy has wipeOnAccountDisabled treats that refusal at its next unlock as the
 * account disabled and erases the profile (docs/protocol.md › Admin commands). What "disabled"
 * means on each server is its adapter's (server/prosody.ts, server/ejabberd.ts; admin/README.md › disable).
 */
import { CliError, usageError } from '../errors';
import type { CliIo } from '../io';
import { parseBareJid } from '../send-options';
import { openServer, SERVER_OPTIONS_USAGE, type ServerOptions } from '../server/open';
import { NoSuchAccount, type DisableOutcome } from '../server/server-admin';

export const DISABLE_USAGE = `Usage: clinic-admin disable <jid> [--prosody-config <file> | --ejabberd-api <url>]

Stops the account <jid> (a bare JID: alice@clinic.example) from signing in. Workstations whose
policy has wipeOnAccountDisabled erase its profile the next time they are unlocked. The account's
password is replaced with a random one nobody sees; its archive, contacts and keys on the server are
kept, and setting a new password (prosodyctl passwd; ejabberd's change_password) enables it again.
On ejabberd its signed-in sessions are ended too.

${SERVER_OPTIONS_USAGE}`;

export async function disable(io: CliIo, opts: ServerOptions & { jid: string | undefined }): Promise<void> {
  if (!opts.jid) throw usageError('disable needs the account: clinic-admin disable <jid>.');
  const account = parseBareJid(opts.jid, 'The account');
  const server = await openServer(opts);
  const domain = account.split('@')[1] ?? '';
  const noSuch = () =>
    new CliError(
      `No such account: ${account} on ${server.description} (it serves ${server.domains.join(', ')}). Nothing was changed.`,
    );
  if (!server.domains.includes(domain)) throw noSuch();
  let outcome: DisableOutcome;
  try {
    outcome = await server.disableUser(account);
  } catch (err) {
    if (err instanceof NoSuchAccount) throw noSuch();
    throw err;
  }
  io.stdout(`Disabled ${account} on ${server.description}: ${outcome.done}`);
  io.stdout(`Signed-in sessions: ${outcome.sessions}`);
  io.stdout(`Workstations whose policy has wipeOnAccountDisabled erase this account's profile at their next unlock.`);
  io.stdout(`To enable it again: ${outcome.undo}`);
}
