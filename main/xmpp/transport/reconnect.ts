/**
 * Our own reconnect, replacing the library's fixed 1 s: exponential backoff with equal jitter
 * (backoff.ts), so the clients of a clinic that lost its server do not all return in the same
 * second. One retry is pending at most; a failed retry that can still succeed schedules the next.
 */
import type { Client } from '@xmpp/client';
import { backoffMs } from '../../backoff';
import type { Clock } from '../../clock';
import type { Logger } from '../../log';
import { classifyError } from './classify-error';
import { isWanted, type StateMachine } from './connection-state';

export interface Reconnects {
  /** Arms the next retry unless one is pending or the connection is no longer wanted. */
  schedule: () => void;
  /** Drops a pending retry (stop). */
  cancel: () => void;
}

export interface ReconnectDeps {
  xmpp: Client;
  machine: StateMachine;
  clock: Clock;
  logger: Logger;
  baseMs: number;
  maxMs: number;
  /** One connect sequence (negotiate.ts). */
  negotiate: () => Promise<void>;
}

export function createReconnects({
  xmpp,
  machine,
  clock,
  logger,
  baseMs,
  maxMs,
  negotiate,
}: ReconnectDeps): Reconnects {
  let timer: unknown = null;
  // Only a stream the library has let go of is reconnected (not one that is already connecting).
  const idle = () => xmpp.status === 'disconnect' || xmpp.status === 'offline';

  const retry = () => {
    timer = null;
    if (!isWanted(machine.current()) || !idle()) return;
    negotiate().catch((err: unknown) => {
      const e = classifyError(err);
      const s = machine.current();
      logger.info('xmpp: reconnect attempt failed', { code: e.code, attempt: s.kind === 'connecting' ? s.attempt : 0 });
      if (e.code === 'NOT_CONNECTED' && idle()) schedule();
    });
  };

  function schedule(): void {
    const s = machine.current();
    if (timer !== null || s.kind !== 'connecting') return;
    timer = clock.setTimeout(retry, backoffMs(s.attempt, { baseMs, maxMs, maxExponent: 16, jitter: 'equal' }));
    machine.dispatch({ type: 'retry' });
  }

  return {
    schedule,
    cancel() {
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
    },
  };
}
