// The system packages `npm test` and `npm run demo` need on Linux, checked in one place
// (issue 11 item 12: the demo must work on a fresh Debian/Ubuntu machine as the tests do).
// Missing and root with apt-get → installs them; otherwise prints the exact apt command.
//
// The pure part (which packages are missing, the advice text) takes its inputs as parameters so
// test/unit/system-deps.test.ts can check it without touching the machine.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const libArch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';

/**
 * What each command needs from the OS, and which Debian package provides it. `for` names the
 * commands that need it: the demo opens no browser of its own (Electron, or URLs the user opens),
 * so it does not need Chromium; dbus-launch is only for the tests' Electron launch.
 */
export const SYSTEM_DEPS = [
  { path: 'prosody', pkg: 'prosody', for: ['test', 'demo'] },
  { path: 'prosodyctl', pkg: 'prosody', for: ['test', 'demo'] },
  { path: 'gnome-keyring-daemon', pkg: 'gnome-keyring', for: ['test', 'demo'] },
  { path: 'dbus-run-session', pkg: 'dbus-daemon', for: ['test', 'demo'] },
  { path: 'dbus-send', pkg: 'dbus-bin', for: ['test', 'demo'] },
  { path: 'dbus-launch', pkg: 'dbus-x11', for: ['test'] },
  // The demo CA and server certificate (test/support/prosody.ts).
  { path: 'openssl', pkg: 'openssl', for: ['test', 'demo'] },
  // Prosody's SQLite storage (indexed archive; the built-in store caps archives at 10,000 items).
  { path: `/usr/lib/${libArch}-linux-gnu/lua/5.4/dbd/sqlite3.so`, pkg: 'lua-dbi-sqlite3', for: ['test', 'demo'] },
  { path: '/usr/bin/chromium', pkg: 'chromium', for: ['test'] },
  // The deb's maintainer scripts run for real, as root would run them (test/unit/deb-maintainer-scripts).
  { path: 'fakeroot', pkg: 'fakeroot', for: ['test'] },
  // The clustered server (deploy/ejabberd/) and its SQLite driver, for the server matrix tests.
  { path: 'ejabberdctl', pkg: 'ejabberd', for: ['test'] },
  // (Debian 12 ships exactly this version; a newer release changes the folder name here.)
  { path: '/usr/lib/erlang/lib/p1_sqlite3-1.1.14', pkg: 'erlang-p1-sqlite3', for: ['test'] },
];

/** Debian packages (each once, in SYSTEM_DEPS order) whose files `command` needs and `isPresent` does not find. */
export function missingPackages(command, isPresent, deps = SYSTEM_DEPS) {
  return [...new Set(deps.filter((d) => d.for.includes(command) && !isPresent(d.path)).map((d) => d.pkg))];
}

/** The apt-get command line that installs `pkgs` (without sudo). */
export const aptInstallCommand = (pkgs) => `apt-get install -y --no-install-recommends ${pkgs.join(' ')}`;

/** What a user who cannot install (not root, or no apt-get) is told: the exact command to run. */
export function installAdvice(command, pkgs) {
  return (
    `npm ${command === 'test' ? 'test' : 'run demo'} needs these system packages: ${pkgs.join(' ')}\n` +
    `Install them (Debian/Ubuntu) with:\n\n  sudo apt-get update && sudo ${aptInstallCommand(pkgs)}\n`
  );
}

/** A command on PATH (or the sbin folders root's PATH has), or an absolute path that exists. */
export function onPath(cmd, env = process.env) {
  if (cmd.startsWith('/')) return existsSync(cmd);
  const dirs = (env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin']);
  return dirs.some((d) => d && existsSync(join(d, cmd)));
}

const systemIo = {
  platform: process.platform,
  isRoot: () => typeof process.getuid === 'function' && process.getuid() === 0,
  isPresent: (path) => onPath(path),
  run: (cmd, args, env) => {
    const r = spawnSync(cmd, args, { stdio: 'inherit', env });
    return r.error ? 1 : (r.status ?? 1);
  },
  log: (text) => console.log(text),
  error: (text) => console.error(text),
};

/**
 * Checks (and as root installs) what `command` ('test' or 'demo') needs. Returns true when
 * everything is there; false after printing why not, and the caller exits 1. Other platforms
 * are not checked: their prerequisites are in the README.
 */
export function ensureSystemDeps(command, io = systemIo) {
  if (io.platform !== 'linux') return true;
  const missing = missingPackages(command, io.isPresent);
  if (missing.length === 0) return true;
  if (!io.isRoot() || !io.isPresent('apt-get')) {
    io.error(installAdvice(command, missing));
    return false;
  }
  io.log(`Installing missing system packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (
    io.run('apt-get', ['update'], env) !== 0 ||
    io.run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], env) !== 0
  ) {
    io.error(`apt-get failed; npm ${command === 'test' ? 'test' : 'run demo'} cannot run without these packages.`);
    return false;
  }
  return true;
}
