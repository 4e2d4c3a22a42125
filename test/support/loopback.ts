/** Loopback ports for the servers the tests start (prosody.ts, ejabberd.ts). */
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';

const handedOut = new Set<number>();

/** Whether a listener can bind `port` on the loopback right now. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** The first port of the kernel's ephemeral range (Linux; 32768 where it cannot be read). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 20_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/**
 * A port nothing listens on right now, for a test server that binds it a moment later. Chosen
 * below the kernel's ephemeral range: a port from that range (listen(0)) can meanwhile become the
 * local port of one of the suite's many outgoing connections, and the server then fails with
 * EADDRINUSE (seen once in CI: an ejabberd cluster node). Another process may still take a port
 * from here before we do, but only by binding it on purpose (another test file's server: seen in CI
 * too). The launchers see that in the server's log and start again on new ports
 * (startAfreshWhenPortTaken below).
 */
export async function freePort(): Promise<number> {
  const low = ephemeralLow();
  for (let i = 0; i < 64; i++) {
    const port = 10_000 + randomInt(low - 10_000);
    // Never the same port twice in this process: servers started together (Promise.all) would
    // otherwise be handed one port while neither listens yet.
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await canListen(port)) return port;
  }
  throw new Error('no free loopback port below the ephemeral range');
}

/** Whether something accepts TCP connections on the loopback port. */
export async function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * A port of ours that another process bound between freePort() choosing it and the server binding
 * it (seen in CI: a Prosody port, and an ejabberd cluster node's client port, while other test
 * files started servers). The launchers throw it and start again on new ports.
 */
export class PortTakenError extends Error {}

/** `start()` again, up to three times in all, while it fails with PortTakenError (it cleans up after itself). */
export async function startAfreshWhenPortTaken<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (!(err instanceof PortTakenError) || attempt === 3) throw err;
      console.warn(`${err.message}: starting again on other ports`);
    }
  }
}
