/**
 * The app:// protocol serves only files inside the renderer build (path traversal in every
 * spelling is refused), with the CSP header on every response.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppProtocolHandler } from '../../main/electron/app-protocol';
import { resolveRendererFile, resolveRendererPath } from '../../main/renderer-files';
import { RENDERER_CSP } from '../../main/electron/hardening';

const ROOT = resolve('/srv/app/dist/renderer');

describe('resolveRendererPath', () => {
  it('maps ordinary paths into the renderer build', () => {
    expect(resolveRendererPath(ROOT, '/index.html')).toBe(join(ROOT, 'index.html'));
    expect(resolveRendererPath(ROOT, '/')).toBe(join(ROOT, 'index.html'));
    expect(resolveRendererPath(ROOT, '/assets/index-AbC123.js')).toBe(join(ROOT, 'assets', 'index-AbC123.js'));
    expect(resolveRendererPath(ROOT, '/assets/a%20b.css')).toBe(join(ROOT, 'assets', 'a b.css'));
  });

  const attacks: [string, string][] = [
    ['dot-dot', '/../secrets.txt'],
    ['nested dot-dot', '/assets/../../etc/passwd'],
    ['encoded dot-dot', '/%2e%2e/%2e%2e/etc/passwd'],
    ['mixed-case encoded dot-dot', '/%2E%2e/etc/passwd'],
    ['half-encoded dot-dot', '/.%2e/etc/passwd'],
    ['encoded slash with dot-dot', '/..%2f..%2fetc/passwd'],
    ['double-encoded dot-dot', '/%252e%252e/etc/passwd'],
    ['backslash', '/..\\..\\windows\\win.ini'],
    ['encoded backslash', '/..%5c..%5cwindows%5cwin.ini'],
    ['absolute path', '//etc/passwd'],
    ['encoded absolute path', '/%2fetc/passwd'],
    ['drive letter', '/C:/Windows/win.ini'],
    ['NUL byte', '/index.html\0.png'],
    ['encoded NUL byte', '/index.html%00.png'],
    ['malformed escape', '/%E0%A4%A'],
    ['single dot segment', '/./index.html'],
  ];
  for (const [name, path] of attacks) {
    it(`refuses ${name}`, () => {
      expect(resolveRendererPath(ROOT, path)).toBeNull();
    });
  }
});

describe('app:// handler on a real folder', () => {
  let base: string;
  let root: string;
  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'app-protocol-'));
    root = join(base, 'renderer');
    mkdirSync(join(root, 'assets'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(root, 'assets', 'app.js'), 'export {};');
    writeFileSync(join(base, 'outside.txt'), 'not for the renderer');
    symlinkSync(join(base, 'outside.txt'), join(root, 'assets', 'link-out.txt'));
    symlinkSync(base, join(root, 'up'));
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('refuses symlinks that lead out of the build', async () => {
    expect(resolveRendererPath(root, '/assets/link-out.txt')).not.toBeNull();
    expect(await resolveRendererFile(root, '/assets/link-out.txt')).toBeNull();
    expect(await resolveRendererFile(root, '/up/outside.txt')).toBeNull();
  });

  it('refuses directories and missing files', async () => {
    expect(await resolveRendererFile(root, '/assets')).toBeNull();
    expect(await resolveRendererFile(root, '/nope.js')).toBeNull();
  });

  it('serves a file with the CSP, nosniff and its content type', async () => {
    const handle = createAppProtocolHandler(root);
    const res = await handle(new Request('app://renderer/assets/app.js'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(RENDERER_CSP);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await res.text()).toBe('export {};');
  });

  it('answers 404 for traversal, other hosts and symlinks out, without the file', async () => {
    const handle = createAppProtocolHandler(root);
    for (const url of [
      'app://renderer/assets/link-out.txt',
      'app://other/index.html',
      'app://renderer/up/outside.txt',
      'app://renderer/%2e%2e/outside.txt',
    ]) {
      const res = await handle(new Request(url));
      expect(res.status, url).toBe(404);
      expect(res.headers.get('content-security-policy')).toBe(RENDERER_CSP);
      expect(await res.text()).not.toContain('not for the renderer');
    }
  });

  it('refuses methods other than GET and HEAD', async () => {
    const res = await createAppProtocolHandler(root)(
      new Request('app://renderer/index.html', { method: 'POST', body: 'x' }),
    );
    expect(res.status).toBe(405);
  });
});
