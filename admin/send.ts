/**
 * Sends one signed admin command over the clinic's XMPP server (`clinic-admin wipe --send`).
 * The admin account signs in with the app's own hardened transport (TLS required, the clinic CA,
 * SCRAM only: main/xmpp/transport/connection.ts), sends ONE stanza (main/xmpp/admin-commands.ts)
 * and waits for the server's stream-management ack. No presence is sent: the server then routes
 * no messages to this session, only answers to what it sent.
 *
 * A message to a local account that does not exist is acked too (it was received) and then
 * bounced with an error of the same id (service-unavailable). The bounce is looked for until
 * `settle` resolves: by default a ping to the recipient's server, which that server answers only
 * after it has handled (and bounced) the message before it, so no fixed sleep is needed.
 */
import { randomBytes } from 'node:crypto';
import { xml, type XmlElement } from '@xmpp/client';
import type { ServerTls } from '../common/contract/domain';
import { AppError } from '../common/result';
import { adminCommandStanza } from '../main/xmpp/admin-commands';
import { createConnection, type XmppConnection } from '../main/xmpp/transport/connection';
import { CliError } from './errors';

export interface SendTarget {
  /** Where to connect; defaults: the admin JID's domain, 5222 (starttls) or 5223 (direct). */
  host?: string;
  port?: number;
  tls: ServerTls;
  caPems: string[];
}

export interface SendRequest {
  /** The admin account (bare JID) and its password. */
  as: string;
  password: string;
  /** The person's bare JID the command is for. */
  to: string;
  /** The signed command file's text. */
  text: string;
  target: SendTarget;
  /**
   * Resolves once a bounce would have arrived, with whether the server answered (default: a ping
   * round trip to the recipient's server). Tests and callers may pass their own wait.
   */
  settle?: (conn: XmppConnection, to: string) => Promise<boolean>;
  /** How long to wait for the server's ack before giving up (default 30 s). */
  ackTimeoutMs?: number;
}

const PING_TIMEOUT_MS = 5_000;

/** Any answer to the ping (a result or an error) means the server handled the message before it. */
async function pingRoundTrip(conn: XmppConnection, to: string): Promise<boolean> {
  const domain = to.split('@')[1] ?? to;
  const ping = xml('iq', { type: 'get', to: domain }, xml('ping', { xmlns: 'urn:xmpp:ping' }));
  try {
    await conn.iq(ping, PING_TIMEOUT_MS);
    return true;
  } catch (err) {
    // An error answer (StanzaError) also comes after the bounce; a timeout bounds the wait.
    return (err as { name?: string } | null)?.name === 'StanzaError';
  }
}

export function signInFailure(err: unknown, as: string, via: string): CliError {
  const e = err instanceof AppError ? err : null;
  // A SASL refusal carries its condition; "no SCRAM offered" is AUTH_FAILED without one.
  if (e?.code === 'AUTH_FAILED' && e.details?.condition !== undefined)
    return new CliError(`The XMPP server at ${via} refused the password of ${as}; nothing was sent.`);
  if (e?.code === 'AUTH_FAILED') return new CliError(`${e.message} (${via}); nothing was sent.`);
  if (e?.code === 'TLS_REQUIRED' && e.details?.reason === 'certificate')
    return new CliError(
      `TLS problem with ${via}: ${e.message} Give the clinic's CA certificate with --ca <pem-file>; ` +
        `nothing was sent.`,
    );
  if (e?.code === 'TLS_REQUIRED')
    return new CliError(`TLS problem with ${via}: the server offers no encrypted connection; nothing was sent.`);
  const cause = typeof e?.details?.cause === 'string' ? ` (${e.details.cause})` : '';
  return new CliError(`Cannot reach the XMPP server at ${via}${cause}; nothing was sent.`);
}

function bounceFailure(bounce: XmlElement, to: string): CliError {
  const condition = bounce.getChild('error')?.children.find((c): c is XmlElement => typeof c !== 'string')?.name;
  if (condition === 'service-unavailable' || condition === 'item-not-found')
    return new CliError(`No such account ${to} on the server (it answered ${condition}); nothing will be wiped.`);
  return new CliError(`The server returned the command for ${to} (${condition ?? 'error'}); nothing will be wiped.`);
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CliError(message)), ms);
  });
  return Promise.race([p, expired]).finally(() => clearTimeout(timer));
}

/** A short session of the CLI on the clinic server, signed in (openAdminSession). */
export interface AdminSession {
  conn: XmppConnection;
  /** `host:port` as dialled (`[v6]:port`), shown to the administrator. */
  via: string;
  /** The account's domain. */
  domain: string;
}

/**
 * Signs `as` in with the app's hardened transport (TLS required, the clinic CA, SCRAM only), no
 * presence; `onStanza` hears what arrives. A failed sign-in is a CliError saying `nothing` (what did
 * not happen: "nothing was sent", "nothing was changed"), the connection already stopped. The
 * caller stops the session.
 */
export async function openAdminSession(
  as: string,
  password: string,
  target: SendTarget,
  onStanza: (el: XmlElement) => void,
  nothing = 'nothing was sent',
): Promise<AdminSession> {
  const domain = as.split('@')[1] ?? '';
  const host = target.host ?? domain;
  const port = target.port ?? (target.tls === 'direct' ? 5223 : 5222);
  const via = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const conn = createConnection({
    jid: as,
    password,
    host,
    port,
    tls: target.tls,
    caPems: target.caPems,
    resource: `clinic-admin-${randomBytes(4).toString('hex')}`,
    // The transport logs metadata only; the CLI reports outcomes itself.
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    onState: () => {},
    onStanza,
    onReady: () => {},
  });
  try {
    await conn.start();
  } catch (err) {
    await conn.stop();
    throw new CliError(signInFailure(err, as, via).message.replace('nothing was sent', nothing));
  }
  return { conn, via, domain };
}

/**
 * Signs in as `as`, sends the command to `to`, waits for the ack and a possible bounce, signs out.
 * Resolves with the server address it went through (`host:port`, shown to the administrator).
 */
export async function sendAdminCommand(req: SendRequest): Promise<string> {
  const id = `clinic-admin-${randomBytes(9).toString('base64url')}`;
  const seen: { bounce: XmlElement | null } = { bounce: null };
  const { conn, via } = await openAdminSession(req.as, req.password, req.target, (el) => {
    if (el.name === 'message' && el.attrs.type === 'error' && el.attrs.id === id) seen.bounce = el;
  });
  try {
    const ackTimeoutMs = req.ackTimeoutMs ?? 30_000;
    try {
      await withTimeout(
        conn.sendAcked(adminCommandStanza(req.to, req.text, id)),
        ackTimeoutMs,
        `The server at ${via} did not confirm the command within ${ackTimeoutMs / 1000} s; it may not have arrived. Send it again.`,
      );
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new CliError(`The connection to ${via} dropped before the server confirmed the command. Send it again.`);
    }
    const smAcked = conn.client.streamManagement.enabled;
    const answered = await (req.settle ?? pingRoundTrip)(conn, req.to);
    if (seen.bounce) throw bounceFailure(seen.bounce, req.to);
    // Without stream management the "ack" above was only the socket write; an answer that follows
    // the message is then the server's confirmation (it handles one session's stanzas in order).
    if (!smAcked && !answered)
      throw new CliError(`The server at ${via} did not confirm the command; it may not have arrived. Send it again.`);
    return via;
  } finally {
    await conn.stop();
  }
}
