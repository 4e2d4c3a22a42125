/**
 * Certificate trust for both TLS paths of @xmpp/client 0.14. The public roots Node bundles are
 * trusted; a clinic's own CA (policy.trustedCaPem) must be added, never replace them, and the
 * certificate is checked against the XMPP domain (not the host we dialled).
 *
 * Direct TLS: the socket parameters come from `client.socketParameters`, which we wrap per
 * client. STARTTLS: @xmpp/starttls creates its TLS socket internally from the module-level
 * Socket class, so we wrap that class's connect once and look up per-connection options by
 * the plain TCP socket being upgraded (a WeakMap: nothing leaks between clients).
 */
import { rootCertificates, type ConnectionOptions } from 'node:tls';
import TlsSocket from '@xmpp/tls/lib/Socket.js';
import type { Client } from '@xmpp/client';

const upgradeOptions = new WeakMap<object, ConnectionOptions>();
let wrapped = false;

function wrapStarttlsSocket(): void {
  if (wrapped) return;
  wrapped = true;
  const original = TlsSocket.prototype.connect;
  TlsSocket.prototype.connect = function (this: unknown, ...args: unknown[]) {
    const first = args[0] as { socket?: object } | undefined;
    const extra = first?.socket ? upgradeOptions.get(first.socket) : undefined;
    return original.apply(this, extra ? [{ ...first, ...extra }, ...args.slice(1)] : args);
  };
}

export function trustOptions(domain: string, extraCaPems: (string | null | undefined)[]): ConnectionOptions {
  const extra = extraCaPems.filter((p): p is string => typeof p === 'string' && p.trim().length > 0);
  return {
    servername: domain,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    // Always an explicit list: Node's implicit default also trusts NODE_EXTRA_CA_CERTS, an
    // environment variable any user can set, and a clinic CA must come only from the managed
    // policy (issue 10 item 10).
    ca: [...rootCertificates, ...extra],
  };
}

/** Applies `options` to every TLS handshake `xmpp` makes (direct TLS and STARTTLS). */
export function installTlsTrust(xmpp: Client, options: ConnectionOptions): void {
  wrapStarttlsSocket();
  const base = xmpp.socketParameters.bind(xmpp);
  xmpp.socketParameters = (service: string) => {
    const params = base(service);
    return params && service.startsWith('xmpps:') ? { ...params, ...options } : params;
  };
  // The TCP socket exists once the connection reaches 'connect'; STARTTLS upgrades that socket.
  xmpp.on('connect', () => {
    if (xmpp.socket && typeof xmpp.socket === 'object') upgradeOptions.set(xmpp.socket, options);
  });
}

const CERT_ERRORS = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
]);

export function isCertificateError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (CERT_ERRORS.has(code) || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS'));
}
