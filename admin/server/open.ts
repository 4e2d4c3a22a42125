/**
 * The server adapter the command line names. Prosody is the only one today (`--prosody-config`);
 * an ejabberd adapter (ejabberdctl) adds its own option here and implements ServerAdmin.
 */
import { DEFAULT_PROSODY_CONFIG, prosodyAdmin } from './prosody';
import type { ServerAdmin } from './server-admin';

export interface ServerOptions {
  prosodyConfig: string | undefined;
}

export const SERVER_OPTIONS_USAGE = `  --prosody-config <file>  the Prosody configuration (default ${DEFAULT_PROSODY_CONFIG});
                           run on the Prosody server as root (sudo), like prosodyctl`;

export function openServer(o: ServerOptions): ServerAdmin {
  return prosodyAdmin(o.prosodyConfig ?? DEFAULT_PROSODY_CONFIG);
}
