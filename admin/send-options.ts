/**
 * The command-line options of sending (`--send --as <jid> [--server <host>[:<port>]]
 * [--tls starttls|direct] [--ca <pem-file>]`), checked before any passphrase is asked.
 */
import { BARE_JID_RE } from '../main/crypto/admin-command';
import { CliError, usageError } from './errors';
import { readSmallText } from './files';
import type { SendTarget } from './send';

/** A bare JID, lower case; `what` names the option in the message. */
export function parseBareJid(jid: string, what: string): string {
  const account = jid.trim().toLowerCase();
  if (account.includes('/'))
    throw usageError(`${what} "${jid}" has a resource (/…): give the bare JID, e.g. ${account.split('/')[0]}.`);
  if (!BARE_JID_RE.test(account) || account.length > 320)
    throw usageError(`${what} "${jid}" is not a bare JID (name@server, e.g. alice@clinic.example).`);
  return account;
}

/** `host`, `host:port`, `[v6]` or `[v6]:port`. */
const SERVER_RE = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9.-]+))(?::(\d{1,5}))?$/i;

function parseServer(text: string): { host: string; port: number | undefined } {
  const m = SERVER_RE.exec(text.trim());
  const port = m?.[3] === undefined ? undefined : Number(m[3]);
  if (!m || (port !== undefined && !(port >= 1 && port <= 65535)))
    throw usageError(`--server "${text}" is not <host> or <host>:<port> (e.g. xmpp.clinic.example:5222).`);
  return { host: (m[1] ?? m[2] ?? '').toLowerCase(), port };
}

const MAX_CA_BYTES = 256 * 1024;

function readCa(file: string): string {
  const pem = readSmallText(file, 'a CA certificate file', MAX_CA_BYTES);
  if (!pem.includes('-----BEGIN CERTIFICATE-----'))
    throw new CliError(`${file} is not a PEM certificate file (no -----BEGIN CERTIFICATE----- line).`);
  return pem;
}

export interface SendOptions {
  send: boolean | undefined;
  as: string | undefined;
  server: string | undefined;
  tls: string | undefined;
  ca: string | undefined;
}

/** null without --send (then none of the other sending options may be given). */
export function parseSendOptions(o: SendOptions): { as: string; target: SendTarget } | null {
  if (!o.send) {
    if (o.as !== undefined || o.server !== undefined || o.tls !== undefined || o.ca !== undefined)
      throw usageError('--as, --server, --tls and --ca go with --send.');
    return null;
  }
  if (o.as === undefined)
    throw usageError('--send needs --as <admin-jid>: the admin account the policy names (adminAccount).');
  const as = parseBareJid(o.as, '--as');
  if (o.tls !== undefined && o.tls !== 'starttls' && o.tls !== 'direct')
    throw usageError(`--tls must be starttls or direct (got "${o.tls}").`);
  const server = o.server === undefined ? { host: undefined, port: undefined } : parseServer(o.server);
  return {
    as,
    target: {
      host: server.host,
      port: server.port,
      tls: o.tls ?? 'starttls',
      caPems: o.ca === undefined ? [] : [readCa(o.ca)],
    },
  };
}
