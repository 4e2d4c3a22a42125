// Issue 11 item 1: the connection's lifecycle is one state value, changed only by `transition`.
// Every legal transition is listed here; every other (state, event) pair must leave the state as is.
import { describe, expect, it } from 'vitest';
import { AppError } from '../../common/result';
import {
  createStateMachine,
  isStopError,
  isWanted,
  transition,
  view,
  type ConnEvent,
  type ConnState,
  type StateView,
} from '../../main/xmpp/transport/connection-state';

const authFailed = new AppError('AUTH_FAILED', 'The server refused the user name or password.');
const tlsRequired = new AppError('TLS_REQUIRED', 'no TLS');

const offline: ConnState = { kind: 'offline' };
const connecting: ConnState = { kind: 'connecting', attempt: 2, reconnecting: false };
const reconnecting: ConnState = { kind: 'connecting', attempt: 1, reconnecting: true };
const online: ConnState = { kind: 'online' };
const stoppingOnline: ConnState = { kind: 'stopping', shown: { state: 'online', detail: null } };
const stoppingOffline: ConnState = { kind: 'stopping', shown: { state: 'offline', detail: null } };
const stoppingError: ConnState = { kind: 'stopping', shown: { state: 'error', detail: 'AUTH_FAILED' } };
const failed: ConnState = { kind: 'error', error: authFailed };

const STATES: Record<string, ConnState> = {
  offline,
  connecting,
  reconnecting,
  online,
  stoppingOnline,
  stoppingOffline,
  stoppingError,
  failed,
};
const EVENTS: Record<ConnEvent['type'], ConnEvent> = {
  start: { type: 'start' },
  ready: { type: 'ready' },
  disconnected: { type: 'disconnected' },
  retry: { type: 'retry' },
  fatal: { type: 'fatal', error: tlsRequired },
  stop: { type: 'stop' },
  stopped: { type: 'stopped' },
};

/** The legal transitions: [from, event, to]. */
const LEGAL: [string, ConnEvent['type'], ConnState][] = [
  ['offline', 'start', { kind: 'connecting', attempt: 0, reconnecting: false }],
  ['offline', 'stop', { kind: 'stopping', shown: { state: 'offline', detail: null } }],

  ['connecting', 'ready', { kind: 'online' }],
  ['connecting', 'disconnected', { kind: 'connecting', attempt: 2, reconnecting: true }],
  ['connecting', 'retry', { kind: 'connecting', attempt: 3, reconnecting: false }],
  ['connecting', 'fatal', { kind: 'error', error: tlsRequired }],
  ['connecting', 'stop', { kind: 'stopping', shown: { state: 'connecting', detail: null } }],

  ['reconnecting', 'ready', { kind: 'online' }],
  ['reconnecting', 'retry', { kind: 'connecting', attempt: 2, reconnecting: true }],
  ['reconnecting', 'fatal', { kind: 'error', error: tlsRequired }],
  ['reconnecting', 'stop', { kind: 'stopping', shown: { state: 'connecting', detail: 'reconnecting' } }],

  // A dropped stream starts the backoff over: it was usable, so the server is back.
  ['online', 'disconnected', { kind: 'connecting', attempt: 0, reconnecting: true }],
  ['online', 'fatal', { kind: 'error', error: tlsRequired }],
  ['online', 'stop', { kind: 'stopping', shown: { state: 'online', detail: null } }],

  ['stoppingOnline', 'start', { kind: 'connecting', attempt: 0, reconnecting: false }],
  ['stoppingOnline', 'disconnected', { kind: 'stopping', shown: { state: 'offline', detail: null } }],
  ['stoppingOnline', 'stopped', { kind: 'offline' }],
  ['stoppingOffline', 'start', { kind: 'connecting', attempt: 0, reconnecting: false }],
  ['stoppingOffline', 'stopped', { kind: 'offline' }],
  ['stoppingError', 'start', { kind: 'connecting', attempt: 0, reconnecting: false }],
  ['stoppingError', 'stopped', { kind: 'offline' }],

  ['failed', 'start', { kind: 'connecting', attempt: 0, reconnecting: false }],
  ['failed', 'stop', { kind: 'stopping', shown: { state: 'error', detail: 'AUTH_FAILED' } }],
];

describe('connection state transitions', () => {
  for (const [from, event, to] of LEGAL) {
    it(`${from} --${event}--> ${to.kind}`, () => {
      const before = JSON.stringify(STATES[from]);
      expect(transition(STATES[from]!, EVENTS[event])).toEqual(to);
      // Pure: the old state value is never modified.
      expect(JSON.stringify(STATES[from])).toBe(before);
    });
  }

  it('ignores every other event: the same state value comes back', () => {
    let ignored = 0;
    for (const [from, s] of Object.entries(STATES)) {
      for (const [type, e] of Object.entries(EVENTS)) {
        if (LEGAL.some(([f, t]) => f === from && t === type)) continue;
        expect(transition(s, e), `${from} --${type}-->`).toBe(s);
        ignored += 1;
      }
    }
    // 8 states × 7 events, minus the legal ones listed above.
    expect(ignored).toBe(8 * 7 - LEGAL.length);
  });

  it('reports what state() shows for each state', () => {
    const shown: Record<string, StateView> = Object.fromEntries(Object.entries(STATES).map(([k, s]) => [k, view(s)]));
    expect(shown).toEqual({
      offline: { state: 'offline', detail: null },
      connecting: { state: 'connecting', detail: null },
      reconnecting: { state: 'connecting', detail: 'reconnecting' },
      online: { state: 'online', detail: null },
      stoppingOnline: { state: 'online', detail: null },
      stoppingOffline: { state: 'offline', detail: null },
      stoppingError: { state: 'error', detail: 'AUTH_FAILED' },
      failed: { state: 'error', detail: 'AUTH_FAILED' },
    });
    expect(
      Object.entries(STATES)
        .filter(([, s]) => isWanted(s))
        .map(([k]) => k),
    ).toEqual(['connecting', 'reconnecting', 'online']);
  });
});

describe('connection state machine', () => {
  it('tells the owner each change of what state() shows, once, and nothing else', () => {
    const seen: StateView[] = [];
    const m = createStateMachine((v) => seen.push(v));
    for (const type of [
      'start',
      'retry',
      'retry',
      'start',
      'disconnected',
      'disconnected',
      'ready',
      'ready',
      'stop',
      'disconnected',
      'stopped',
      'stopped',
    ] as const) {
      m.dispatch(EVENTS[type]);
    }
    expect(seen).toEqual([
      { state: 'connecting', detail: null },
      { state: 'connecting', detail: 'reconnecting' },
      { state: 'online', detail: null },
      { state: 'offline', detail: null },
    ]);
    expect(m.current()).toEqual({ kind: 'offline' });
  });

  it('untilOnline resolves once online', async () => {
    const m = createStateMachine(() => {});
    m.dispatch(EVENTS.start);
    const online = m.untilOnline();
    m.dispatch(EVENTS.disconnected);
    m.dispatch(EVENTS.ready);
    await expect(online).resolves.toBeUndefined();
  });

  it('untilOnline rejects with the error that made retrying pointless', async () => {
    const m = createStateMachine(() => {});
    m.dispatch(EVENTS.start);
    const online = m.untilOnline();
    m.dispatch({ type: 'fatal', error: authFailed });
    await expect(online).rejects.toBe(authFailed);
  });

  it('untilOnline rejects with a stop, not a connection error, when stop() overtakes it', async () => {
    const m = createStateMachine(() => {});
    m.dispatch(EVENTS.start);
    const online = m.untilOnline();
    m.dispatch(EVENTS.stop);
    const err: unknown = await online.then(
      () => 'resolved',
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'NOT_CONNECTED', message: 'Messaging was stopped.' });
    expect(isStopError(err)).toBe(true);
    expect(isStopError(new AppError('NOT_CONNECTED', 'Messaging was stopped.'))).toBe(false);
  });
});
