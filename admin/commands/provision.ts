/**
 * `clinic-admin provision <users.csv> [--prosody-config <file> | --ejabberd-api <url>]
 * [--passwords-out <file>]`: the
 * accounts and the shared-roster directory from users.csv (../users-csv.ts). The whole file is
 * checked first (exit 2, nothing changed); then missing accounts are created with random passwords,
 * written once to a mode-0600 file for hand-over, existing ones are left alone, and the directory
 * is replaced. The directory is written aside before the first account is made and put in place
 * only when every account is there, so a server failure (exit 1) leaves the old directory.
 * Last, the server's store setting (Prosody: WAL mode, server/prosody-journal.ts); one that cannot
 * be made is a warning, since the accounts and the directory are in place.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, rmSync } from 'node:fs';
import { CliError, usageError } from '../errors';
import { readSmallText, writeNewFile } from '../files';
import type { CliIo } from '../io';
import { openServer, SERVER_OPTIONS_USAGE, type ServerOptions } from '../server/open';
import type { ServerAdmin } from '../server/server-admin';
import { directoryGroups, parseUsersCsv } from '../users-csv';

const DEFAULT_PASSWORDS_OUT = 'initial-passwords.txt';

export const PROVISION_USAGE = `Usage: clinic-admin provision <users.csv> [--prosody-config <file> | --ejabberd-api <url>]
                              [--passwords-out <file>]

Creates the accounts listed in <users.csv> that do not exist yet and rewrites the clinic's
directory (shared-roster groups) from it. One person a line: jid,display name,role,team
(role: physician, nurse, reception, admin, staff or empty; team optional; # starts a comment).
Existing accounts are left alone. The whole file is checked before anything is changed.
Prosody applies the directory when restarted; ejabberd at once (each person's vCard name too).

${SERVER_OPTIONS_USAGE}
  --passwords-out <file>   where the new accounts' first passwords go, mode 0600, never
                           overwritten (default ./${DEFAULT_PASSWORDS_OUT}); hand them over, then
                           delete the file`;

export interface ProvisionOptions extends ServerOptions {
  csv: string | undefined;
  passwordsOut: string | undefined;
}

/** 18 random bytes: 24 characters of base64url, typed once by the person and then changed. */
const newPassword = () => randomBytes(18).toString('base64url');

export async function provision(io: CliIo, opts: ProvisionOptions): Promise<void> {
  if (!opts.csv) throw usageError('provision needs the list: clinic-admin provision <users.csv>.');
  const server = await openServer(opts);
  const people = parseUsersCsv(readSmallText(opts.csv, 'a users list', 4 * 1024 * 1024), opts.csv, server.domains);
  const passwordsOut = opts.passwordsOut ?? DEFAULT_PASSWORDS_OUT;
  const existing = new Set<string>();
  for (const p of people) if (await server.userExists(p.jid)) existing.add(p.jid);
  const missing = people.filter((p) => !existing.has(p.jid));
  if (missing.length > 0 && existsSync(passwordsOut))
    throw new CliError(
      `${passwordsOut} already exists (an earlier run's passwords?): hand them over and delete it, or choose another --passwords-out. Nothing was changed.`,
    );
  const groups = directoryGroups(people);
  const staged = await server.stageDirectory(groups);
  try {
    if (missing.length > 0) writeNewFile(passwordsOut, '', 0o600);
  } catch (err) {
    staged.discard();
    throw err;
  }
  let created = 0;
  try {
    for (const p of people) {
      const outcome = existing.has(p.jid) ? 'exists' : await createOne(server, p.jid, passwordsOut);
      if (outcome === 'created') created++;
      io.stdout(`${outcome} ${p.jid}`);
    }
  } catch (err) {
    staged.discard();
    if (created === 0 && missing.length > 0) rmSync(passwordsOut, { force: true }); // made above, still empty
    const kept =
      created > 0 ? ` ${created} account(s) were created before it; their passwords are in ${passwordsOut}.` : '';
    const message = err instanceof Error ? err.message : String(err);
    throw new CliError(`${message}${kept} The directory was not changed.`);
  }
  try {
    await staged.commit();
  } catch (err) {
    const kept = created > 0 ? ` ${created} account(s) were created; their passwords are in ${passwordsOut}.` : '';
    throw new CliError(`${err instanceof Error ? err.message : String(err)}${kept}`);
  }
  io.stdout(`${staged.written}: ${groups.length} groups (${staged.where}).`);
  io.stdout(staged.applyHint);
  if (server.prepareStore) {
    // The accounts and the directory are in place: a store setting that cannot be made is a warning.
    try {
      io.stdout(await server.prepareStore());
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      io.stderr(`warning: the server's store was left as it was (the accounts and the directory are done): ${why}`);
    }
  }
  io.stdout(
    created > 0
      ? `${created} created, ${people.length - created} existed. First passwords: ${passwordsOut} (mode 0600): hand them over, then delete it.`
      : `Nothing created: all ${people.length} accounts existed. No passwords file was written.`,
  );
}

async function createOne(server: ServerAdmin, jid: string, passwordsOut: string): Promise<'created' | 'exists'> {
  const password = newPassword();
  const outcome = await server.createUser(jid, password);
  if (outcome === 'created') appendFileSync(passwordsOut, `${jid} ${password}\n`);
  return outcome;
}
