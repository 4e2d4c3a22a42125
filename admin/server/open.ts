/**
 * The server adapter the command line names: `--prosody-config <file>` (the default, Prosody's
 * own file) or `--ejabberd-api <url>` (ejabberd's HTTP API on the server). Both implement
 * ServerAdmin (server-admin.ts); naming both is a usage error.
 */
import { usageError } from '../errors';
import { ejabberdAdmin } from './ejabberd';
import { DEFAULT_PROSODY_CONFIG, prosodyAdmin } from './prosody';
import type { ServerAdmin } from './server-admin';

export interface ServerOptions {
  prosodyConfig: string | undefined;
  ejabberdApi?: string | undefined;
}

export const SERVER_OPTIONS_USAGE = `  --prosody-config <file>  the Prosody configuration (default ${DEFAULT_PROSODY_CONFIG});
                           run on the Prosody server as root (sudo), like prosodyctl
  --ejabberd-api <url>     drive ejabberd instead, through its HTTP API on the server
                           (e.g. http://127.0.0.1:5281/api; deploy/ejabberd/README.md)`;

export async function openServer(o: ServerOptions): Promise<ServerAdmin> {
  if (o.ejabberdApi !== undefined && o.prosodyConfig !== undefined)
    throw usageError('Name one server: --prosody-config (Prosody) or --ejabberd-api (ejabberd), not both.');
  if (o.ejabberdApi !== undefined) return ejabberdAdmin(o.ejabberdApi);
  return prosodyAdmin(o.prosodyConfig ?? DEFAULT_PROSODY_CONFIG);
}
