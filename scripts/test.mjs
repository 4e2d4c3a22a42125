#!/usr/bin/env node
// `npm test`: every vitest project (unit, integration, e2e) against real components —
// Prosody on loopback, gnome-keyring in a private D-Bus session, Debian's Chromium.
//
// 1. Linux: checks the system tools the tests need (scripts/system-deps.mjs, shared with the
//    demo). Missing and root → apt-get installs them; otherwise prints the exact apt command, exits 1.
// 2. Builds (renderer with vite; main/preload with scripts/build-main.mjs when present).
// 3. Runs `vitest run` inside scripts/with-keyring.sh, passing extra args through
//    (`npm test -- --project unit`), with the JSON reporter writing artifacts/vitest.json.
// 4. Prints each failure with its project and reason (scripts/failures-reporter.mjs writes them to
//    artifacts/vitest-failures.json, hook errors included), then `N passed, N failed, N skipped`
//    from the JSON report, and exits with vitest's status.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { ensureSystemDeps } from './system-deps.mjs';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);

function run(cmd, args, opts = {}) {
  // Windows: npx is npx.cmd, which only a shell resolves.
  const r = spawnSync(cmd, args, { stdio: 'inherit', shell: process.platform === 'win32', ...opts });
  if (r.error) throw r.error;
  return r.status ?? (r.signal ? 128 : 1);
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
  if (!ensureSystemDeps('test')) process.exit(1);
  build();
  const jsonFile = 'artifacts/vitest.json';
  const failuresFile = process.env.VITEST_FAILURES_FILE || 'artifacts/vitest-failures.json';
  mkdirSync('artifacts', { recursive: true });
  rmSync(jsonFile, { force: true });
  rmSync(failuresFile, { force: true });
  const vitest = [
    'vitest',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile=${jsonFile}`,
    '--reporter=./scripts/failures-reporter.mjs',
    ...process.argv.slice(2),
  ];
  const useKeyring = process.platform === 'linux';
  const status = useKeyring ? run('bash', ['scripts/with-keyring.sh', 'npx', ...vitest]) : run('npx', vitest);
  if (!existsSync(jsonFile)) {
    console.error(`vitest wrote no report (exit status ${status})`);
    console.log('0 passed, 1 failed');
    process.exit(status === 0 ? 1 : status);
  }
  const s = summarize(jsonFile);
  for (const f of s.brokenFiles) console.error(`test file failed to run: ${f}`);
  if (existsSync(failuresFile)) {
    for (const f of JSON.parse(readFileSync(failuresFile, 'utf8'))) {
      console.error(`FAILED [${f.project}] ${f.file} > ${f.where}: ${f.reason}`);
    }
  }
  console.log(`${s.passed} passed, ${s.failed} failed${s.skipped ? `, ${s.skipped} skipped` : ''}`);
  process.exit(status !== 0 ? status : s.failed > 0 ? 1 : 0);
}

main();
