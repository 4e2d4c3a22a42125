// The harness WebSocket reaches the real router, so anything that can open a loopback socket
// could drive the app: only the per-run token plus the page's own Origin may connect.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startHarness, type Harness } from '../support/harness';
import { tokenMatches } from '../support/harness/ws-bridge';

let dir: string;
let harness: Harness;

function wsUrl(token?: string): string {
  const base = harness.origin.replace('http:', 'ws:') + '/__harness/ipc';
  return token === undefined ? base : `${base}?token=${encodeURIComponent(token)}`;
}

/** Resolves with the open socket, or with the HTTP status the server refused it with. */
function open(url: string, origin?: string): Promise<{ ws: WebSocket } | { status: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin === undefined ? {} : { origin });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
}

function request(ws: WebSocket, id: number, channel: string, payload: unknown): Promise<unknown> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const msg = JSON.parse((data as Buffer).toString('utf8')) as { id?: number; result?: unknown };
      if (msg.id === id) {
        ws.off('message', onMessage);
        resolve(msg.result);
      }
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ id, channel, payload }));
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'harness-token-'));
  const rendererDir = join(dir, 'renderer');
  mkdirSync(rendererDir);
  writeFileSync(
    join(rendererDir, 'index.html'),
    `<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self'; connect-src 'self'" />
<script type="module" src="./app.js"></script></head><body></body></html>`,
  );
  harness = await startHarness({ userDataDir: join(dir, 'user'), rendererDir });
});

afterAll(async () => {
  await harness?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('harness WebSocket bridge', () => {
  it('puts a long random token in the URL fragment, not in a query string', () => {
    const url = new URL(harness.url);
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.search).toBe('');
    expect(url.hash).toBe(`#token=${harness.token}`);
    expect(harness.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('refuses a connection without a token', async () => {
    expect(await open(wsUrl(), harness.origin)).toEqual({ status: 401 });
  });

  it('refuses a connection with a wrong token, including a prefix of the right one', async () => {
    expect(await open(wsUrl('not-the-token'), harness.origin)).toEqual({ status: 401 });
    expect(await open(wsUrl(harness.token.slice(0, -1)), harness.origin)).toEqual({ status: 401 });
    expect(await open(wsUrl(''), harness.origin)).toEqual({ status: 401 });
  });

  it('refuses the right token from a foreign or missing Origin', async () => {
    expect(await open(wsUrl(harness.token), 'http://evil.example')).toEqual({ status: 403 });
    expect(await open(wsUrl(harness.token), harness.origin.replace(/:\d+$/, ':1'))).toEqual({ status: 403 });
    expect(await open(wsUrl(harness.token))).toEqual({ status: 403 });
  });

  it('with the right token and Origin, answers app:info through the real router', async () => {
    const r = await open(wsUrl(harness.token), harness.origin);
    if (!('ws' in r)) throw new Error(`refused with ${r.status}`);
    const info = await request(r.ws, 1, 'app:info', null);
    expect(info).toEqual({
      ok: true,
      value: {
        name: 'Clinic Messenger',
        version: expect.stringMatching(/^\d+\.\d+\.\d+/),
        platform: process.platform,
        harness: true,
      },
    });
    // The router still validates: a bad payload is a typed error, an unknown channel too.
    const bad = (await request(r.ws, 2, 'vault:unlock', { profileId: 42 })) as { ok: boolean; error: { code: string } };
    expect(bad.ok).toBe(false);
    expect(['BAD_INPUT', 'LOCKED']).toContain(bad.error.code);
    expect(await request(r.ws, 3, 'app:nope', null)).toMatchObject({ ok: false, error: { code: 'UNKNOWN_CHANNEL' } });
    r.ws.close();
  });

  it('pushes main → renderer events to connected pages', async () => {
    const r = await open(wsUrl(harness.token), harness.origin);
    if (!('ws' in r)) throw new Error(`refused with ${r.status}`);
    const got = new Promise((resolve) =>
      r.ws.once('message', (d) => resolve(JSON.parse((d as Buffer).toString('utf8')))),
    );
    harness.core.events.emit('connection:state', { state: 'connecting', detail: null });
    expect(await got).toEqual({ event: 'connection:state', payload: { state: 'connecting', detail: null } });
    r.ws.close();
  });

  it('drops a connection that sends a frame it cannot answer', async () => {
    const r = await open(wsUrl(harness.token), harness.origin);
    if (!('ws' in r)) throw new Error(`refused with ${r.status}`);
    const code = new Promise((resolve) => r.ws.once('close', (c) => resolve(c)));
    r.ws.send('{not json');
    expect(await code).toBe(1008);
  });
});

describe('tokenMatches', () => {
  it('accepts only the exact token', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abc', 'abd')).toBe(false);
    expect(tokenMatches('abc', 'ab')).toBe(false);
    expect(tokenMatches('abc', null)).toBe(false);
  });
});
