/**
 * Builds the @xmpp/client instance of one connection with every safeguard wired in before its
 * first connect: TLS required and certificate trust (tls-trust.ts), SCRAM only, the socket guard
 * (socket-guard.ts), stream management with both library defects handled (stream-management.ts),
 * the library's own reconnect off (connection.ts has its own backoff).
 */
import { client, type Client } from '@xmpp/client';
import type { ServerConfig } from '../../../common/contract/domain';
import { AppError } from '../../../common/result';
import type { Clock } from '../../clock';
import type { Logger } from '../../log';
import {
  closeOnlyOwnStream,
  dropStaleSaslResponses,
  fastScramSaltedPassword,
  observeEarlyIqErrors,
  queueStanzasAsWritten,
} from './lib-patches';
import { guardSockets, type SocketGuard } from './socket-guard';
import { trackStreamManagement, type SmTracker } from './stream-management';
import { installTlsTrust, trustOptions } from './tls-trust';

export interface ClientParams extends ServerConfig {
  jid: string;
  password: string;
  caPems: (string | null | undefined)[];
  resource?: string;
  logger: Logger;
  clock: Clock;
  /** A sign of life from the server (bytes, a status change): feeds the negotiation watchdog. */
  onProgress: () => void;
  /** Benchmarks: how long this thread took over each chunk from the server (parsing, stanza handlers). */
  onInboundData?: (ms: number, bytes: number) => void;
}

export interface XmppClientParts {
  xmpp: Client;
  /**
   * `xmpp://host:port` or `xmpps://host:port` (direct TLS): the configured address first, then its
   * alternates in their order (ServerConfig.alternates).
   */
  services: string[];
  domain: string;
  sockets: SocketGuard;
  sm: SmTracker;
}

/** The addresses to dial, in order: the configured host (else the domain), then each alternate. */
export function serviceUrls(p: Pick<ServerConfig, 'host' | 'port' | 'tls' | 'alternates'>, domain: string): string[] {
  const direct = p.tls === 'direct';
  const scheme = direct ? 'xmpps' : 'xmpp';
  const defaultPort = direct ? 5223 : 5222;
  const first = `${scheme}://${p.host ?? domain}:${p.port ?? defaultPort}`;
  const rest = (p.alternates ?? []).map((a) => {
    // `host`, `host:port`, `[v6]`, `[v6]:port` (checked by the ServerConfig schema).
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(a);
    return m ? `${scheme}://${m[1]}:${m[2] ?? defaultPort}` : null;
  });
  return [...new Set([first, ...rest.filter((u): u is string => u !== null)])];
}

export function createXmppClient(p: ClientParams): XmppClientParts {
  const [local, domain] = p.jid.split('@') as [string, string];
  const services = serviceUrls(p, domain);
  const service = services[0]!;

  const xmpp = client({
    service,
    domain,
    resource: p.resource,
    credentials: async (authenticate, mechanisms, _fast, entity) => {
      // RFC 6120 §6: credentials only ever travel inside TLS; SCRAM only (XEP-0474-style downgrade refusal).
      if (!entity.isSecure())
        throw new AppError(
          'TLS_REQUIRED',
          'The server does not offer an encrypted (TLS) connection. Nothing was sent.',
        );
      if (!mechanisms.includes('SCRAM-SHA-1'))
        throw new AppError('AUTH_FAILED', 'The server offers no SCRAM sign-in; refusing weaker mechanisms.');
      await authenticate({ username: local, password: p.password }, 'SCRAM-SHA-1');
    },
  });
  installTlsTrust(xmpp, trustOptions(domain, p.caPems));
  const sockets = guardSockets(xmpp, p.logger, p.onProgress, p.clock, p.onInboundData);
  // A status change during negotiation follows an answer of the server (TCP accepted, TLS
  // handshake done, stream header, SASL success…): progress too.
  xmpp.on('status', () => p.onProgress());
  // Chat is many small writes: without TCP_NODELAY, Nagle + delayed ACK adds ~40 ms per message.
  xmpp.on('connect', () => {
    type NoDelay = { setNoDelay?: (on: boolean) => void; socket?: { setNoDelay?: (on: boolean) => void } };
    const sock = xmpp.socket as NoDelay | null;
    sock?.setNoDelay?.(true);
    sock?.socket?.setNoDelay?.(true);
  });
  // Our own backoff replaces the library's fixed 1 s reconnect; stopping it first also means stop()
  // cannot be followed by a surprise re-login (PROTOCOL.md, ejabberd section).
  xmpp.reconnect.stop();
  queueStanzasAsWritten(xmpp);
  closeOnlyOwnStream(xmpp);
  dropStaleSaslResponses(xmpp);
  fastScramSaltedPassword();
  const sm = trackStreamManagement(xmpp, p.clock);
  observeEarlyIqErrors(xmpp);
  xmpp.streamManagement.requestAckInterval = 15_000;
  xmpp.streamManagement.timeout = 20_000;
  // Ask for the ack soon after a run of sends: a message counts as sent only once acked.
  xmpp.streamManagement.requestAckDebounce = 10;
  return { xmpp, services, domain, sockets, sm };
}
