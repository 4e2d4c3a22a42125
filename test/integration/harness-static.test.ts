// The harness's static server: serves only the renderer build, keeps the app's CSP (plus the
// harness socket) and loads the shim as an external script, since CSP forbids inline ones.
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness';
import { addConnectSrc, resolveInside, rewriteIndexHtml } from '../support/harness/static-server';

let dir: string;
let harness: Harness;

/** Raw GET: fetch() would normalise `..` away before it reaches the server. */
function get(
  path: string,
  method = 'GET',
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const { port } = new URL(harness.origin);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: Number(port), path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'harness-static-'));
  const rendererDir = join(dir, 'renderer');
  mkdirSync(join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(
    join(rendererDir, 'index.html'),
    `<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'" />
<script type="module" crossorigin src="./assets/app.js"></script></head><body></body></html>`,
  );
  writeFileSync(join(rendererDir, 'assets', 'app.js'), 'export const ok = 1;\n');
  writeFileSync(join(dir, 'secret.txt'), 'outside the renderer build\n');
  symlinkSync(join(dir, 'secret.txt'), join(rendererDir, 'assets', 'link.txt'));
  harness = await startHarness({ userDataDir: join(dir, 'user'), rendererDir });
});

afterAll(async () => {
  await harness?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('harness static server', () => {
  it('serves index.html with the shim before the app script and the socket added to the CSP', async () => {
    const res = await get('/');
    expect(res.status).toBe(200);
    const ws = harness.origin.replace('http:', 'ws:');
    const csp = `default-src 'none'; script-src 'self'; connect-src 'self' ${ws}; frame-ancestors 'none'`;
    expect(res.headers['content-security-policy']).toBe(csp);
    expect(res.body).toContain(`content="${csp}"`);
    const shimAt = res.body.indexOf('<script src="/__harness/shim.js"></script>');
    const appAt = res.body.indexOf('<script type="module" crossorigin src="./assets/app.js">');
    expect(shimAt).toBeGreaterThan(0);
    expect(appAt).toBeGreaterThan(shimAt);
    expect(res.body).not.toContain(harness.token);
    expect(res.headers['referrer-policy']).toBe('no-referrer');
  });

  it('serves the bundled shim as JavaScript that installs window.clinic', async () => {
    const res = await get('/__harness/shim.js');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/javascript/);
    expect(res.body).toContain('clinic');
    expect(res.body).toContain('/__harness/ipc');
  });

  it('serves files inside the build with their type', async () => {
    const res = await get('/assets/app.js');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/javascript/);
    expect(res.body).toBe('export const ok = 1;\n');
  });

  it.each([
    '/../secret.txt',
    '/assets/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
    '/..%5csecret.txt',
    '/assets/link.txt',
    '/assets/app.js%00.html',
    '/%E0%A4%A',
    '/missing.js',
  ])('refuses %s with 404 and no file content', async (path) => {
    const res = await get(path);
    expect(res.status).toBe(404);
    expect(res.body).not.toContain('outside the renderer build');
  });

  it('answers only GET and HEAD', async () => {
    expect((await get('/', 'POST')).status).toBe(405);
    const head = await get('/assets/app.js', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });
});

describe('index.html rewriting', () => {
  it('appends to an existing connect-src or adds one', () => {
    expect(addConnectSrc("default-src 'none'; connect-src 'self'", 'ws://x')).toBe(
      "default-src 'none'; connect-src 'self' ws://x",
    );
    expect(addConnectSrc("default-src 'none';", 'ws://x')).toBe("default-src 'none'; connect-src ws://x");
  });

  it('refuses a page without a CSP rather than serving it unprotected', () => {
    expect(() => rewriteIndexHtml('<html><script src="a.js"></script></html>', 'ws://x')).toThrow(
      /Content-Security-Policy/,
    );
  });

  it('maps paths only inside the root', () => {
    expect(resolveInside('/r', '/')).toBe('/r/index.html');
    expect(resolveInside('/r', '/a/b.js')).toBe('/r/a/b.js');
    expect(resolveInside('/r', '/../etc/passwd')).toBeNull();
    expect(resolveInside('/r', '/a/%2e%2e/%2e%2e/x')).toBeNull();
  });
});
