/**
 * createClinicApi (common/client-api.ts) builds `window.clinic` from the contract for both
 * preload and the harness shim: one namespace per domain, functions only, nothing of the
 * transport reachable (STYLE.md: never expose ipcRenderer or process.env).
 */
import { describe, expect, it, vi } from 'vitest';
import { createClinicApi, type ClinicTransport } from '../../common/client-api';
import { channelNames, EVENT_TRANSPORT_CHANNEL } from '../../common/ipc-contract';

function recordingTransport() {
  let emit: ((event: string, payload: unknown) => void) | null = null;
  const unsubscribe = vi.fn();
  const transport: ClinicTransport & { secret: string } = {
    secret: 'transport-internal',
    invoke: vi.fn(async () => ({ ok: true as const, value: 'answer' })),
    subscribe: vi.fn((listener) => {
      emit = listener;
      return unsubscribe;
    }),
  };
  return { transport, emit: (e: string, p: unknown) => emit?.(e, p), unsubscribe };
}

/** Every value reachable from the api, with its path. */
function walk(value: unknown, path = 'clinic', out: [string, unknown][] = []): [string, unknown][] {
  out.push([path, value]);
  if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`, out);
  return out;
}

describe('createClinicApi', () => {
  it('has one namespace per contract domain and one method per channel', () => {
    const api = createClinicApi(recordingTransport().transport) as unknown as Record<string, Record<string, unknown>>;
    const namespaces = [...new Set(channelNames.map((c) => c.split(':')[0]!))].sort();
    expect(
      Object.keys(api)
        .filter((k) => k !== 'on')
        .sort(),
    ).toEqual(namespaces);
    for (const channel of channelNames) {
      const [ns, method] = channel.split(':') as [string, string];
      expect(typeof api[ns]![method], channel).toBe('function');
    }
    const methodCount = Object.entries(api).reduce((n, [k, v]) => n + (k === 'on' ? 0 : Object.keys(v).length), 0);
    expect(methodCount).toBe(channelNames.length);
  });

  it('exposes functions only: every leaf is a function, nothing of the transport is reachable', () => {
    const { transport } = recordingTransport();
    const api = createClinicApi(transport);
    for (const [path, value] of walk(api)) {
      if (path === 'clinic' || path.split('.').length === 2) {
        expect(typeof value === 'function' || (typeof value === 'object' && value !== null), path).toBe(true);
        if (typeof value === 'object') expect(Object.getPrototypeOf(value), path).toBe(Object.prototype);
      } else expect(typeof value, path).toBe('function');
      expect(value, path).not.toBe(transport);
      expect(value, path).not.toBe(transport.invoke);
    }
    expect(JSON.stringify(walk(api).map(([p]) => p))).not.toMatch(/invoke|subscribe|transport|ipcRenderer|process|env/);
  });

  it('is frozen, so a page script cannot swap a method', () => {
    const api = createClinicApi(recordingTransport().transport) as unknown as Record<string, Record<string, unknown>>;
    expect(Object.isFrozen(api)).toBe(true);
    expect(Object.isFrozen(api.messages)).toBe(true);
    expect(() => {
      'use strict';
      api.messages!.send = () => 'hijacked';
    }).toThrow(TypeError);
  });

  it('calls the transport with the contract channel name and the input (null when omitted)', async () => {
    const { transport } = recordingTransport();
    const api = createClinicApi(transport);
    expect(await api.messages.send({ conversationId: 'c1', body: 'hi' })).toEqual({ ok: true, value: 'answer' });
    expect(transport.invoke).toHaveBeenLastCalledWith('messages:send', { conversationId: 'c1', body: 'hi' });
    await api.app.info();
    expect(transport.invoke).toHaveBeenLastCalledWith('app:info', null);
  });

  it('subscribes once, delivers each event only to its listeners, and unsubscribes', () => {
    const { transport, emit } = recordingTransport();
    const api = createClinicApi(transport);
    expect(transport.subscribe).not.toHaveBeenCalled();
    const locked = vi.fn();
    const state = vi.fn();
    const off = api.on('session:locked', locked);
    api.on('connection:state', state);
    expect(transport.subscribe).toHaveBeenCalledTimes(1);
    emit('session:locked', { reason: 'idle' });
    expect(locked).toHaveBeenCalledWith({ reason: 'idle' });
    expect(state).not.toHaveBeenCalled();
    off();
    emit('session:locked', { reason: 'manual' });
    expect(locked).toHaveBeenCalledTimes(1);
  });

  it('refuses to subscribe to an event outside the contract', () => {
    const api = createClinicApi(recordingTransport().transport);
    expect(() => api.on('no:such-event' as 'session:locked', () => {})).toThrow(/unknown event/);
    expect(EVENT_TRANSPORT_CHANNEL).toBe('clinic:event');
  });
});
