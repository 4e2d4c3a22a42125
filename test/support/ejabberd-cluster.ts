/**
 * A real 2-node ejabberd cluster (Debian's 23.01) on loopback for tests (issue 19 item 2): two
 * Erlang nodes with distinct node names, their own ports, config dirs, spools and logs, one cookie
 * and the same TLS certificate, joined with `ejabberdctl join_cluster` exactly as
 * deploy/ejabberd/README.md tells IT to do it.
 *
 * Configuration: the same production file as the single node (test/support/ejabberd.ts renders its
 * "site:" lines), plus ONE cluster change: storage is Mnesia (`default_db` and `auth_method`), which
 * join_cluster replicates to both nodes (accounts, rosters, shared-roster groups, vCards, PEP keys,
 * the archive and offline storage). The production file's SQLite is one file per node and cannot
 * be shared; production clusters use PostgreSQL (README.md › A cluster). Provisioning goes through
 * clinic-admin's adapter (admin/server/ejabberd.ts) on the first node's API; the joined cluster
 * makes it visible on the second.
 *
 * `joined: false` starts the same two nodes WITHOUT joining them (and provisions each on its own):
 * what a test needs to show that it depends on the cluster, e.g. that a message between the nodes
 * never arrives.
 */
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDirectory } from '../../admin/server/ejabberd';
import { directoryGroups } from '../../admin/users-csv';
import {
  certificateHosts,
  makeCertificates,
  renderEjabberdTestConfig,
  setUpEjabberdNode,
  type EjabberdNode,
  type EjabberdUser,
  type NodeSetup,
} from './ejabberd';
import { portAnswers, PortTakenError, startAfreshWhenPortTaken } from './loopback';

export type { EjabberdNode };

export interface EjabberdCluster {
  kind: 'ejabberd-cluster';
  domain: string;
  host: '127.0.0.1';
  caPem: string;
  nodes: [EjabberdNode, EjabberdNode];
  /** The cluster's members as the first node sees them (`ejabberdctl list_cluster`). */
  members(): Promise<string[]>;
  /** Signed-in sessions in the whole cluster, asked of `via` (default the first node): the full JID and the node that serves it. */
  sessions(via?: EjabberdNode): Promise<{ jid: string; node: string }[]>;
  stop(): Promise<void>;
}

/** The production file as the single-node launcher renders it, with storage moved to Mnesia. */
export function renderEjabberdClusterConfig(production: string, site: Parameters<typeof renderEjabberdTestConfig>[1]) {
  let text = renderEjabberdTestConfig(production, site);
  for (const key of ['default_db', 'auth_method']) {
    const line = new RegExp(`^${key}: sql$`, 'm');
    if (!line.test(text)) throw new Error(`deploy/ejabberd/ejabberd.yml: no '${key}: sql' line to move to Mnesia`);
    text = text.replace(line, `${key}: mnesia # test cluster: replicated by join_cluster`);
  }
  return text;
}

/** Joins `joining` to `to`'s cluster and waits until the joiner serves clients again. */
async function join_(joining: NodeSetup, to: NodeSetup): Promise<void> {
  // join_cluster restarts ejabberd on the joining node with the cluster's tables: wait for that
  // start, not the first one.
  const before = readFileSync(joining.node.logFile, 'utf8').length;
  await joining.node.ctl('join_cluster', to.node.name);
  const deadline = Date.now() + 40_000;
  for (;;) {
    const log = readFileSync(joining.node.logFile, 'utf8').slice(before);
    if (log.includes('[critical]')) throw new Error(`join_cluster failed; see ${joining.node.logFile}`);
    if (log.includes('is started in the node') && (await portAnswers(joining.node.c2sPort))) return;
    if (Date.now() > deadline) throw new Error(`${joining.node.name} did not come back after join_cluster`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The two colleagues of the cluster tests, each signed in on a different node by the test. */
export const ALICE = {
  jid: 'alice@clinic.test',
  password: 'alice-pw-1',
  name: 'Alice Archer',
  role: 'physician',
} as const satisfies EjabberdUser;
export const BOB = {
  jid: 'bob@clinic.test',
  password: 'bob-pw-1',
  name: 'Bob Baker',
  role: 'nurse',
} as const satisfies EjabberdUser;

/** A joined 2-node cluster with ALICE's and BOB's accounts. */
export function clusterOfAliceAndBob(): Promise<EjabberdCluster> {
  return startEjabberdCluster({ users: [ALICE, BOB] });
}

export interface StartEjabberdClusterOptions {
  users: EjabberdUser[];
  domain?: string;
  /** false: two separate nodes, never joined (see the header). */
  joined?: boolean;
}

export function startEjabberdCluster(options: StartEjabberdClusterOptions): Promise<EjabberdCluster> {
  return startAfreshWhenPortTaken(() => startEjabberdClusterOnce(options));
}

async function startEjabberdClusterOnce(options: StartEjabberdClusterOptions): Promise<EjabberdCluster> {
  const domain = options.domain ?? 'clinic.test';
  const root = mkdtempSync(join(tmpdir(), 'ejabberd-cluster-'));
  const caPem = await makeCertificates(root, certificateHosts(domain));
  const base = `ejc${randomBytes(4).toString('hex')}`;
  const cookie = randomBytes(12).toString('hex');
  const common = { root, cookie, domain, caPem, certs: join(root, 'certs'), render: renderEjabberdClusterConfig };
  const a = await setUpEjabberdNode({ ...common, label: 'a', name: `${base}-a@localhost` });
  const b = await setUpEjabberdNode({ ...common, label: 'b', name: `${base}-b@localhost` });
  const stopAll = async () => {
    await Promise.all([a.node.halt(), b.node.halt()]);
  };
  try {
    await Promise.all([a.start(), b.start()]);
    if (options.joined !== false) await join_(b, a);
    // The directory as clinic-admin provision makes it (see ejabberd.ts); a joined cluster needs it
    // once, separate nodes each their own.
    for (const n of options.joined === false ? [a, b] : [a]) {
      for (const u of options.users) {
        const [user, host] = u.jid.split('@');
        if (!user || host !== domain) throw new Error(`user ${u.jid} is not on ${domain}`);
        await n.call('register', { user, host, password: u.password });
      }
      await writeDirectory(
        n.call,
        [domain],
        directoryGroups(
          options.users.map((u, line) => ({
            line,
            jid: u.jid,
            name: u.name,
            role: u.role ?? null,
            team: u.group ?? null,
          })),
        ),
      );
    }
  } catch (err) {
    await stopAll();
    // Its files tell why it failed, unless the reason is known: a taken port.
    if (err instanceof PortTakenError) rmSync(root, { recursive: true, force: true });
    throw err;
  }

  return {
    kind: 'ejabberd-cluster',
    domain,
    host: '127.0.0.1',
    caPem,
    nodes: [a.node, b.node],
    async members() {
      const out = await a.node.ctl('list_cluster');
      return out
        .split('\n')
        .map((l) => l.trim().replace(/^'(.*)'$/, '$1'))
        .filter(Boolean);
    },
    async sessions(via = a.node) {
      // connected_users_info: jid, connection, ip, port, priority, node, uptime, status, resource, text
      const out = await via.ctl('connected_users_info');
      return out
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t'))
        .map((f) => ({ jid: f[0] ?? '', node: f[5] ?? '' }));
    },
    async stop() {
      await stopAll();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export interface FrontDoor {
  host: '127.0.0.1';
  /** The one client port the clients are given. */
  c2sPort: number;
  caPem: string;
  /** Connections forwarded so far, by the backend port that took them. */
  forwarded(): Map<number, number>;
  close(): Promise<void>;
}

/**
 * A TCP front door on loopback for the cluster's client ports, as deploy/ejabberd/README.md puts a
 * TCP load balancer (or DNS SRV) in front of the nodes: each new connection goes to the first node
 * in `nodes` that accepts it, so while the first node is down its clients land on the next one.
 * Bytes pass unchanged (STARTTLS and the certificate are end to end).
 */
export async function startFrontDoor(nodes: EjabberdNode[]): Promise<FrontDoor> {
  const sockets = new Set<Socket>();
  const counts = new Map<number, number>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  const server = createServer((client) => {
    track(client);
    client.pause();
    client.on('error', () => client.destroy()); // the client went away: its close ends the pair
    const attempt = (i: number) => {
      const node = nodes[i];
      if (!node || client.destroyed) return void client.destroy();
      const up = connect({ host: '127.0.0.1', port: node.c2sPort });
      up.once('error', () => attempt(i + 1)); // this node does not answer: the next one
      up.once('connect', () => {
        track(up);
        counts.set(node.c2sPort, (counts.get(node.c2sPort) ?? 0) + 1);
        up.removeAllListeners('error');
        up.on('error', () => up.destroy()); // the node went away: its close ends the pair
        up.on('close', () => client.destroy());
        client.on('close', () => up.destroy());
        client.pipe(up);
        up.pipe(client);
        client.resume();
      });
    };
    attempt(0);
  });
  const port = await new Promise<number>((done, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      done(typeof addr === 'object' && addr ? addr.port : 0);
    });
  });
  return {
    host: '127.0.0.1',
    c2sPort: port,
    caPem: nodes[0]?.caPem ?? '',
    forwarded: () => new Map(counts),
    close: () =>
      new Promise<void>((done) => {
        for (const s of sockets) s.destroy();
        server.close(() => done());
      }),
  };
}
