/**
 * The server matrix (issue 19 item 2): the same integration test against Prosody, a single
 * ejabberd node or a 2-node ejabberd cluster. vitest.config.ts runs the files it lists in
 * `serverMatrix` once per server, in projects that set CLINIC_TEST_SERVER; a file started any other
 * way gets Prosody.
 *
 * A matrix file starts its server with startTestServer() and uses only what every server has
 * (TestServer). On the cluster, clients are spread across the two nodes by the order of the users
 * given (the first on node a, the second on node b, …): makeClient asks portFor(jid). Every matrix
 * test runs on every server today; one that needs one server's feature would say so with
 * `it.skipIf(serverKind() !== '…')` and the reason in its name.
 */
import { startEjabberd, type EjabberdUser } from './ejabberd';
import { startEjabberdCluster } from './ejabberd-cluster';
import { startProsody } from './prosody';

export const SERVER_KINDS = ['prosody', 'ejabberd', 'ejabberd-cluster'] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

/** The server this run's matrix project asked for (CLINIC_TEST_SERVER); Prosody by default. */
export function serverKind(env: NodeJS.ProcessEnv = process.env): ServerKind {
  const asked = env['CLINIC_TEST_SERVER'];
  if (asked === undefined || asked === '') return 'prosody';
  const kind = SERVER_KINDS.find((k) => k === asked);
  if (!kind) throw new Error(`CLINIC_TEST_SERVER=${asked}: expected one of ${SERVER_KINDS.join(', ')}`);
  return kind;
}

export interface TestServer {
  kind: ServerKind;
  domain: string;
  host: '127.0.0.1';
  caPem: string;
  /** The first (or only) node's client port. */
  c2sPort: number;
  /** The client port this account connects to: on the cluster, its node's. */
  portFor(jid: string): number;
  /** The server goes away and comes back with its data (on the cluster: both nodes). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartTestServerOptions {
  users: EjabberdUser[];
  domain?: string;
}

export async function startTestServer(
  options: StartTestServerOptions,
  kind: ServerKind = serverKind(),
): Promise<TestServer> {
  const base = { kind, host: '127.0.0.1' as const, portFor: (_jid: string) => 0 };
  if (kind === 'prosody') {
    const s = await startProsody(options);
    return { ...base, domain: s.domain, caPem: s.caPem, c2sPort: s.c2sPort, portFor: () => s.c2sPort, ...lifecycle(s) };
  }
  if (kind === 'ejabberd') {
    const s = await startEjabberd(options);
    return { ...base, domain: s.domain, caPem: s.caPem, c2sPort: s.c2sPort, portFor: () => s.c2sPort, ...lifecycle(s) };
  }
  const cluster = await startEjabberdCluster(options);
  const [a, b] = cluster.nodes;
  const nodeOf = new Map(options.users.map((u, i) => [u.jid, i % 2 === 0 ? a : b]));
  return {
    ...base,
    domain: cluster.domain,
    caPem: cluster.caPem,
    c2sPort: a.c2sPort,
    portFor: (jid) => (nodeOf.get(bare(jid)) ?? a).c2sPort,
    async restart() {
      // Mnesia: the node that went down last comes up first.
      await b.halt();
      await a.halt();
      await a.restart();
      await b.restart();
    },
    stop: () => cluster.stop(),
  };
}

function lifecycle(s: { restart(): Promise<void>; stop(): Promise<void> }): Pick<TestServer, 'restart' | 'stop'> {
  return { restart: () => s.restart(), stop: () => s.stop() };
}

const bare = (jid: string): string => jid.split('/')[0] ?? jid;
