/*
 * SECURITY-SENSITIVE — CHANGE ONLY WITH REVIEW (tested by test/unit/electron-protocol.test.ts).
 * Serves the renderer build from the privileged app:// scheme instead of file://, so the page has
 * a real origin, a CSP response header, and cannot read anything outside the renderer build.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { Protocol } from 'electron';
import { APP_HOST, APP_SCHEME, SECURITY_HEADERS } from './hardening';

/** Must run before app ready. standard: real origin and relative URLs; secure: treated like https. */
export function registerAppScheme(protocol: Pick<Protocol, 'registerSchemesAsPrivileged'>): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } },
  ]);
}

/**
 * Pure: maps a URL pathname to a file under `rootDir`, or null when the request could escape it.
 * Rejects `..` (raw or percent-encoded), backslashes, NUL, absolute and drive-letter paths,
 * and malformed escapes. WHATWG URL parsing already folds `..`; this does not rely on it.
 */
export function resolveRendererPath(rootDir: string, pathname: string): string | null {
  if (typeof pathname !== 'string' || pathname.length > 1024) return null;
  if (/%00|\0|\\|%5c/i.test(pathname)) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\') || /%/.test(decoded)) return null;
  const rel = decoded.replace(/^\//, '');
  if (rel.startsWith('/') || /^[a-zA-Z]:/.test(rel) || isAbsolute(rel)) return null;
  const segments = rel.split('/');
  if (segments.some((s) => s === '..' || s === '.')) return null;
  const root = resolve(rootDir);
  const target = resolve(root, rel === '' ? 'index.html' : rel);
  const fromRoot = relative(root, target);
  if (fromRoot === '' || fromRoot.startsWith('..') || isAbsolute(fromRoot)) return null;
  return target;
}

/**
 * Resolves then follows symlinks: the real file must still be inside the real root and be a
 * regular file. Returns null otherwise (including when it does not exist).
 */
export async function resolveRendererFile(rootDir: string, pathname: string): Promise<string | null> {
  const candidate = resolveRendererPath(rootDir, pathname);
  if (!candidate) return null;
  try {
    const [realRoot, realTarget] = await Promise.all([realpath(rootDir), realpath(candidate)]);
    if (!realTarget.startsWith(realRoot + sep)) return null;
    const info = await stat(realTarget);
    return info.isFile() ? realTarget : null;
  } catch {
    return null;
  }
}

/** Content types for the renderer build (the browser harness serves with the same table). */
export const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.wasm': 'application/wasm',
};

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
