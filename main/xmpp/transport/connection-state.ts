/**
 * The connection's lifecycle as one value (issue 11 item 1): what the connection wants, whether
 * it is usable, and what state() reports all follow from it, and every change goes through
 * `transition`, a pure function. An event that makes no sense in the current state is ignored
 * (the same state comes back): late library events after a stop, a second start(), a fatal error
 * reported while stopping.
 */
import type { ConnectionState } from '../../../common/contract/domain';
import { AppError } from '../../../common/result';

/** What state() reports and onState receives. */
export interface StateView {
  state: ConnectionState;
  detail: string | null;
}

export type ConnState =
  /** Not wanted: never started, or stopped. */
  | { kind: 'offline' }
  /**
   * Wanted, not usable yet (or no longer). `attempt`: reconnects scheduled since the stream was
   * last usable (the backoff exponent). `reconnecting`: the stream dropped and we retry.
   */
  | { kind: 'connecting'; attempt: number; reconnecting: boolean }
  /** The stream is usable: stream management enabled (or given up on), sends allowed. */
  | { kind: 'online' }
  /**
   * stop() is closing the connection. `shown`: what state() reports meanwhile (as before the
   * stop, until the library reports the disconnect; an error stays shown until the stop is done).
   */
  | { kind: 'stopping'; shown: StateView }
  /** Retrying cannot help (wrong password, untrusted certificate, no TLS): stopped, says why. */
  | { kind: 'error'; error: AppError };

export type ConnEvent =
  | { type: 'start' }
  /** The stream became usable (SM enabled, or a resumption). */
  | { type: 'ready' }
  /** The library lost the stream (its 'disconnect'). */
  | { type: 'disconnected' }
  /** A reconnect was scheduled: the next one waits longer. */
  | { type: 'retry' }
  | { type: 'fatal'; error: AppError }
  | { type: 'stop' }
  /** stop() finished closing. */
  | { type: 'stopped' };

const OFFLINE: StateView = { state: 'offline', detail: null };

const INITIAL_STATE: ConnState = { kind: 'offline' };

export function view(s: ConnState): StateView {
  switch (s.kind) {
    case 'offline':
      return { ...OFFLINE };
    case 'connecting':
      return { state: 'connecting', detail: s.reconnecting ? 'reconnecting' : null };
    case 'online':
      return { state: 'online', detail: null };
    case 'stopping':
      return { ...s.shown };
    case 'error':
      return { state: 'error', detail: s.error.code };
  }
}

/** Wanted: started and neither stopped nor failed for good. */
export const isWanted = (s: ConnState): boolean => s.kind === 'connecting' || s.kind === 'online';

/** The next state; `s` itself when `e` is not legal in `s` (ignored). */
export function transition(s: ConnState, e: ConnEvent): ConnState {
  switch (e.type) {
    case 'start':
      return isWanted(s) ? s : { kind: 'connecting', attempt: 0, reconnecting: false };
    case 'ready':
      return s.kind === 'connecting' ? { kind: 'online' } : s;
    case 'disconnected':
      if (s.kind === 'online') return { kind: 'connecting', attempt: 0, reconnecting: true };
      if (s.kind === 'connecting') return s.reconnecting ? s : { ...s, reconnecting: true };
      // The socket closed under stop(): offline already, unless an error is what stop() will clear.
      if (s.kind === 'stopping' && s.shown.state !== 'offline' && s.shown.state !== 'error')
        return { kind: 'stopping', shown: OFFLINE };
      return s;
    case 'retry':
      return s.kind === 'connecting' ? { ...s, attempt: s.attempt + 1 } : s;
    case 'fatal':
      return isWanted(s) ? { kind: 'error', error: e.error } : s;
    case 'stop':
      return s.kind === 'stopping' ? s : { kind: 'stopping', shown: view(s) };
    case 'stopped':
      return s.kind === 'stopping' ? { kind: 'offline' } : s;
  }
}

const stopErrors = new WeakSet<object>();

/** What a start() overtaken by stop() rejects with. */
export function stoppedError(): AppError {
  const e = new AppError('NOT_CONNECTED', 'Messaging was stopped.');
  stopErrors.add(e);
  return e;
}

/** `err` is a stoppedError(): a stop, not a connection problem. */
export const isStopError = (err: unknown): boolean => typeof err === 'object' && err !== null && stopErrors.has(err);

export interface StateMachine {
  current(): ConnState;
  dispatch(e: ConnEvent): void;
  /** Resolves once online; rejects with the state's error ('error'), or a stoppedError() when a stop overtakes it. */
  untilOnline(): Promise<void>;
}

/** Holds the one state value; `onView` hears every change of what state() reports (and the state behind it). */
export function createStateMachine(onView: (v: StateView, s: ConnState) => void): StateMachine {
  let state = INITIAL_STATE;
  const waiters = new Set<(s: ConnState) => boolean>();
  return {
    current: () => state,
    dispatch(e) {
      const next = transition(state, e);
      if (next === state) return;
      const before = view(state);
      state = next;
      const after = view(next);
      if (after.state !== before.state || after.detail !== before.detail) onView(after, next);
      for (const settle of [...waiters]) if (settle(next)) waiters.delete(settle);
    },
    untilOnline() {
      return new Promise<void>((resolve, reject) => {
        const settle = (s: ConnState): boolean => {
          if (s.kind === 'online') resolve();
          else if (s.kind === 'error') reject(s.error);
          else if (s.kind === 'stopping' || s.kind === 'offline') reject(stoppedError());
          else return false;
          return true;
        };
        if (!settle(state)) waiters.add(settle);
      });
    },
  };
}
