/**
 * HTTPS for attachments with the XMPP connection's certificate trust (tls-trust.ts): Node's public
 * roots plus the clinic CA from the policy, never NODE_EXTRA_CA_CERTS, never
 * `rejectUnauthorized: false`; the certificate is checked against the URL's host name. `dialHost`
 * connects somewhere else than DNS says (the policy's server address, as the XMPP connection
 * dials it) while TLS and the Host header still name the URL's host. No redirects are followed.
 */
import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import { isCertificateError, trustOptions } from '../xmpp/transport/tls-trust';
import { TransferError } from './transfer-error';

export interface HttpsTrust {
  /** policy.trustedCaPem: the clinic's own CA, added to the public roots. */
  caPem: string | null;
  /** Connect to this host instead of resolving the URL's host name (TLS still checks that name). */
  dialHost?: string;
}

/** A silent server fails the transfer instead of hanging it. */
const SOCKET_TIMEOUT_MS = 30_000;

export function httpsUrl(address: string): URL {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new TransferError('not-https');
  }
  if (url.protocol !== 'https:' || url.username || url.password) throw new TransferError('not-https');
  return url;
}

export function openRequest(
  url: URL,
  method: 'GET' | 'PUT',
  headers: OutgoingHttpHeaders,
  trust: HttpsTrust,
): { req: ClientRequest; response: Promise<IncomingMessage> } {
  const req = request({
    ...trustOptions(url.hostname, [trust.caPem]),
    host: trust.dialHost ?? url.hostname,
    port: url.port || 443,
    path: `${url.pathname}${url.search}`,
    method,
    agent: false,
    headers: { ...headers, host: url.host },
    timeout: SOCKET_TIMEOUT_MS,
  });
  req.on('timeout', () => req.destroy(new TransferError('unreachable', 'no answer in time')));
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', (err) => reject(transferErrorOf(err)));
  });
  return { req, response };
}

export function transferErrorOf(err: unknown): Error {
  if (err instanceof TransferError) return err;
  if (isCertificateError(err)) return new TransferError('untrusted-certificate');
  const code = (err as { code?: unknown } | null)?.code;
  if ((err as { name?: unknown } | null)?.name === 'AbortError') return err as Error;
  return new TransferError('unreachable', typeof code === 'string' ? code : undefined);
}
