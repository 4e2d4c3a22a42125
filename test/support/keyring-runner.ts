/**
 * Vitest runner for the projects that use the real OS keychain (integration, e2e): the file
 * runner (test/support/runner.ts), plus a D-Bus session bus and an unlocked gnome-keyring of this
 * worker process's own, so worker processes run files in parallel without sharing one daemon.
 *
 * Per worker process, not per file: the native Secret Service client (@napi-rs/keyring) connects
 * to the session bus once and keeps that connection for the life of the process. A bus started for
 * one file and stopped after it would leave every later file of the worker without a keychain.
 * The files of one worker run one after another and each uses service names of its own
 * (test/support/test-keychain.ts), so sharing the daemon within a worker is safe.
 *
 * With one daemon shared by the whole run, a clean-clone CI run once saw it go away mid-suite and
 * every later keychain test failed; scripts/with-keyring.sh now starts it again on the same
 * keyring if it dies, and a worker's daemon is one of several.
 *
 * The bus and daemon come from scripts/with-keyring.sh, the same script that `npm test` and the
 * demo use: started without a session bus, it opens one with `dbus-run-session`, starts the daemon,
 * waits until org.freedesktop.secrets answers, then runs our command. The command prints the bus
 * address and waits for stdin to close. When this worker process ends, the pipe closes, the
 * command ends, and the script stops the daemon and the bus.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import FileRunner from './runner';

const script = fileURLToPath(new URL('../../scripts/with-keyring.sh', import.meta.url));

/** Survives the per-file module reset (test/support/runner.ts): one per worker process. */
const WORKER_KEYRING = Symbol.for('clinic.test.worker-keyring');

function startPrivateKeyring(): Promise<string> {
  const env = { ...process.env };
  delete env.DBUS_SESSION_BUS_ADDRESS;
  const child = spawn(script, ['sh', '-c', 'printf "%s\\n" "$DBUS_SESSION_BUS_ADDRESS"; exec cat >/dev/null'], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  let started = false;
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) {
        started = true;
        // The pipe to the script must not keep the worker alive, nor end before the worker does.
        child.unref();
        for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?: () => void }).unref?.();
        resolve(line);
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (!started)
        reject(new Error(`this worker's private keyring did not start (exit ${String(code)}): ${stderr.trim()}`));
    });
    // Once started, what the script says (a daemon that died mid-run, with its log) goes to this
    // worker's stderr, where the run's output shows it beside the test that then fails.
    child.stderr.on('data', (chunk: string) => {
      if (started) process.stderr.write(chunk);
    });
  });
}

export default class KeyringRunner extends FileRunner {
  override async onBeforeCollect(): Promise<void> {
    await super.onBeforeCollect();
    const g = globalThis as { [WORKER_KEYRING]?: Promise<string> };
    g[WORKER_KEYRING] ??= startPrivateKeyring();
    process.env.DBUS_SESSION_BUS_ADDRESS = await g[WORKER_KEYRING];
  }
}
