/**
 * Certificate trust for both TLS paths of @xmpp/client 0.14. The public roots Node bundles are
 * trusted; a clinic's own CA (policy.trustedCaPem) must be added, never replace them, and the
 * certificate is checked against the XMPP domain (not the host we dialled).
 *
 * Direct TLS: the socket parameters come from `client.socketParameters`, which we wrap per
 * client. STARTTLS: @xmpp/starttls creates its TLS socket internally, so the options reach it
 * through the one patch of that socket's connect (lib-patches.ts), registered for the plain TCP
 * socket being upgraded.
 */
import { createSecureContext, rootCertificates, type ConnectionOptions, type SecureContext } from 'node:tls';
import type { Client } from '@xmpp/client';
import { hookStarttls, patchTlsSocketConnect } from './lib-patches';

const MIN_VERSION = 'TLSv1.2';

/**
 * One TLS context per trusted list, shared by every connection that trusts it. Building one parses
 * Node's ~140 bundled roots: 23 ms of CPU on this machine, which each connection, reconnect and
 * file transfer paid again. Keyed by the clinic CAs (the roots are the same for the process); a
 * new policy's CA makes a new entry, and the few kept are dropped together past a handful.
 */
const contexts = new Map<string, SecureContext>();
const MAX_CONTEXTS = 8;

function sharedContext(ca: string[], extra: string[]): SecureContext {
  const key = extra.join('\0');
  let context = contexts.get(key);
  if (!context) {
    if (contexts.size >= MAX_CONTEXTS) contexts.clear();
    context = createSecureContext({ ca, minVersion: MIN_VERSION });
    contexts.set(key, context);
  }
  return context;
}

export function trustOptions(domain: string, extraCaPems: (string | null | undefined)[]): ConnectionOptions {
  const extra = extraCaPems.filter((p): p is string => typeof p === 'string' && p.trim().length > 0);
  // Always an explicit list: Node's implicit default also trusts NODE_EXTRA_CA_CERTS, an
  // environment variable any user can set, and a clinic CA must come only from the managed
  // policy (issue 10 item 10).
  const ca = [...rootCertificates, ...extra];
  return {
    servername: domain,
    rejectUnauthorized: true,
    minVersion: MIN_VERSION,
    ca,
    // What the handshake uses (tls.connect takes a given context over `ca` and `minVersion`): the
    // same list and minimum, built once (sharedContext).
    secureContext: sharedContext(ca, extra),
  };
}

/** Applies `options` to every TLS handshake `xmpp` makes (direct TLS and STARTTLS). */
export function installTlsTrust(xmpp: Client, options: ConnectionOptions): void {
  patchTlsSocketConnect();
  const base = xmpp.socketParameters.bind(xmpp);
  xmpp.socketParameters = (service: string) => {
    const params = base(service);
    return params && service.startsWith('xmpps:') ? { ...params, ...options } : params;
  };
  // The TCP socket exists once the connection reaches 'connect'; STARTTLS upgrades that socket.
  xmpp.on('connect', () => {
    if (xmpp.socket && typeof xmpp.socket === 'object') hookStarttls(xmpp.socket, { tlsOptions: options });
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
  return (
    typeof code === 'string' && (CERT_ERRORS.has(code) || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS'))
  );
}
