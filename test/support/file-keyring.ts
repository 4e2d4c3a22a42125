/**
 * Vitest setup file (integration and e2e projects): each test file gets a D-Bus session bus and an
 * unlocked gnome-keyring of its own, so files can run in parallel without sharing one daemon.
 *
 * With one daemon shared by the whole run, a clean-clone CI run saw it go away mid-suite; D-Bus
 * then activated a fresh daemon with no unlocked login keyring and every later keychain test
 * failed (issue 11 item 10). A daemon per file keeps one file's keychain trouble inside that file.
 *
 * The bus and daemon come from scripts/with-keyring.sh, the same script that `npm test` and the
 * demo use: started without a session bus, it opens one with `dbus-run-session`, starts the daemon,
 * waits until org.freedesktop.secrets answers, then runs our command. The command prints the bus
 * address and waits for stdin to close. Closing stdin (after the file, or when this worker dies
 * and the pipe breaks) ends the command, and the script stops the daemon and the bus.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

const script = fileURLToPath(new URL('../../scripts/with-keyring.sh', import.meta.url));

function startPrivateKeyring(): Promise<{ address: string; stop: () => void }> {
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
        resolve({ address: line, stop: () => child.stdin.end() });
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      reject(new Error(`private keyring for this test file did not start (exit ${String(code)}): ${stderr.trim()}`));
    });
    // Once started, what the script says (a daemon that died mid-file, with its log) goes to this
    // worker's stderr, where the run's output shows it beside the test that then fails.
    child.stderr.on('data', (chunk: string) => {
      if (started) process.stderr.write(chunk);
    });
  });
}

const outer = process.env.DBUS_SESSION_BUS_ADDRESS;
const keyring = await startPrivateKeyring();
process.env.DBUS_SESSION_BUS_ADDRESS = keyring.address;

afterAll(() => {
  if (outer === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
  else process.env.DBUS_SESSION_BUS_ADDRESS = outer;
  keyring.stop();
});
