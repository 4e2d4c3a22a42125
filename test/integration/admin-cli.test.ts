/**
 * clinic-admin as an administrator runs it (issue 15): the real CLI in a child process, real
 * OpenPGP keys and files. keygen → wipe → the workstation's verifyAdminCommand accepts the command
 * with the printed fingerprint pinned; every bad input gives its message and exit code.
 * `wipe --send` runs against a real Prosody (test/support/prosody.ts): the recipient's own
 * connection finds the command in its archive.
 * The CLI reads the wall clock and the test verifies at the wall clock: one clock, any day.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { xml } from '@xmpp/client';
import { verifyAdminCommand } from '../../main/crypto/admin-command';
import { archivedAdminCommand } from '../../main/xmpp/admin-commands';
import { NS } from '../../main/xmpp/stanzas';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { rawConnection, waitFor } from '../support/xmpp-support';
import { routedSession } from './session-support';
import { PASS as WORKSTATION_PASS, requireKeychain } from './vault-support';

const run = promisify(execFile);
const BIN = 'admin/bin/clinic-admin.mjs';
const PASS = 'correct horse battery staple 7';
let dir: string;
/** Each case starts a CLI process (Node + tsx + openpgp, seconds on a loaded machine): a hang guard, not a speed limit. */
const SPAWNS = 240_000;

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], passphrase: string | null = PASS, xmppPassword?: string): Promise<Outcome> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.CLINIC_ADMIN_PASSPHRASE;
  delete env.CLINIC_ADMIN_XMPP_PASSWORD;
  if (passphrase !== null) env.CLINIC_ADMIN_PASSPHRASE = passphrase;
  if (xmppPassword !== undefined) env.CLINIC_ADMIN_XMPP_PASSWORD = xmppPassword;
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const path = (name: string) => join(dir, name);
let keyFile: string;
let fingerprint: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clinic-admin-'));
  keyFile = path('admin-key.asc');
  const r = await cli(['keygen', '--out', keyFile, '--name', 'Clinic IT']);
  expect(r.code, r.stderr).toBe(0);
  fingerprint = /Fingerprint: ([0-9A-F]{40})\n/.exec(r.stdout)?.[1] ?? '';
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('clinic-admin keygen', () => {
  it(
    'writes an encrypted key, mode 0600, and prints its fingerprint and the policy line',
    async () => {
      expect(fingerprint).toMatch(/^[0-9A-F]{40}$/);
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      const armored = readFileSync(keyFile, 'utf8');
      expect(armored).toContain('-----BEGIN PGP PRIVATE KEY BLOCK-----');
      const key = await openpgp.readPrivateKey({ armoredKey: armored });
      expect(key.getFingerprint().toUpperCase()).toBe(fingerprint);
      expect(key.isDecrypted()).toBe(false);
      expect(key.getUserIDs()).toEqual(['Clinic IT']);
      await expect(openpgp.decryptKey({ privateKey: key, passphrase: 'not the passphrase' })).rejects.toThrow();
      expect((await openpgp.decryptKey({ privateKey: key, passphrase: PASS })).isDecrypted()).toBe(true);
    },
    SPAWNS,
  );

  it(
    'refuses to overwrite a key file, a short passphrase, and no passphrase without a terminal',
    async () => {
      const before = readFileSync(keyFile, 'utf8');
      const again = await cli(['keygen', '--out', keyFile]);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/already exists: the key file is not overwritten/);
      expect(readFileSync(keyFile, 'utf8')).toBe(before);

      const short = await cli(['keygen', '--out', path('short.asc')], 'too short');
      expect(short.code).toBe(2);
      expect(short.stderr).toMatch(/at least 12 characters; nothing was written/);

      const none = await cli(['keygen', '--out', path('none.asc')], null);
      expect(none.code).toBe(1);
      expect(none.stderr).toMatch(/No terminal to ask for the passphrase.*CLINIC_ADMIN_PASSPHRASE/);
      for (const f of ['short.asc', 'none.asc']) expect(() => statSync(path(f))).toThrow();
    },
    SPAWNS,
  );
});

/**
 * The passphrase typed at a terminal: util-linux `script` gives the CLI a pseudo-terminal and
 * copies our pipe into it. Each answer is written only after its prompt has appeared (the CLI has
 * switched echo off by then), so nothing depends on timing.
 */
function atTerminal(args: string[], answers: [prompt: string, answer: string][]): Promise<Outcome> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.CLINIC_ADMIN_PASSPHRASE;
  delete env.CLINIC_ADMIN_XMPP_PASSWORD;
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env });
  let stdout = '';
  let stderr = '';
  const pending = [...answers];
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    const next = pending[0];
    if (next && stdout.includes(next[0], stdout.length - chunk.length - next[0].length)) {
      pending.shift();
      child.stdin.write(`${next[1]}\r`);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe.skipIf(process.platform !== 'linux' || !existsSync('/usr/bin/script'))('the passphrase at a terminal', () => {
  it(
    'keygen asks twice without echo; wipe asks once; the passphrase never appears',
    async () => {
      const secret = 'typed at the terminal 42';
      const out = path('tty-key.asc');
      const k = await atTerminal(
        ['keygen', '--out', out],
        [
          ['Admin key passphrase: ', secret],
          ['Repeat the passphrase: ', secret],
        ],
      );
      expect(k.code, k.stdout + k.stderr).toBe(0);
      expect(k.stdout).toMatch(/Admin key passphrase: [\s\S]*Repeat the passphrase: [\s\S]*Fingerprint: [0-9A-F]{40}/);
      expect(k.stdout).not.toContain(secret);
      const key = await openpgp.readPrivateKey({ armoredKey: readFileSync(out, 'utf8') });
      expect((await openpgp.decryptKey({ privateKey: key, passphrase: secret })).isDecrypted()).toBe(true);

      const w = await atTerminal(
        ['wipe', 'alice@clinic.test', '--key', out, '--out', path('tty-wipe.asc')],
        [['Admin key passphrase: ', secret]],
      );
      expect(w.code, w.stdout + w.stderr).toBe(0);
      expect(w.stdout).toContain('Wipe command for alice@clinic.test, all devices.');
      expect(w.stdout).not.toContain(secret);

      const differ = await atTerminal(
        ['keygen', '--out', path('differ.asc')],
        [
          ['Admin key passphrase: ', secret],
          ['Repeat the passphrase: ', 'something else entirely'],
        ],
      );
      expect(differ.code).toBe(1);
      expect(differ.stdout).toContain('The two passphrases differ; nothing was written.');
      expect(existsSync(path('differ.asc'))).toBe(false);
    },
    SPAWNS,
  );
});

describe('clinic-admin wipe', () => {
  it(
    'signs a command the workstation verifies with the printed fingerprint pinned (all devices)',
    async () => {
      const out = path('wipe-all.asc');
      const r = await cli(['wipe', 'Alice@Clinic.Test', '--key', keyFile, '--out', out]);
      expect(r.code, r.stderr).toBe(0);
      const verdict = await verifyAdminCommand(readFileSync(out, 'utf8'), {
        pinnedFingerprints: [fingerprint],
        date: new Date(),
      });
      if (!verdict.ok) throw new Error(`refused: ${verdict.reason}`);
      expect(verdict.signer).toBe(fingerprint);
      expect(verdict.command).toMatchObject({ type: 'wipe', account: 'alice@clinic.test', device: null });
      const validity = Date.parse(verdict.command.expiresAt) - Date.parse(verdict.command.issuedAt);
      expect(validity).toBe(7 * 24 * 3600_000);
      expect(r.stdout).toContain('Wipe command for alice@clinic.test, all devices.');
      expect(r.stdout).toContain(`nonce ${verdict.command.nonce}`);
      expect(r.stdout).toContain(`until ${verdict.command.expiresAt}`);
      expect(r.stdout).toContain(`Written to ${out}.`);
      expect(r.stdout).toContain('Nothing was sent (no --send).');
      // Never the passphrase or key material on the terminal.
      for (const text of [r.stdout, r.stderr]) {
        expect(text).not.toContain(PASS);
        expect(text).not.toMatch(/PRIVATE KEY|BEGIN PGP/);
      }
      // Another key's fingerprint pinned: the same file is refused.
      const other = await verifyAdminCommand(readFileSync(out, 'utf8'), {
        pinnedFingerprints: ['0'.repeat(40)],
        date: new Date(),
      });
      expect(other).toEqual({ ok: false, reason: 'unpinned-signer' });
    },
    SPAWNS,
  );

  it(
    'addresses one device and honours --expires',
    async () => {
      const out = path('wipe-one.asc');
      const device = '0F8E2C1A-5B7D-4E3F-9A10-2B3C4D5E6F70';
      const r = await cli([
        'wipe',
        'bob@clinic.test',
        '--device',
        device,
        '--expires',
        '12h',
        '--key',
        keyFile,
        '--out',
        out,
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`device ${device.toLowerCase()}`);
      const verdict = await verifyAdminCommand(readFileSync(out, 'utf8'), {
        pinnedFingerprints: [fingerprint],
        date: new Date(),
      });
      if (!verdict.ok) throw new Error(`refused: ${verdict.reason}`);
      expect(verdict.command.device).toBe(device.toLowerCase());
      expect(Date.parse(verdict.command.expiresAt) - Date.parse(verdict.command.issuedAt)).toBe(12 * 3600_000);
    },
    SPAWNS,
  );

  it(
    'wrong passphrase, a file that is not a key, a missing key file: exit 1, nothing written',
    async () => {
      const out = path('never.asc');
      const notKey = path('notes.txt');
      writeFileSync(notKey, 'shopping list\n');
      const cases: [string[], string | null, RegExp][] = [
        [['--key', keyFile], 'wrong passphrase 123', /Wrong passphrase for .*admin-key\.asc; nothing was signed/],
        [['--key', notKey], PASS, /notes\.txt is not an OpenPGP private key file/],
        [['--key', path('missing.asc')], PASS, /Cannot read .*missing\.asc \(no such file\)/],
      ];
      for (const [extra, pass, message] of cases) {
        const r = await cli(['wipe', 'alice@clinic.test', ...extra, '--out', out], pass);
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr).toMatch(message);
        if (pass) expect(r.stderr).not.toContain(pass);
        expect(() => statSync(out)).toThrow();
      }
    },
    SPAWNS,
  );

  it(
    'an existing output file is kept and refused before the passphrase is used',
    async () => {
      const out = path('exists.asc');
      writeFileSync(out, 'keep me');
      const r = await cli(['wipe', 'alice@clinic.test', '--key', keyFile, '--out', out], 'wrong passphrase 123');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/exists\.asc already exists: the command file is not overwritten/);
      expect(readFileSync(out, 'utf8')).toBe('keep me');
    },
    SPAWNS,
  );

  it(
    'bad command lines: exit 2 with the reason and a pointer to --help',
    async () => {
      const key = ['--key', keyFile, '--out', path('x.asc')];
      const cases: [string[], RegExp][] = [
        [
          ['wipe', 'alice@clinic.test/desk', ...key],
          /has a resource \(\/…\): give the bare JID, e\.g\. alice@clinic\.test/,
        ],
        [['wipe', 'alice', ...key], /"alice" is not a bare JID/],
        [['wipe', ...key], /wipe needs the account/],
        [['wipe', 'alice@clinic.test', '--out', path('x.asc')], /wipe needs --key/],
        [['wipe', 'alice@clinic.test', '--key', keyFile], /wipe needs --out <file>, --send --as <admin-jid>, or both/],
        [['wipe', 'alice@clinic.test', '--send', ...key], /--send needs --as <admin-jid>/],
        [
          ['wipe', 'alice@clinic.test', '--as', 'it@clinic.test', ...key],
          /--as, --server, --tls and --ca go with --send/,
        ],
        [['wipe', 'alice@clinic.test', '--send', '--as', 'it', ...key], /--as "it" is not a bare JID/],
        [['wipe', 'a@b.c', '--send', '--as', 'it@b.c', '--tls', 'none', ...key], /--tls must be starttls or direct/],
        [['wipe', 'a@b.c', '--send', '--as', 'it@b.c', '--server', 'h:99999', ...key], /--server "h:99999" is not/],
        [['wipe', 'alice@clinic.test', '--device', '../etc', ...key], /is not a device id/],
        [['wipe', 'alice@clinic.test', '--expires', '90d', ...key], /at most 30d/],
        [['wipe', 'alice@clinic.test', '--expires', 'soon', ...key], /such as 30m, 12h or 7d/],
        [['wipe', 'alice@clinic.test', '--passphrase', 'x', ...key], /Unknown option '--passphrase'/],
        [['wipe', 'a@b.c', 'extra', ...key], /Unexpected argument "extra"/],
        [['keygen'], /keygen needs --out/],
      ];
      for (const [args, message] of cases) {
        const r = await cli(args);
        expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(r.stderr).toContain(`Run "clinic-admin ${args[0]} --help" for its usage.`);
      }
      expect(() => statSync(path('x.asc'))).toThrow();
      const unknown = await cli(['erase-everything']);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/unknown command "erase-everything"/);
      expect(unknown.stderr).toContain('Usage: clinic-admin <command>');
    },
    SPAWNS,
  );

  it(
    'prints usage for --help, per command, and through npx from the repository',
    async () => {
      const top = await cli(['--help']);
      expect(top.code).toBe(0);
      expect(top.stdout).toMatch(/keygen[\s\S]*wipe[\s\S]*send it over the clinic's XMPP server/);
      for (const name of ['keygen', 'wipe']) {
        const r = await cli([name, '--help']);
        expect(r.code).toBe(0);
        expect(r.stdout).toContain(`Usage: clinic-admin ${name}`);
      }
      // `npx clinic-admin` resolves the project's own bin (package.json "bin"); --no forbids npx
      // from fetching a package of that name, so a broken bin entry fails here instead.
      const { stdout } = await run('npx', ['--no', '--', 'clinic-admin', '--help'], { timeout: 60_000 });
      expect(stdout).toContain('Usage: clinic-admin <command>');
    },
    SPAWNS,
  );
});

describe('clinic-admin wipe --send, over a real Prosody', () => {
  const ALICE = 'alice@clinic.test';
  const BOB = 'bob@clinic.test';
  const IT = 'it-admin@clinic.test';
  const DANA = 'dana@clinic.test';
  const ERIK = 'erik@clinic.test';
  const pw = {
    dana: randomBytes(12).toString('hex'),
    erik: randomBytes(12).toString('hex'),
    alice: randomBytes(12).toString('hex'),
    bob: randomBytes(12).toString('hex'),
    it: randomBytes(12).toString('hex'),
  };
  let server: ProsodyServer;
  let caFile: string;
  const send = (to: string) => ['wipe', to, '--key', keyFile, '--send', '--as', IT];
  const where = () => ['--server', `127.0.0.1:${server.c2sPort}`, '--ca', caFile];

  beforeAll(async () => {
    server = await startProsody({
      users: [
        { jid: ALICE, password: pw.alice, name: 'Alice Archer' },
        { jid: BOB, password: pw.bob, name: 'Bob Baker' },
        { jid: IT, password: pw.it, name: 'Clinic IT' },
        { jid: DANA, password: pw.dana, name: 'Dana Diaz' },
        { jid: ERIK, password: pw.erik, name: 'Erik Eng' },
      ],
    });
    caFile = path('clinic-ca.pem');
    writeFileSync(caFile, server.caPem);
  }, 120_000);
  afterAll(async () => server?.stop());

  /** What the account's archive holds from `from`: each message, with the admin command's text if it carries one. */
  async function archivedFrom(jid: string, password: string, from: string): Promise<(string | null)[]> {
    const queryid = randomUUID();
    const found: (string | null)[] = [];
    const conn = rawConnection(server, jid, password, 'archive-check', (el) => {
      const result = el.getChild('result', NS.mam);
      if (result?.attrs.queryid === queryid) found.push(archivedAdminCommand(result)?.text ?? null);
    });
    await conn.start();
    try {
      const field = (name: string, value: string, type?: string) =>
        xml('field', type ? { var: name, type } : { var: name }, xml('value', {}, value));
      await conn.iq(
        xml(
          'iq',
          { type: 'set' },
          xml(
            'query',
            { xmlns: NS.mam, queryid },
            xml(
              'x',
              { xmlns: 'jabber:x:data', type: 'submit' },
              field('FORM_TYPE', NS.mam, 'hidden'),
              field('with', from),
            ),
          ),
        ),
      );
    } finally {
      await conn.stop();
    }
    return found;
  }

  const noSecrets = (r: Outcome, ...secrets: string[]) => {
    for (const text of [r.stdout, r.stderr]) {
      for (const secret of [PASS, ...secrets]) expect(text).not.toContain(secret);
      expect(text).not.toMatch(/PGP/);
    }
  };

  it(
    'delivers exactly one signed command to the account; the workstation check accepts it with the printed nonce',
    async () => {
      const device = 'front-desk-pc-0001';
      const r = await cli([...send(ALICE), '--device', device, '--expires', '2d', ...where()], PASS, pw.it);
      expect(r.code, r.stderr).toBe(0);
      const nonce = /nonce ([A-Za-z0-9_-]{22})\./.exec(r.stdout)?.[1];
      expect(nonce).toBeDefined();
      expect(r.stdout).toContain(`Wipe command for ${ALICE}, device ${device}.`);
      expect(r.stdout).toContain(`Signed by ${fingerprint}.`);
      expect(r.stdout).toContain(
        `Sent to ${ALICE} via 127.0.0.1:${server.c2sPort} as ${IT} (the server confirmed it).`,
      );
      expect(r.stdout).not.toContain('Nothing was sent');
      noSecrets(r, pw.it);

      const archived = await archivedFrom(ALICE, pw.alice, IT);
      expect(archived).toHaveLength(1);
      const text = archived[0];
      if (!text) throw new Error('the archived message carries no admin command');
      const verdict = await verifyAdminCommand(text, { pinnedFingerprints: [fingerprint], date: new Date() });
      if (!verdict.ok) throw new Error(`refused: ${verdict.reason}`);
      expect(verdict.command).toMatchObject({ type: 'wipe', account: ALICE, device, nonce });
      expect(Date.parse(verdict.command.expiresAt) - Date.parse(verdict.command.issuedAt)).toBe(2 * 24 * 3600_000);
    },
    SPAWNS,
  );

  it(
    'a wrong admin password: exit 1, nothing sent; with --out the file is written first and kept',
    async () => {
      const out = path('wrong-password.asc');
      const wrong = 'not the it password 99';
      const r = await cli([...send(BOB), '--out', out, ...where()], PASS, wrong);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `refused the password of ${IT}; nothing was sent\\. \\(.*wrong-password\\.asc was written before sending and is kept\\.\\)`,
        ),
      );
      noSecrets(r, wrong, pw.it);
      const verdict = await verifyAdminCommand(readFileSync(out, 'utf8'), {
        pinnedFingerprints: [fingerprint],
        date: new Date(),
      });
      expect(verdict.ok).toBe(true);
      expect(await archivedFrom(BOB, pw.bob, IT)).toEqual([]);
    },
    SPAWNS,
  );

  it(
    'an unknown account: the server bounces the command, exit 1 "no such account"',
    async () => {
      const r = await cli([...send('nobody@clinic.test'), ...where()], PASS, pw.it);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stderr).toMatch(/No such account nobody@clinic\.test on the server .*; nothing will be wiped\./);
      expect(r.stdout).not.toContain('Sent to');
      noSecrets(r, pw.it);
    },
    SPAWNS,
  );

  it(
    'a server that cannot be reached, and one whose certificate is not trusted: exit 1, nothing sent',
    async () => {
      // A loopback port that was free a moment ago and is closed now: the connection is refused.
      const closed = await new Promise<number>((resolve, reject) => {
        const srv = createServer();
        srv.on('error', reject);
        srv.listen(0, '127.0.0.1', () => {
          const addr = srv.address();
          srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
        });
      });
      const down = await cli([...send(BOB), '--server', `127.0.0.1:${closed}`, '--ca', caFile], PASS, pw.it);
      expect(down.code, down.stderr).toBe(1);
      expect(down.stderr).toMatch(
        new RegExp(`Cannot reach the XMPP server at 127\\.0\\.0\\.1:${closed}.*; nothing was sent\\.`),
      );

      // Without --ca the test server's certificate (issued by the test CA) is not trusted.
      const untrusted = await cli([...send(BOB), '--server', `127.0.0.1:${server.c2sPort}`], PASS, pw.it);
      expect(untrusted.code, untrusted.stderr).toBe(1);
      expect(untrusted.stderr).toMatch(
        /TLS problem with 127\.0\.0\.1:\d+: .*certificate.*--ca <pem-file>; nothing was sent\./,
      );
      noSecrets(untrusted, pw.it);
      expect(await archivedFrom(BOB, pw.bob, IT)).toEqual([]);
    },
    SPAWNS,
  );

  it.skipIf(process.platform !== 'linux' || !existsSync('/usr/bin/script'))(
    'asks the admin password at the terminal without echo, after the key passphrase',
    async () => {
      const r = await atTerminal(
        [...send(BOB), ...where()],
        [
          ['Admin key passphrase: ', PASS],
          [`Password of ${IT} on the XMPP server: `, pw.it],
        ],
      );
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain(`Sent to ${BOB} via 127.0.0.1:${server.c2sPort} as ${IT} (the server confirmed it).`);
      expect(r.stdout).not.toContain(pw.it);
      expect(r.stdout).not.toContain(PASS);
      expect(await archivedFrom(BOB, pw.bob, IT)).toHaveLength(1);
    },
    SPAWNS,
  );

  it(
    'end to end: the real CLI erases an unlocked workstation of the account (issue 15 "done when")',
    async () => {
      // The workstation: the whole session (real keychain, SQLCipher) on the system clock, as the
      // CLI's is: both read the same time, on any day (also under faketime).
      await requireKeychain();
      const desk = await routedSession({
        server,
        account: { jid: DANA, password: pw.dana, name: 'Dana Diaz' },
        prefix: 'admin-cli-desk-',
        policy: { adminKeyFingerprints: [fingerprint], adminAccount: IT },
      });
      try {
        const from = desk.seen.length;
        const r = await cli([...send(DANA), '--device', desk.profileId, ...where()], PASS, pw.it);
        expect(r.code, r.stderr).toBe(0);
        const sent = performance.now();
        await waitFor('session:wiped', () => desk.seen.slice(from).find((e) => e.name === 'session:wiped'));
        // Printed, not asserted (issue: "a wipe reaches an unlocked workstation (time printed)").
        console.log(
          `clinic-admin wipe --send: workstation erased ${Math.round(performance.now() - sent)} ms after the CLI exited`,
        );
        expect(existsSync(join(desk.dir, 'profiles', desk.profileId))).toBe(false);
        expect(await desk.keychain.get(desk.profileId)).toBeNull();
      } finally {
        await desk.dispose();
      }
    },
    SPAWNS,
  );

  it(
    'end to end: clinic-admin disable, and a workstation with wipeOnAccountDisabled erases the profile at its next unlock',
    async () => {
      await requireKeychain();
      const desk = await routedSession({
        server,
        account: { jid: ERIK, password: pw.erik, name: 'Erik Eng' },
        prefix: 'admin-cli-disable-',
        policy: { wipeOnAccountDisabled: true },
      });
      try {
        await desk.session.lock('manual');
        const r = await cli(['disable', ERIK, '--prosody-config', server.configFile], null);
        expect(r.code, r.stderr).toBe(0);
        const unlock = await desk.call('vault:unlock', { profileId: desk.profileId, passphrase: WORKSTATION_PASS });
        expect(unlock.ok ? null : unlock.error).toMatchObject({
          code: 'PROFILE_WIPED',
          details: { reason: 'account-disabled' },
        });
        expect(existsSync(join(desk.dir, 'profiles', desk.profileId))).toBe(false);
      } finally {
        await desk.dispose();
      }
    },
    SPAWNS,
  );
});
