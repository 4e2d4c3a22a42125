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
 * `cancel()` runs whenever the sequence ends (online, failed, ended by its watchdog or a teardown,
 * overtaken): it takes its listeners off the long-lived client, which would otherwise keep one set
 * per stalled sign-in until a stream comes online.
 */
function openStream(
  { xmpp, domain, sockets }: NegotiatorDeps,
  service: string,
): { done: Promise<void>; cancel(): void } {
  let unlisten = () => {};
  let cancelled = false;
  const done = (async () => {
    sockets.dropStale();
    await xmpp.connect(service);
    if (cancelled) return;
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
  })();
  return {
    done,
    cancel() {
      cancelled = true;
      unlisten();
    },
  };
}

/** A sequence under way: its watchdog, and how a newer sequence takes it over. */
interface Underway {
  dog: NegotiationWatchdog;
  overtakenBy(newer: Promise<void>): void;
}

export function createNegotiator(deps: NegotiatorDeps): Negotiator {
  const { xmpp, limits, clock, logger } = deps;
  /** The newest sequence under way, if any. */
  let current: Underway | null = null;
  /**
   * The address the next sequence dials. It stays while sequences succeed; one that fails for any
   * reason moves it to the next address (a cluster node that is down, frozen or refusing), so
   * the next attempt — the connection's retry or its reconnect — goes elsewhere.
   */
  let at = 0;

  /**
   * A new sequence can start while an older one still waits: the older one's stream dropped
   * before it came online, and the reconnect dials again (reconnect.ts) while the start() or retry
   * that ran the older one still awaits it. The new connect takes the older one's listeners off
   * the client (socket-guard.ts dropStale), so it could only end by its watchdog, 15 s later, whose
   * stall would then tear down the newer, working stream (a fresh session where a resumption was
   * due: the care-team room joined again). So the older one stops its watchdog and ends as the
   * newer one does: online when it comes online, or with its error.
   */
  function run(): Promise<void> {
    const previous = current;
    const sequence = runSequence();
    previous?.overtakenBy(sequence);
    return sequence;
  }

  /**
   * The library's per-step wait (2 s: the cause of issue 10 item 13) is raised past the ceiling
   * meanwhile, a backstop only, so that the watchdog decides; a sequence the watchdog ends is
   * torn down (its sockets destroyed) before the error is thrown.
   */
  async function runSequence(): Promise<void> {
    const dog = watchNegotiation(limits, clock);
    let handOver: (newer: Promise<void>) => void = () => undefined;
    const overtaken = new Promise<void>((resolve) => (handOver = resolve));
    let wasOvertaken = false;
    const me: Underway = {
      dog,
      overtakenBy(newer) {
        wasOvertaken = true;
        dog.stop();
        handOver(newer);
      },
    };
    current = me;
    xmpp.timeout = limits.ceilingMs + limits.idleMs;
    const index = at;
    const attempt = openStream(deps, deps.services[index]!);
    try {
      await Promise.race([attempt.done, dog.expired, overtaken]);
    } catch (err) {
      // The newer sequence's failure: it has moved the address and torn down what it must.
      if (wasOvertaken) throw err;
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
      attempt.cancel();
      dog.stop();
      if (current === me) current = null;
      if (!current) xmpp.timeout = CLOSE_STEP_MS;
    }
  }

  return {
    run,
    addresses: deps.services.length,
    progress: () => current?.dog.progress(),
    abort(err) {
      current?.dog.abort(err);
      current = null;
    },
  };
}
