/**
 * Serves the renderer build on 127.0.0.1 for the browser harness. Test/demo tooling only —
 * never packaged (electron-builder.yml excludes test/).
 *
 * - Only files inside rendererDir are served, resolved by the packaged app's app:// resolver
 *   (main/renderer-files.ts: path.relative, then realpath against symlinks), so `..`,
 *   `%2e%2e`, backslashes and NUL bytes cannot escape the root; content types are its table too.
 * - index.html keeps the app's own CSP (from renderer/index.html) with one addition: the
 *   harness WebSocket in connect-src. The shim is injected as an external script (CSP forbids
 *   inline scripts) before the app's module script.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { MIME_TYPES, resolveRendererFile, resolveRendererPath } from '../../../main/renderer-files';

export const SHIM_PATH = '/__harness/shim.js';
export const IPC_PATH = '/__harness/ipc';

const CSP_META = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"\s*\/?>/i;

/** Adds `extra` to the connect-src directive of a CSP string (creating it if absent). */
export function addConnectSrc(csp: string, extra: string): string {
  const parts = csp
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean);
  const i = parts.findIndex((p) => p.split(/\s+/)[0] === 'connect-src');
  if (i >= 0) parts[i] = `${parts[i]} ${extra}`;
  else parts.push(`connect-src ${extra}`);
  return parts.join('; ');
}

/**
 * Rewrites the built index.html: the CSP meta gets the WebSocket origin, and the shim script
 * goes in front of the first script tag. Throws if the page has no CSP — serving the app
 * without its policy would hide CSP violations the real app would hit.
 */
export function rewriteIndexHtml(html: string, wsOrigin: string): { html: string; csp: string } {
  const m = CSP_META.exec(html);
  if (!m || m[1] === undefined) throw new Error('renderer index.html has no Content-Security-Policy meta tag');
  const csp = addConnectSrc(m[1], wsOrigin);
  let out = html.replace(CSP_META, (tag) => tag.replace(m[1] as string, csp));
  const shimTag = `<script src="${SHIM_PATH}"></script>\n    `;
  const firstScript = out.search(/<script\b/i);
  if (firstScript < 0) throw new Error('renderer index.html has no script tag to put the harness shim in front of');
  out = out.slice(0, firstScript) + shimTag + out.slice(firstScript);
  return { html: out, csp };
}

export interface StaticServerOptions {
  rendererDir: string;
  port: number;
  /** The bundled shim source (IIFE). */
  shim: string;
}

export interface StaticServer {
  server: Server;
  port: number;
  origin: string;
  close(): Promise<void>;
}

/**
 * Maps a request URL path to a file inside root, or null when it would leave root: the app://
 * handler's own resolver, so the harness refuses exactly what the packaged app refuses.
 */
export const resolveInside = resolveRendererPath;

export async function startStaticServer(opts: StaticServerOptions): Promise<StaticServer> {
  const root = await realpath(resolve(opts.rendererDir));
  const indexFile = join(root, 'index.html');
  await stat(indexFile).catch(() => {
    throw new Error(`no renderer build at ${root} (run \`npm run build:renderer\` first)`);
  });

  let origin = '';
  let wsOrigin = '';
  const securityHeaders = (res: ServerResponse): void => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  };
  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer, head: boolean): void => {
    res.statusCode = status;
    res.setHeader('Content-Type', type);
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.end(head ? undefined : body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    securityHeaders(res);
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'text/plain; charset=utf-8', 'Method not allowed\n', head);
    }
    const pathname = (req.url ?? '/').split(/[?#]/)[0] ?? '/';
    if (pathname === SHIM_PATH) return send(res, 200, MIME_TYPES['.js'] as string, opts.shim, head);
    if (pathname === IPC_PATH) return send(res, 426, 'text/plain; charset=utf-8', 'Upgrade required\n', head);
    // Resolves, follows symlinks, and insists on a regular file inside the real root.
    const real = await resolveRendererFile(root, pathname);
    if (!real) return send(res, 404, 'text/plain; charset=utf-8', 'Not found\n', head);
    if (real === indexFile) {
      const { html, csp } = rewriteIndexHtml(await readFile(real, 'utf8'), wsOrigin);
      // The header repeats the meta policy and adds frame-ancestors, which a meta CSP cannot set.
      res.setHeader('Content-Security-Policy', csp);
      return send(res, 200, MIME_TYPES['.html'] as string, html, head);
    }
    const type = MIME_TYPES[extname(real).toLowerCase()] ?? 'application/octet-stream';
    return send(res, 200, type, await readFile(real), head);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'Internal error\n', false);
      else res.destroy();
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port, '127.0.0.1', () => {
      server.off('error', fail);
      ok();
    });
  });
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('harness server has no TCP address');
  origin = `http://127.0.0.1:${addr.port}`;
  wsOrigin = `ws://127.0.0.1:${addr.port}`;
  return {
    server,
    port: addr.port,
    origin,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}
