/**
 * The harness's IPC transport: a loopback WebSocket that carries exactly what Electron's
 * ipcMain/webContents.send carry in the real app (ARCHITECTURE.md §3), into the same router.
 *
 * Anything on the machine can reach a loopback port, so a connection is accepted only with
 * the per-run random token (compared in constant time) AND the harness page's own Origin
 * (a foreign web page in the same browser sends its own Origin and cannot forge it).
 *
 * Wire format (JSON text frames):
 *   page → harness  { id: number, channel: string, payload: unknown }
 *   harness → page  { id, result: Result }            answer to a request
 *                   { event: string, payload: unknown } a main → renderer event
 * Bytes (a Uint8Array anywhere in a payload, result or event: attachments:send's file,
 * attachments:read's answer) travel as { $clinicBytes: base64 }, decoded on the other side
 * (toWire / fromWire here and in shim.ts). Electron's IPC carries them natively.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { fail } from '../../../common/result';
import type { EventBus } from '../../../main/events';
import type { Router } from '../../../main/ipc/router';
import { IPC_PATH } from './static-server';

/** Same length digests, so timingSafeEqual never throws and length leaks nothing. */
export function tokenMatches(expected: string, given: string | null): boolean {
  if (given === null) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

/**
 * Large enough for any contract payload, including a file for attachments:send up to the default
 * policy's 50 MB (base64 adds a third); still refuses floods. A larger file needs the Electron app.
 */
const MAX_FRAME = 72 * 1024 * 1024;

/** The tag of bytes in a JSON frame: { [BYTES_TAG]: base64 }. Keep in step with shim.ts. */
const BYTES_TAG = '$clinicBytes';

/** Only plain objects are walked (contract values are); anything else goes to JSON as it is. */
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && [Object.prototype, null].includes(Object.getPrototypeOf(v) as object | null);

/** Main's values for the page: every Uint8Array (or Buffer) becomes a tagged base64 string. */
export function toWire(value: unknown): unknown {
  if (value instanceof Uint8Array)
    return { [BYTES_TAG]: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (Array.isArray(value)) return value.map(toWire);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toWire(v)]));
  return value;
}

/** The page's payload for the router: every tagged base64 string becomes a Uint8Array again. */
export function fromWire(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromWire);
  if (isPlainObject(value)) {
    const tagged = value[BYTES_TAG];
    if (typeof tagged === 'string' && Object.keys(value).length === 1) {
      const buf = Buffer.from(tagged, 'base64');
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromWire(v)]));
  }
  return value;
}

export interface BridgeOptions {
  server: Server;
  origin: string;
  token: string;
  router: Router;
  events: EventBus;
}

export interface Bridge {
  /** Open connections (for tests). */
  clients(): number;
  close(): Promise<void>;
}

export function attachBridge(opts: BridgeOptions): Bridge {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME });

  const refuse = (socket: Duplex, status: number, text: string): void => {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = new URL(req.url ?? '/', opts.origin);
    if (url.pathname !== IPC_PATH) return refuse(socket, 404, 'Not Found');
    if (req.headers.origin !== opts.origin) return refuse(socket, 403, 'Forbidden');
    if (!tokenMatches(opts.token, url.searchParams.get('token'))) return refuse(socket, 401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  opts.server.on('upgrade', onUpgrade);

  wss.on('connection', (ws: WebSocket) => {
    const unsubscribe = opts.events.subscribe((event, payload) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event, payload: toWire(payload) }));
    });
    ws.on('close', unsubscribe);
    ws.on('error', () => ws.terminate());
    ws.on('message', (data, isBinary) => {
      // answer() turns every failure into an error result or a closed socket: it never rejects.
      // binaryType is the default 'nodebuffer', so a text frame arrives as one Buffer.
      void answer(ws, isBinary || !Buffer.isBuffer(data) ? null : data.toString('utf8'));
    });
  });

  const answer = async (ws: WebSocket, text: string | null): Promise<void> => {
    let msg: unknown;
    try {
      msg = text === null ? null : JSON.parse(text);
    } catch {
      msg = null;
    }
    const m = msg as { id?: unknown; channel?: unknown; payload?: unknown } | null;
    if (!m || typeof m !== 'object' || typeof m.id !== 'number' || !Number.isSafeInteger(m.id)) {
      // Not a request we can answer by id: the page is broken or hostile; drop the connection.
      ws.close(1008, 'malformed frame');
      return;
    }
    let result;
    try {
      result = await opts.router.dispatch(m.channel, fromWire(m.payload ?? null));
    } catch {
      result = fail('INTERNAL', 'Something went wrong. The error was logged.');
    }
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id: m.id, result: toWire(result) }));
  };

  return {
    clients: () => wss.clients.size,
    close: () =>
      new Promise<void>((ok) => {
        opts.server.off('upgrade', onUpgrade);
        for (const c of wss.clients) c.terminate();
        wss.close(() => ok());
      }),
  };
}
