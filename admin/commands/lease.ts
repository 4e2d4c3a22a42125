/**
 * `clinic-admin lease show|revoke <jid> [--prosody-config <file> | --ejabberd-api <url>]`: the account's offline lease
 * (issue 15 item 3). Workstations whose policy sets offlineLeaseHours open a profile only with the
 * lease the server keeps for its account (docs/security-model.md › Offline lease). `revoke` removes
 * it: every workstation profile of that account then stops renewing, withdraws its cached copy
 * at its next connection, and cannot be opened once the copy it has expires (a laptop that stays
 * offline: at most offlineLeaseHours after its last connection). The person signs in again to get
 * a new profile; disabling the account (clinic-admin disable) stops that too.
 */
import { CliError, usageError } from '../errors';
import type { CliIo } from '../io';
import { parseBareJid } from '../send-options';
import { openServer, SERVER_OPTIONS_USAGE, type ServerOptions } from '../server/open';

export const LEASE_USAGE = `Usage: clinic-admin lease show <jid> [--prosody-config <file> | --ejabberd-api <url>]
       clinic-admin lease revoke <jid> [--prosody-config <file> | --ejabberd-api <url>]

The offline lease of the account <jid> (a bare JID: alice@clinic.example), for workstations whose
policy sets offlineLeaseHours. "show" says whether the server holds one. "revoke" removes it: the
account's workstation profiles can no longer renew their lease, withdraw their cached copy at their
next connection, and cannot be unlocked once it has expired. The person signs in again to make a
new profile on that computer.

${SERVER_OPTIONS_USAGE}`;

export async function lease(
  io: CliIo,
  opts: ServerOptions & { action: string | undefined; jid: string | undefined },
): Promise<void> {
  if (opts.action !== 'show' && opts.action !== 'revoke')
    throw usageError('lease needs what to do and the account: clinic-admin lease show|revoke <jid>.');
  if (!opts.jid) throw usageError(`lease ${opts.action} needs the account: clinic-admin lease ${opts.action} <jid>.`);
  const account = parseBareJid(opts.jid, 'The account');
  const server = await openServer(opts);
  const domain = account.split('@')[1] ?? '';
  if (!server.domains.includes(domain) || !(await server.userExists(account)))
    throw new CliError(
      `No such account: ${account} on ${server.description} (it serves ${server.domains.join(', ')}). Nothing was changed.`,
    );
  if (opts.action === 'show') {
    io.stdout(
      (await server.hasLease(account))
        ? `${account} has an offline lease on ${server.description}: its workstation profiles renew it at every connection.`
        : `${account} has no offline lease on ${server.description}: a workstation whose policy sets offlineLeaseHours creates one at its next connection, unless it already holds a profile made with a lease (a revoked one).`,
    );
    return;
  }
  const removed = await server.revokeLease(account);
  io.stdout(
    removed
      ? `Revoked the offline lease of ${account} on ${server.description}. Its workstation profiles stop renewing it, withdraw their cached copy at their next connection and cannot be unlocked once it has expired (at most offlineLeaseHours after their last connection). The person signs in again to make a new profile.`
      : `${account} had no offline lease on ${server.description}; nothing was changed.`,
  );
}
