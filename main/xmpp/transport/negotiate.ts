/**
 * One connect sequence (TCP connect, stream open, STARTTLS or direct TLS, SASL, bind) under the
 * negotiation watchdog (negotiation-watchdog.ts). Owns the watchdog of the sequence under way,
 * if any: every sign of life from the server feeds it, and a teardown aborts it.
 */
import type { Client } from '@xmpp/client';
import { AppError } from '../../../common/result';
import type { Clock } from '../../clock';
import type { Logger } from '../../log';
import { watchNegotiation, type NegotiationLimits, type NegotiationWatchdog } from './negotiation-watchdog';
import type { SocketGuard } from './socket-guard';

/** The library's own per-step wait once online: bounds the polite close (`</stream:stream>`). */
const CLOSE_STEP_MS = 2_000;

export interface Negotiator {
  /** Runs one connect sequence; resolves once the stream is online (or resumed). */
  run: () => Promise<void>;
  /** How many addresses the server has (a failed sequence moves to the next one). */
  addresses: number;
  /** The server showed a sign of life (bytes, a status change). */
  progress: () => void;
  /** A teardown ends the sequence under way now, with `err`. */
  abort: (err: Error) => void;
}

export interface NegotiatorDeps {
  xmpp: Client;
  /** The server's addresses in order (client-factory.ts serviceUrls): one sequence dials one of them. */
  services: string[];
  domain: string;
  limits: NegotiationLimits;
  clock: Clock;
  logger: Logger;
  sockets: SocketGuard;
  /** Closes the connection (teardown.ts): a sequence the watchdog ends is torn down before it throws. */
  teardown: () => Promise<void>;
}

/**
 * Connection.start() without its defect: its 'online' promise is observed even when open()
 * fails. Also ends on an XEP-0198 resumption (a reconnect), which sets 'online' silently.
 */
async function openStream({ xmpp, domain, sockets }: NegotiatorDeps, service: string): Promise<void> {
  sockets.dropStale();
  await xmpp.connect(service);
  let unlisten = () => {};
  const online = new Promise<void>((resolve, reject) => {
    const ok = () => (unlisten(), resolve());
    const fail = (err: unknown) => (unlisten(), reject(err));
    unlisten = () => (xmpp.off('online', ok), xmpp.off('error', fail), xmpp.streamManagement.off('resumed', ok));
    xmpp.once('online', ok);
    xmpp.once('error', fail);
    xmpp.streamManagement.once('resumed', ok);
  });
  // Observed here so an early failure is never unhandled; it is awaited (and thrown) below.
  online.catch(() => undefined);
  try {
    await xmpp.open({ domain });
  } catch (err) {
    unlisten();
    throw err;
  }
  await online;
}

export function createNegotiator(deps: NegotiatorDeps): Negotiator {
  const { xmpp, limits, clock, logger } = deps;
  /** The sequence under way, if any (a newer one replaces one still winding down). */
  let current: NegotiationWatchdog | null = null;
  /**
   * The address the next sequence dials. It stays while sequences succeed; one that fails for any
   * reason moves it to the next address (a cluster node that is down, frozen or refusing), so
   * the next attempt — the connection's retry or its reconnect — goes elsewhere.
   */
  let at = 0;

  /**
   * The library's per-step wait (2 s: the cause of issue 10 item 13) is raised past the ceiling
   * meanwhile, a backstop only, so that the watchdog decides; a sequence the watchdog ends is
   * torn down (its sockets destroyed) before the error is thrown.
   */
  async function run(): Promise<void> {
    const dog = watchNegotiation(limits, clock);
    current = dog;
    xmpp.timeout = limits.ceilingMs + limits.idleMs;
    const index = at;
    try {
      await Promise.race([openStream(deps, deps.services[index]!), dog.expired]);
    } catch (err) {
      if (deps.services.length > 1 && at === index) {
        at = (index + 1) % deps.services.length;
        // The index only: addresses are the clinic's, not needed to read the log.
        logger.info('xmpp: server address did not work; the next attempt tries another', {
          failed: index,
          next: at,
        });
      }
      const stall = dog.failure();
      // The steps' own errors follow from our teardown (TeardownError): the stall is the reason.
      // A TeardownError from abort() means stop() or a fatal error closed it: theirs is the reason.
      if (stall instanceof AppError) {
        logger.warn('xmpp: the server stopped answering during sign-in', { cause: String(stall.details?.cause) });
        await deps.teardown();
        throw stall;
      }
      throw err;
    } finally {
      dog.stop();
      if (current === dog) current = null;
      if (!current) xmpp.timeout = CLOSE_STEP_MS;
    }
  }

  return {
    run,
    addresses: deps.services.length,
    progress: () => current?.progress(),
    abort(err) {
      current?.abort(err);
      current = null;
    },
  };
}
