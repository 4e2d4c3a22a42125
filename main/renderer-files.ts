/*
 * SECURITY-SENSITIVE — CHANGE ONLY WITH REVIEW (tested by test/unit/electron-protocol.test.ts and
 * test/integration/harness-static.test.ts).
 * Which file of the renderer build a URL path names, and its content type. Shared by the two
 * transports that serve the build: the app:// protocol (main/electron/app-protocol.ts) and the
 * browser harness (test/support/harness/static-server.ts). No electron here: the harness runs in
 * plain Node and may not import main/electron/ (local/layering).
 */
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

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
