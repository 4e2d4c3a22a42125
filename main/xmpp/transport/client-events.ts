/**
 * What the library reports, turned into state-machine events (connection-state.ts) and calls to
 * the connection's owner: the stream became usable, a stanza arrived, a fatal error, a disconnect.
 */
import type { Client, XmlElement } from '@xmpp/client';
import type { AppError } from '../../../common/result';
import { errorName, type Logger } from '../../log';
import { classifyError, isAccountRefusal } from './classify-error';
import type { StateMachine } from './connection-state';
import { TeardownError } from './socket-guard';
import type { SmTracker } from './stream-management';

export interface ClientEventDeps {
  xmpp: Client;
  sm: SmTracker;
  machine: StateMachine;
  logger: Logger;
  onStanza: (el: XmlElement) => void;
  onReady: (resumed: boolean) => void;
  /** Closes the connection after a fatal error (teardown.ts). */
  close: () => Promise<void>;
  /** The stream dropped while wanted: arm the next reconnect (reconnect.ts). */
  reconnect: () => void;
}

/**
 * Retrying cannot help with these: the connection stops and says why. A SASL failure counts only
 * when it refuses the account (isAccountRefusal): a transient one (temporary-auth-failure, as a
 * clustered node says while it shuts down) is retried like a network error, and the next attempt
 * reaches another node or the same one back.
 */
export const isFatal = (e: AppError): boolean => isAccountRefusal(e) || e.code === 'TLS_REQUIRED';

export function wireClientEvents({
  xmpp,
  sm,
  machine,
  logger,
  onStanza,
  onReady,
  close,
  reconnect,
}: ClientEventDeps): void {
  const becomeReady = async (resumed: boolean) => {
    // Stream-management defect 2: hold everything until <enabled/> so we never over-acknowledge.
    const enabled = await sm.waitEnabled(10_000);
    if (xmpp.status !== 'online') return;
    if (!enabled) logger.warn('xmpp: stream management not enabled; acks fall back to write completion');
    machine.dispatch({ type: 'ready' });
    try {
      onReady(resumed);
    } catch (err) {
      logger.error('xmpp: onReady failed', { error: errorName(err) });
    }
  };
  // becomeReady never rejects (onReady's errors are caught and logged inside).
  xmpp.on('online', () => void becomeReady(false));
  // As above: never rejects.
  xmpp.streamManagement.on('resumed', () => void becomeReady(true));

  xmpp.on('stanza', (el: XmlElement) => {
    try {
      onStanza(el);
    } catch (err) {
      // A handler bug must never take the connection down (hostile input is handled inside).
      logger.error('xmpp: stanza handler threw', { error: errorName(err), stanza: el.name });
    }
  });

  xmpp.on('error', (err: unknown) => {
    if (err instanceof TeardownError) return; // our own stop(), not a network problem
    const e = classifyError(err);
    // The SASL condition (a protocol name, RFC 6120 §6.5) tells IT a refusal from a server fault.
    const condition = typeof e.details?.condition === 'string' ? e.details.condition : undefined;
    logger.warn('xmpp: connection error', { code: e.code, ...(condition ? { condition } : {}) });
    if (!isFatal(e)) return;
    machine.dispatch({ type: 'fatal', error: e });
    // Teardown does not reject (socket errors are handled by socket-guard.ts); a start() waiting joins it.
    void close();
  });

  xmpp.on('disconnect', () => {
    machine.dispatch({ type: 'disconnected' });
    if (machine.current().kind === 'connecting') reconnect();
  });
}
