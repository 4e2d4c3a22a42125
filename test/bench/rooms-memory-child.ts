/**
 * The child process of rooms.bench.ts's memory figures (issue 18 §6): only the measured
 * workstation, the app's client (test/support/xmpp-support.ts makeClient) of one account, in a
 * Node process of its own, so that its RSS is that workstation's and not the bench process's (48
 * generated keys, other clients, and the allocator arenas they leave behind).
 *
 * rooms.bench.ts forks this file with its own execArgv (tsx's loader, as the bench runs) plus
 * --expose-gc, hands it the server and account in CLINIC_ROOMS_MEMORY_SETUP (JSON in the
 * environment: the password never reaches argv), and drives it over the fork's IPC channel:
 *
 *   child  → { type: 'before', sample }  signed in for the first time (its key generated and
 *                                         published), restarted, settled: no rooms
 *   parent → { type: 'go' }              the parent has made the account a member of `rooms` rooms
 *   child  → { type: 'after', sample }   restarted again, every room joined, settled
 *
 * then it closes the client and exits. No key is generated between the two samples. Each sample is
 * taken after two full GCs, with the client's event list emptied. Not a bench file itself (only
 * *.bench.ts files are: scripts/bench.mjs), and it prints nothing: no message text, no password, no key.
 */
import { readFileSync } from 'node:fs';
import { makeClient, waitFor, type XmppTestServer } from '../support/xmpp-support';

/**
 * The environment variable that carries the setup (JSON). A type, not a constant: rooms.bench.ts
 * imports only types from this file, since importing a value would run the child in the bench.
 */
export type RoomsMemorySetupEnv = 'CLINIC_ROOMS_MEMORY_SETUP';
const ROOMS_MEMORY_SETUP: RoomsMemorySetupEnv = 'CLINIC_ROOMS_MEMORY_SETUP';

export interface RoomsMemorySetup {
  server: Pick<XmppTestServer, 'host' | 'c2sPort' | 'caPem'>;
  jid: string;
  password: string;
  /** How many rooms the parent makes the account a member of after 'before'. */
  rooms: number;
}

/** MB (10^6 bytes) after two full GCs. */
export interface MemorySample {
  heapMB: number;
  rssMB: number;
  /** Memory of C++ objects bound to JS objects (Buffers and ArrayBuffers among them). */
  externalMB: number;
  /** The process's threads at the sample (Linux: /proc/self/status), else null. */
  threads: number | null;
}

export type ToChild = { type: 'go' };
export type FromChild = { type: 'before'; sample: MemorySample } | { type: 'after'; sample: MemorySample };

const MB = 1e6;

function sample(): MemorySample {
  // Twice: the first collection can leave finalizable objects for the second.
  global.gc!();
  global.gc!();
  const m = process.memoryUsage();
  return { heapMB: m.heapUsed / MB, rssMB: m.rss / MB, externalMB: m.external / MB, threads: threadCount() };
}

function threadCount(): number | null {
  try {
    const line = /^Threads:\s+(\d+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return line ? Number(line[1]) : null;
  } catch {
    return null;
  }
}

function send(m: FromChild): Promise<void> {
  return new Promise((resolve, reject) => process.send!(m, (err: Error | null) => (err ? reject(err) : resolve())));
}

function next(type: ToChild['type']): Promise<void> {
  return new Promise((resolve) => {
    const on = (m: ToChild) => {
      if (m.type !== type) return;
      process.off('message', on);
      resolve();
    };
    process.on('message', on);
  });
}

async function main(): Promise<void> {
  if (!process.send) throw new Error('rooms-memory-child runs forked by rooms.bench.ts (it needs the IPC channel)');
  if (!global.gc) throw new Error('rooms-memory-child needs --expose-gc');
  const raw = process.env[ROOMS_MEMORY_SETUP];
  if (!raw) throw new Error(`${ROOMS_MEMORY_SETUP} is not set`);
  const setup = JSON.parse(raw) as RoomsMemorySetup;
  delete process.env[ROOMS_MEMORY_SETUP];

  const client = await makeClient(setup.server, setup.jid, setup.password);
  // The sign-in's background work (key probes) ends.
  const quiet = () => new Promise((r) => setTimeout(r, 2_000));
  try {
    await client.messaging.inspect.settled();
    // Both samples after a restart of the same profile: the first sign-in's one-off work is behind.
    await client.restart();
    await client.messaging.inspect.settled();
    await quiet();
    client.events.length = 0;
    const before = sample();
    const go = next('go');
    await send({ type: 'before', sample: before });
    await go;

    await client.restart();
    await client.messaging.inspect.settled();
    const joined = () => client.store.rooms.list().filter((r) => r.joinedAt !== null && r.leftAt === null).length;
    await waitFor(`${setup.rooms} rooms joined`, () => joined() === setup.rooms, 120_000);
    await quiet();
    client.events.length = 0;
    await send({ type: 'after', sample: sample() });
  } finally {
    await client.close();
  }
  process.disconnect();
}

await main();
