/**
 * Browser side of the harness (bundled with esbuild as an IIFE and served as
 * /__harness/shim.js, before the app's module script). It builds `window.clinic` with the same
 * createClinicApi the Electron preload uses, over the harness WebSocket, so the renderer
 * cannot tell the two apart (ARCHITECTURE.md §3).
 *
 * The per-run token arrives in the URL fragment (#token=…): a fragment is never sent to a
 * server or in a Referer header. The shim keeps it in sessionStorage (this tab only) so a
 * reload still connects, and removes it from the visible URL.
 */
import { createClinicApi, type ClinicTransport } from '../../../common/client-api';
import type { ChannelName } from '../../../common/ipc-contract';
import type { Result } from '../../../common/result';

const STORAGE_KEY = 'clinic-harness-token';

function takeToken(): string {
  const hash = new URLSearchParams(location.hash.replace(/^#/, ''));
  const fromHash = hash.get('token');
  if (fromHash) {
    sessionStorage.setItem(STORAGE_KEY, fromHash);
    hash.delete('token');
    const rest = hash.toString();
    history.replaceState(history.state, '', location.pathname + location.search + (rest ? `#${rest}` : ''));
    return fromHash;
  }
  return sessionStorage.getItem(STORAGE_KEY) ?? '';
}

/**
 * Bytes over a JSON text socket: a Uint8Array anywhere in a payload travels as { [BYTES_TAG]: base64 }
 * (ws-bridge.ts decodes it before the router sees it, and encodes main's bytes the same way). The
 * Electron path (preload, ipcRenderer) carries bytes natively and never sees this. Keep the tag in
 * step with ws-bridge.ts.
 */
const BYTES_TAG = '$clinicBytes';

/** Only plain objects are walked (contract values are); anything else goes to JSON as it is. */
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && [Object.prototype, null].includes(Object.getPrototypeOf(v) as object | null);

function toWire(value: unknown): unknown {
  if (value instanceof Uint8Array) {
    let bin = '';
    // In slices: String.fromCharCode takes its bytes as arguments.
    for (let i = 0; i < value.length; i += 0x8000) bin += String.fromCharCode(...value.subarray(i, i + 0x8000));
    return { [BYTES_TAG]: btoa(bin) };
  }
  if (Array.isArray(value)) return value.map(toWire);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toWire(v)]));
  return value;
}

function fromWire(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromWire);
  if (isPlainObject(value)) {
    const tagged = value[BYTES_TAG];
    if (typeof tagged === 'string' && Object.keys(value).length === 1) {
      const bin = atob(tagged);
      const out = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
      return out;
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromWire(v)]));
  }
  return value;
}

const token = takeToken();
const wsUrl = `ws://${location.host}/__harness/ipc?token=${encodeURIComponent(token)}`;

type Pending = (r: Result<unknown>) => void;
const pending = new Map<number, Pending>();
const listeners = new Set<(event: string, payload: unknown) => void>();
let nextId = 1;
let socket: Promise<WebSocket> | null = null;

const lost = (): Result<never> => ({
  ok: false,
  error: { code: 'INTERNAL', message: 'The connection to the app service was lost. Reload the page.' },
});

function connect(): Promise<WebSocket> {
  socket ??= new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(wsUrl);
    ws.onopen = () => resolve(ws);
    ws.onmessage = (ev: MessageEvent) => {
      if (typeof ev.data !== 'string') return;
      let msg: { id?: number; result?: Result<unknown>; event?: string; payload?: unknown };
      try {
        msg = JSON.parse(ev.data) as typeof msg;
      } catch {
        return;
      }
      if (typeof msg.id === 'number' && msg.result) {
        pending.get(msg.id)?.(fromWire(msg.result) as Result<unknown>);
        pending.delete(msg.id);
      } else if (typeof msg.event === 'string') {
        const payload = fromWire(msg.payload);
        for (const l of listeners) l(msg.event, payload);
      }
    };
    ws.onclose = () => {
      socket = null;
      for (const p of pending.values()) p(lost());
      pending.clear();
      reject(new Error('harness connection closed'));
    };
  });
  return socket;
}

const transport: ClinicTransport = {
  async invoke(channel: ChannelName, payload: unknown): Promise<Result<unknown>> {
    let ws: WebSocket;
    try {
      ws = await connect();
    } catch {
      return lost();
    }
    const id = nextId++;
    return new Promise((resolve) => {
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, channel, payload: toWire(payload) }));
    });
  },
  subscribe(listener) {
    listeners.add(listener);
    // Events flow only over an open socket: open it now so none are missed. A failed open
    // needs no report here: the next invoke() reconnects or answers with lost().
    connect().catch(() => {});
    return () => {
      listeners.delete(listener);
    };
  },
};

Object.defineProperty(window, 'clinic', {
  value: createClinicApi(transport),
  writable: false,
  configurable: false,
  enumerable: true,
});
