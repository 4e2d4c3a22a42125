// One system-package check for `npm test` and `npm run demo` (issue 11 item 12): which Debian
// packages are missing for a given set of present files, the apt command a non-root user is
// shown, apt-get as root, and the demo stopping on a missing package before it builds anything.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ensureSystemDeps,
  missingPackages,
  SYSTEM_DEPS,
  type SystemDepCommand,
  type SystemDepsIo,
} from '../../scripts/system-deps.mjs';

const allPaths = SYSTEM_DEPS.map((d) => d.path);
const presentExcept =
  (...absent: string[]) =>
  (path: string) =>
    !absent.includes(path) && (allPaths.includes(path) || path === 'apt-get');

function fakeIo(opts: { isRoot: boolean; isPresent: (path: string) => boolean; aptStatus?: number }) {
  const runs: string[] = [];
  const errors: string[] = [];
  const io: SystemDepsIo = {
    platform: 'linux',
    isRoot: () => opts.isRoot,
    isPresent: opts.isPresent,
    run: (cmd, args, env) => {
      runs.push(`${env.DEBIAN_FRONTEND ?? ''} ${cmd} ${args.join(' ')}`.trim());
      return opts.aptStatus ?? 0;
    },
    log: () => undefined,
    error: (text) => errors.push(text),
  };
  return { io, runs, errors };
}

describe('missingPackages', () => {
  it('names nothing when every file is present', () => {
    for (const c of ['test', 'demo'] as SystemDepCommand[]) expect(missingPackages(c, presentExcept())).toEqual([]);
  });

  it('names each package once, even when several of its files are missing', () => {
    expect(missingPackages('demo', presentExcept('prosody', 'prosodyctl', 'gnome-keyring-daemon'))).toEqual([
      'prosody',
      'gnome-keyring',
    ]);
  });

  it('the demo needs Prosody, the keyring, D-Bus, openssl and the Lua SQLite driver, but not Chromium', () => {
    const none = () => false;
    expect(missingPackages('demo', none)).toEqual([
      'prosody',
      'gnome-keyring',
      'dbus-daemon',
      'dbus-bin',
      'openssl',
      'lua-dbi-sqlite3',
    ]);
    expect(missingPackages('demo', presentExcept('/usr/bin/chromium'))).toEqual([]);
    expect(missingPackages('test', presentExcept('/usr/bin/chromium'))).toEqual(['chromium']);
  });

  it('the tests need everything the demo needs', () => {
    const demoPkgs = missingPackages('demo', () => false);
    expect(missingPackages('test', () => false)).toEqual(expect.arrayContaining(demoPkgs));
  });
});

describe('ensureSystemDeps', () => {
  it('not root: prints the exact apt command and installs nothing', () => {
    const { io, runs, errors } = fakeIo({ isRoot: false, isPresent: presentExcept('prosody', 'openssl') });
    expect(ensureSystemDeps('demo', io)).toBe(false);
    expect(runs).toEqual([]);
    const text = errors.join('\n');
    expect(text).toContain('npm run demo needs these system packages: prosody openssl');
    expect(text).toContain('sudo apt-get update && sudo apt-get install -y --no-install-recommends prosody openssl');
  });

  it('root without apt-get: prints the command too', () => {
    const { io, runs, errors } = fakeIo({
      isRoot: true,
      isPresent: (p) => p !== 'apt-get' && presentExcept('gnome-keyring-daemon')(p),
    });
    expect(ensureSystemDeps('test', io)).toBe(false);
    expect(runs).toEqual([]);
    expect(errors.join('\n')).toContain('npm test needs these system packages: gnome-keyring');
  });

  it('root with apt-get: updates, then installs exactly the missing packages, non-interactively', () => {
    const { io, runs } = fakeIo({ isRoot: true, isPresent: presentExcept('prosody', '/usr/bin/chromium') });
    expect(ensureSystemDeps('test', io)).toBe(true);
    expect(runs).toEqual([
      'noninteractive apt-get update',
      'noninteractive apt-get install -y --no-install-recommends prosody chromium',
    ]);
  });

  it('a failing apt-get is a failure, not a silent pass', () => {
    const { io, errors } = fakeIo({ isRoot: true, isPresent: presentExcept('prosody'), aptStatus: 100 });
    expect(ensureSystemDeps('demo', io)).toBe(false);
    expect(errors.join('\n')).toContain('apt-get failed');
  });

  it('nothing missing: runs nothing and passes', () => {
    const { io, runs, errors } = fakeIo({ isRoot: true, isPresent: presentExcept() });
    expect(ensureSystemDeps('demo', io)).toBe(true);
    expect([...runs, ...errors]).toEqual([]);
  });
});

describe('npm run demo on a machine without the packages', () => {
  it('stops before building and prints the apt command for what the demo needs', () => {
    // An empty PATH: prosody, gnome-keyring, dbus and openssl (all in /usr/bin) are not found, nor is
    // apt-get, so even as root the script can only print the command.
    const emptyBin = mkdtempSync(join(tmpdir(), 'no-packages-'));
    try {
      const r = spawnSync(process.execPath, [resolve('scripts/demo.mjs')], {
        env: { PATH: emptyBin, HOME: emptyBin, CLINIC_DEMO_BROWSER: '1', CLINIC_DEMO_NO_BUILD: '1' },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(
        'npm run demo needs these system packages: prosody gnome-keyring dbus-daemon dbus-bin openssl',
      );
      expect(r.stderr).toMatch(
        /sudo apt-get update && sudo apt-get install -y --no-install-recommends prosody gnome-keyring/,
      );
      expect(r.stderr).not.toContain('chromium');
      expect(r.stdout).not.toContain('Starting Prosody');
    } finally {
      rmSync(emptyBin, { recursive: true, force: true });
    }
  });
});
