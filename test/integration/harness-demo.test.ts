// `npm run demo` where no Electron binary is installed (issue 2, "done when"): it prints URLs
// where the app runs against the local Prosody, the printed demo accounts really sign in, and
// Ctrl+C removes the server and every profile.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

let demo: ChildProcess;
let output = '';
let exited: Promise<number | null>;

const portAnswers = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

beforeAll(async () => {
  if (!existsSync('dist/renderer/index.html'))
    throw new Error('dist/renderer is missing: run `npm test` (it builds first)');
  demo = spawn('node', ['scripts/demo.mjs'], {
    // Own process group: the test sends Ctrl+C's SIGINT to the whole group, as a terminal does.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CLINIC_DEMO_BROWSER: '1', CLINIC_DEMO_NO_BUILD: '1', CLINIC_DEMO_WORKSTATIONS: '2' },
  });
  exited = new Promise((resolve) => demo.once('exit', (code) => resolve(code)));
  demo.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  demo.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 90_000;
  while (!output.includes('Press Ctrl+C')) {
    if (demo.exitCode !== null) throw new Error(`demo exited early (${demo.exitCode})`);
    if (Date.now() > deadline) throw new Error('demo did not come up within 90 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}, 120_000);

afterAll(() => {
  if (demo?.exitCode === null && demo.pid) process.kill(-demo.pid, 'SIGKILL');
});

const parsed = () => {
  const urls = [...output.matchAll(/workstation \d: (http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]+)/g)].map(
    (m) => m[1] as string,
  );
  const accounts = [...output.matchAll(/^\s+([\w.]+@clinic\.test)\s+(demo-[\w-]+)\s+(.+) \((\w+)\)$/gm)].map((m) => ({
    jid: m[1] as string,
    password: m[2] as string,
    name: m[3] as string,
    role: m[4] as string,
  }));
  const server = /at (127\.0\.0\.1):(\d+) \(STARTTLS; demo CA (\S+)\)/.exec(output);
  const phone = /patient phone: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)?.[1] ?? '';
  return { urls, accounts, host: server?.[1] ?? '', port: Number(server?.[2]), caFile: server?.[3] ?? '', phone };
};

describe('npm run demo without Electron', () => {
  it('prints two workstation URLs with tokens and the four demo accounts', () => {
    const { urls, accounts, port } = parsed();
    expect(urls).toHaveLength(2);
    expect(new Set(urls.map((u) => new URL(u).port)).size).toBe(2);
    expect(accounts.map((a) => a.role).sort()).toEqual(['nurse', 'physician', 'physician', 'reception']);
    expect(new Set(accounts.map((a) => a.password)).size).toBe(4);
    expect(port).toBeGreaterThan(0);
  });

  it('serves the app and lets a printed account sign in against the demo Prosody', async () => {
    const { urls, accounts, host, port } = parsed();
    const page = new URL(urls[0] as string);
    const token = page.hash.replace('#token=', '');
    expect((await fetch(page.origin + '/')).status).toBe(200);
    const ws = new WebSocket(`ws://${page.host}/__harness/ipc?token=${token}`, { origin: page.origin });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    let id = 0;
    const call = (
      channel: string,
      payload: unknown,
    ): Promise<{ ok: boolean; value?: unknown; error?: { code: string } }> =>
      new Promise((resolve) => {
        const my = ++id;
        const onMessage = (d: WebSocket.RawData) => {
          const msg = JSON.parse((d as Buffer).toString('utf8')) as { id?: number; result?: never };
          if (msg.id === my) {
            ws.off('message', onMessage);
            resolve(msg.result as never);
          }
        };
        ws.on('message', onMessage);
        ws.send(JSON.stringify({ id: my, channel, payload }));
      });
    const reception = accounts.find((a) => a.role === 'reception');
    if (!reception) throw new Error('no reception account printed');
    // No name typed: the demo clinic's directory has it (vCard FN, as IT provisions accounts).
    const created = await call('vault:createProfile', {
      jid: reception.jid,
      xmppPassword: reception.password,
      passphrase: 'orange harbor violin seventeen',
      server: { host, port, tls: 'starttls' },
      policyAcknowledged: true,
    });
    expect(created).toMatchObject({ ok: true });
    await expect
      .poll(async () => ((await call('app:connection', null)).value as { state: string }).state, { timeout: 30_000 })
      .toBe('online');
    const profiles = (await call('vault:listProfiles', null)).value as { displayName: string }[];
    expect(profiles.map((p) => p.displayName)).toEqual([reception.name]);

    // Issue 17 item 7: the receptionist texts a patient; the printed patient phone shows the SMS with its link.
    const { phone } = parsed();
    expect(await (await fetch(phone)).text()).toContain('No text messages yet.');
    const sent = await call('patients:send', {
      patientName: 'Demo Patient',
      phone: '+15550123456',
      check: 'dob',
      dob: '1980-05-17',
      text: 'A demo message.',
      smsTemplate: 'Your clinic sent you a secure message: {link}',
    });
    expect(sent).toMatchObject({ ok: true, value: { state: 'sms-delivered' } });
    const res = await fetch(phone);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toContain('To +15550123456');
    const link = /<a href="(http:\/\/127\.0\.0\.1:\d+\/m\/[\w-]{22}#[\w-]{22})">/.exec(html)?.[1];
    expect(link, 'the SMS link, clickable').toBeTruthy();
    // The link opens the gateway's patient page (the fragment stays in the browser).
    expect((await fetch(new URL(link!).href.split('#')[0]!)).status).toBe(200);
    ws.close();
  }, 90_000);

  it('stops Prosody and deletes its data on Ctrl+C', async () => {
    const { port, caFile } = parsed();
    expect(existsSync(caFile)).toBe(true);
    process.kill(-(demo.pid as number), 'SIGINT');
    // 0 from the demo itself, or 130 (128 + SIGINT) from a shell in between, as after any Ctrl+C.
    expect([0, 130]).toContain(await exited);
    expect(existsSync(dirname(caFile))).toBe(false);
    expect(await portAnswers(port)).toBe(false);
    expect(await portAnswers(Number(new URL(parsed().phone).port))).toBe(false);
  }, 30_000);
});
