/**
 * The gateway's HTTP side: the SMS provider's webhooks (webhooks.ts) and the patient page (page.ts).
 * HTTPS with the configured certificate, or plain HTTP behind a TLS proxy. Every answer carries
 * headers that keep a browser from doing anything with it it was not meant to (security-headers).
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { GatewayConfig } from '../config';
import { errorName, type Logger } from '../log';
import type { GatewayService } from '../service';
import { pageRoutes } from './page';
import { webhookRoutes } from './webhooks';

export interface HttpHandle {
  port: number;
  close(): Promise<void>;
}

export type Route = (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean> | boolean;

export const BASE_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'cross-origin-resource-policy': 'same-origin',
};

export function reply(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { ...BASE_HEADERS, 'content-type': type });
  res.end(body);
}

export async function startHttp(config: GatewayConfig, service: GatewayService, log: Logger): Promise<HttpHandle> {
  const routes: Route[] = [...webhookRoutes(config, service, log), ...pageRoutes(service, config.replies)];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    // Every failure is answered inside (500); nothing is left for the caller to await.
    void (async () => {
      try {
        if (req.method === 'GET' && path === '/healthz') return reply(res, 200, 'text/plain', 'ok');
        for (const route of routes) if (await route(req, res, path)) return;
        reply(res, 404, 'text/plain', 'not found');
      } catch (err) {
        log('error', 'http-error', { path, error: errorName(err) });
        if (!res.headersSent) reply(res, 500, 'text/plain', 'error');
        else res.destroy();
      }
    })();
  };
  const tls = config.http.tls;
  const server = tls
    ? createHttpsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key), minVersion: 'TLSv1.2' }, handler)
    : createHttpServer(handler);
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.http.listen.port, config.http.listen.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A form body (application/x-www-form-urlencoded) up to `limit` bytes, in its order; null if larger or another type. */
export async function readForm(req: IncomingMessage, limit = 16 * 1024): Promise<[string, string][] | null> {
  if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return null;
    chunks.push(chunk);
  }
  return [...new URLSearchParams(Buffer.concat(chunks).toString('utf8')).entries()];
}
