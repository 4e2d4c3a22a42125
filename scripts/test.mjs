#!/usr/bin/env node
// `npm test`: every vitest project (unit, integration, e2e) against real components —
// Prosody on loopback, gnome-keyring in a private D-Bus session, Debian's Chromium.
//
// 1. Linux: checks the system tools the tests need. Missing and root → apt-get installs them;
//    missing and not root → prints the exact apt command and exits 1.
// 2. Builds (renderer with vite; main/preload with scripts/build-main.mjs when present).
// 3. Runs `vitest run` inside scripts/with-keyring.sh, passing extra args through
//    (`npm test -- --project unit`), with the JSON reporter writing artifacts/vitest.json.
// 4. Prints `N passed, N failed, N skipped` from that JSON and exits with vitest's status.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);

/** What the tests need from the OS, and which Debian package provides it. */
const SYSTEM_DEPS = [
  { path: 'prosody', pkg: 'prosody' },
  { path: 'prosodyctl', pkg: 'prosody' },
  { path: 'gnome-keyring-daemon', pkg: 'gnome-keyring' },
  { path: 'dbus-run-session', pkg: 'dbus-daemon' },
  { path: 'dbus-send', pkg: 'dbus-bin' },
  { path: 'dbus-launch', pkg: 'dbus-x11' },
  { path: 'openssl', pkg: 'openssl' },
  // Prosody's SQLite storage (indexed archive; the built-in store caps archives at 10,000 items).
  { path: `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/lua/5.4/dbd/sqlite3.so`, pkg: 'lua-dbi-sqlite3' },
  { path: '/usr/bin/chromium', pkg: 'chromium' },
];

function onPath(cmd) {
  if (cmd.startsWith('/')) return existsSync(cmd);
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin']);
  return dirs.some((d) => d && existsSync(join(d, cmd)));
}

function run(cmd, args, opts = {}) {
  // Windows: npx is npx.cmd, which only a shell resolves.
  const r = spawnSync(cmd, args, { stdio: 'inherit', shell: process.platform === 'win32', ...opts });
  if (r.error) throw r.error;
  return r.status ?? (r.signal ? 128 : 1);
}

function ensureSystemDeps() {
  if (process.platform !== 'linux') return;
  const missing = [...new Set(SYSTEM_DEPS.filter((d) => !onPath(d.path)).map((d) => d.pkg))];
  if (missing.length === 0) return;
  const install = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !onPath('apt-get')) {
    console.error(`npm test needs these system packages: ${missing.join(' ')}`);
    console.error(`Install them (Debian/Ubuntu) with:\n\n  sudo apt-get update && sudo ${install}\n`);
    process.exit(1);
  }
  console.log(`Installing missing system packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (run('apt-get', ['update'], { env }) !== 0 || run('sh', ['-c', install], { env }) !== 0) {
    console.error('apt-get failed; the tests cannot run without these packages.');
    process.exit(1);
  }
}

function build() {
  if (run('npx', ['vite', 'build', '--logLevel', 'warn']) !== 0) {
    console.error('renderer build failed');
    process.exit(1);
  }
  if (existsSync('scripts/build-main.mjs') && run('node', ['scripts/build-main.mjs']) !== 0) {
    console.error('main/preload build failed');
    process.exit(1);
  }
}

/** Reads vitest's JSON report; a file that failed to load counts as one failure. */
function summarize(file) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  let failed = report.numFailedTests ?? 0;
  const brokenFiles = [];
  for (const suite of report.testResults ?? []) {
    const failedInFile = (suite.assertionResults ?? []).filter((a) => a.status === 'failed').length;
    if (suite.status === 'failed' && failedInFile === 0) {
      brokenFiles.push(suite.name);
      failed += 1;
    }
  }
  return {
    passed: report.numPassedTests ?? 0,
    failed,
    skipped: (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0),
    brokenFiles,
  };
}

function main() {
  ensureSystemDeps();
  build();
  const jsonFile = 'artifacts/vitest.json';
  mkdirSync('artifacts', { recursive: true });
  rmSync(jsonFile, { force: true });
  const vitest = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${jsonFile}`, ...process.argv.slice(2)];
  const useKeyring = process.platform === 'linux';
  const status = useKeyring ? run('bash', ['scripts/with-keyring.sh', 'npx', ...vitest]) : run('npx', vitest);
  if (!existsSync(jsonFile)) {
    console.error(`vitest wrote no report (exit status ${status})`);
    console.log('0 passed, 1 failed');
    process.exit(status === 0 ? 1 : status);
  }
  const s = summarize(jsonFile);
  for (const f of s.brokenFiles) console.error(`test file failed to run: ${f}`);
  console.log(`${s.passed} passed, ${s.failed} failed${s.skipped ? `, ${s.skipped} skipped` : ''}`);
  process.exit(status !== 0 ? status : s.failed > 0 ? 1 : 0);
}

main();
