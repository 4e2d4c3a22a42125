/**
 * clinic-admin as an administrator runs it (issue 15): the real CLI in a child process, real
 * OpenPGP keys and files. keygen → wipe → the workstation's verifyAdminCommand accepts the command
 * with the printed fingerprint pinned; every bad input gives its message and exit code.
 * The CLI reads the wall clock and the test verifies at the wall clock: one clock, any day.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAdminCommand } from '../../main/crypto/admin-command';

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

async function cli(args: string[], passphrase: string | null = PASS): Promise<Outcome> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.CLINIC_ADMIN_PASSPHRASE;
  if (passphrase !== null) env.CLINIC_ADMIN_PASSPHRASE = passphrase;
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
      expect(r.stdout).toMatch(/Sending it to the workstations: planned \(not yet implemented\); nothing was sent/);
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
        [['wipe', 'alice@clinic.test', '--key', keyFile], /wipe needs --out/],
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
      expect(top.stdout).toMatch(/keygen[\s\S]*wipe[\s\S]*\(sending: planned\)/);
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
