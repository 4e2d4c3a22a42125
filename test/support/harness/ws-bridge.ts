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

/** Large enough for any contract payload (messages are ≤ 8000 chars); refuses floods. */
const MAX_FRAME = 1024 * 1024;

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
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event, payload }));
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
      result = await opts.router.dispatch(m.channel, m.payload ?? null);
    } catch {
      result = fail('INTERNAL', 'Something went wrong. The error was logged.');
    }
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id: m.id, result }));
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
