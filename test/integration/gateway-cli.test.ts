/**
 * The gateway's own start command (gateway/bin/clinic-gateway.mjs, issue 17 item 1) as a real
 * process: a bad config exits 3 naming each field and never printing a secret; --check prints a
 * summary; started against a real Prosody it connects as the component, logs JSON lines, and stops
 * cleanly on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProsody, type ProsodyServer } from '../support/prosody';

const BIN = 'gateway/bin/clinic-gateway.mjs';

function run(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, done, out: () => stdout, err: () => stderr };
}

describe('clinic-gateway command', () => {
  let server: ProsodyServer;
  let dir: string;
  const SECRET_ENV = 'GW_TEST_SECRET';

  beforeAll(async () => {
    server = await startProsody({ users: [] });
    dir = mkdtempSync(join(tmpdir(), 'gateway-cli-'));
  });
  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const config = (over: Record<string, unknown> = {}) => {
    const file = join(dir, `gateway-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        xmpp: {
          domain: server.component.domain,
          staffDomain: server.domain,
          secret: { env: SECRET_ENV },
          port: server.component.port,
        },
        http: { listen: { port: 0 }, publicBaseUrl: 'https://patients.clinic.test', behindProxy: true },
        storage: { sqlitePath: 'data/gateway.sqlite' },
        sms: { provider: 'sink', dir: 'sink' },
        ...over,
      }),
    );
    return file;
  };

  it('exits 3 on a bad config, naming each field, and never prints the secret', async () => {
    const p = run(['--config', config({ messages: { expiryDays: 365 }, limits: { perPhonePerDay: -1 } })], {
      [SECRET_ENV]: server.component.secret,
    });
    expect(await p.done).toBe(3);
    expect(p.err()).toMatch(/^ {2}messages\.expiryDays: /m);
    expect(p.err()).toMatch(/^ {2}limits\.perPhonePerDay: /m);
    expect(p.err() + p.out()).not.toContain(server.component.secret);
    const usage = run([], {});
    expect(await usage.done).toBe(2);
  });

  it('--check prints where things are and no secret', async () => {
    const p = run(['--config', config(), '--check'], { [SECRET_ENV]: server.component.secret });
    expect(await p.done).toBe(0);
    expect(p.out()).toContain(`component  ${server.component.domain} -> 127.0.0.1:${server.component.port}`);
    expect(p.out()).not.toContain(server.component.secret);
  });

  it('runs as the component until SIGTERM, logging JSON lines only', async () => {
    const p = run(['--config', config()], { [SECRET_ENV]: server.component.secret });
    await expect.poll(() => p.out(), { timeout: 30_000 }).toContain('"event":"gateway-started"');
    expect(p.out()).toContain('"event":"xmpp-online"');
    p.child.kill('SIGTERM');
    expect(await p.done).toBe(0);
    const lines = p.out().trim().split('\n');
    expect(lines.at(-1)).toContain('"event":"gateway-stopped"');
    for (const l of lines) expect(() => JSON.parse(l) as unknown).not.toThrow();
    expect(p.out() + p.err()).not.toContain(server.component.secret);
  });

  it('fails to start with a wrong component secret, and says so', async () => {
    const p = run(['--config', config()], { [SECRET_ENV]: 'not-the-component-secret' });
    expect(await p.done).toBe(1);
    expect(p.err()).toMatch(
      /^The gateway could not start: the XMPP server at 127.0.0.1:\d+ refused the component .*: xmpp.secret differs/m,
    );
    expect(p.err()).not.toContain('not-the-component-secret');
  });
});
