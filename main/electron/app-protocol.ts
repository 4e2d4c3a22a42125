/*
 * SECURITY-SENSITIVE — CHANGE ONLY WITH REVIEW (tested by test/unit/electron-protocol.test.ts).
 * Serves the renderer build from the privileged app:// scheme instead of file://, so the page has
 * a real origin, a CSP response header, and cannot read anything outside the renderer build.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Protocol } from 'electron';
import { MIME_TYPES, resolveRendererFile } from '../renderer-files';
import { APP_HOST, APP_SCHEME, SECURITY_HEADERS } from './hardening';

/** Must run before app ready. standard: real origin and relative URLs; secure: treated like https. */
export function registerAppScheme(protocol: Pick<Protocol, 'registerSchemesAsPrivileged'>): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } },
  ]);
}

/** The protocol.handle callback: GET/HEAD only, our host only, files from the renderer build only. */
export function createAppProtocolHandler(rendererDir: string): (request: Request) => Promise<Response> {
  return async (request) => {
    const refuse = (status: number) => new Response(null, { status, headers: { ...SECURITY_HEADERS } });
    if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(405);
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return refuse(400);
    }
    if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return refuse(404);
    const file = await resolveRendererFile(rendererDir, url.pathname);
    if (!file) return refuse(404);
    const body = await readFile(file);
    const headers = {
      ...SECURITY_HEADERS,
      'Content-Type': MIME_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    };
    return new Response(request.method === 'HEAD' ? null : body, { status: 200, headers });
  };
}

export function serveRenderer(protocol: Pick<Protocol, 'handle'>, rendererDir: string): void {
  protocol.handle(APP_SCHEME, createAppProtocolHandler(rendererDir));
}
