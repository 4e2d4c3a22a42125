/**
 * Starts a real ejabberd (Debian's 23.01) on loopback for tests: the test variant of
 * deploy/ejabberd/ejabberd.yml (only its "site:" lines replaced, plus `unregister` for
 * deleteUser on its loopback HTTP API), a throwaway config dir and spool, free ports, an
 * openssl-made CA + server certificate, an Erlang node bound to loopback with its own cookie.
 * Accounts, shared-roster role groups and vCard names are made by clinic-admin's own ejabberd
 * adapter (admin/server/ejabberd.ts) over the production file's API listener (ejabberdctl starts
 * an Erlang VM per call: about 2 s each). The returned object has the fields the messaging tests
 * use from ProsodyServer, and `apiUrl` for `clinic-admin --ejabberd-api`.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Role } from '../../common/contract/domain';
import { ejabberdApi, writeDirectory, type EjabberdCall } from '../../admin/server/ejabberd';
import { directoryGroups } from '../../admin/users-csv';
import { freePort, portAnswers, PortTakenError, startAfreshWhenPortTaken } from './loopback';

const run = promisify(execFile);
// Under vitest and under tsx (the load benchmark) alike: no __dirname in an ES module.
const PRODUCTION = fileURLToPath(new URL('../../deploy/ejabberd/ejabberd.yml', import.meta.url));

export interface EjabberdUser {
  jid: string;
  password: string;
  name: string;
  role?: Role;
  group?: string;
}

/** A single ejabberd node as the tests' server: the node's address, files and controls, plus its accounts. */
export interface EjabberdServer extends Pick<
  EjabberdNode,
  'host' | 'c2sPort' | 'caPem' | 'apiUrl' | 'dir' | 'logFile' | 'restart' | 'halt'
> {
  kind: 'ejabberd';
  domain: string;
  stop(): Promise<void>;
  addUser(user: EjabberdUser): Promise<void>;
  deleteUser(jid: string): Promise<void>;
}

/** A CA and one server certificate for every host ejabberd serves (PEM with its key, as ejabberd wants). */
export async function makeCertificates(dir: string, hosts: string[]): Promise<string> {
  const ca = join(dir, 'ca');
  mkdirSync(ca);
  const o = (args: string[]) => run('openssl', args, { cwd: ca });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await o(['req', '-x509', ...ec, '-days', '2', '-subj', '/CN=Clinic Test CA', '-keyout', 'ca.key', '-out', 'ca.crt']);
  await o(['req', ...ec, '-subj', `/CN=${hosts[0]}`, '-keyout', 'server.key', '-out', 'server.csr']);
  writeFileSync(join(ca, 'ext.cnf'), `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(',')},IP:127.0.0.1\n`);
  await o(
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2'].concat([
      '-extfile',
      'ext.cnf',
      '-out',
      'server.crt',
    ]),
  );
  const certs = join(dir, 'certs');
  mkdirSync(certs);
  writeFileSync(
    join(certs, 'server.pem'),
    readFileSync(join(ca, 'server.crt'), 'utf8') + readFileSync(join(ca, 'server.key'), 'utf8'),
  );
  return readFileSync(join(ca, 'ca.crt'), 'utf8');
}

export interface Site {
  domain: string;
  certs: string;
  c2s: number;
  c2sTls: number;
  https: number;
  api: number;
  upload: string;
  sqlite: string;
}

/**
 * The production file with its "site:" lines replaced (each is ONE line, see its header), and the
 * test-only HTTP API listener on loopback. Throws when a site line is missing: the production file
 * and this launcher must not drift apart silently.
 */
export function renderEjabberdTestConfig(production: string, site: Site): string {
  const values: Record<string, string> = {
    hosts: `["${site.domain}"]`,
    certfiles: `["${site.certs}/*.pem"]`,
    LISTEN_IP: '"127.0.0.1"',
    C2S_PORT: String(site.c2s),
    C2S_TLS_PORT: String(site.c2sTls),
    HTTPS_PORT: String(site.https),
    API_PORT: String(site.api),
    UPLOAD_URL: `"https://127.0.0.1:${site.https}/upload"`,
    UPLOAD_DIR: `"${site.upload}"`,
    SQLITE_FILE: `"${site.sqlite}"`,
  };
  const seen = new Set<string>();
  const lines = production.split('\n').map((line) => {
    const m = /^(\s*)([A-Za-z0-9_]+): .*# site:/.exec(line);
    if (!m) return line;
    const key = m[2]!;
    const value = values[key];
    if (value === undefined) throw new Error(`deploy/ejabberd/ejabberd.yml: no test value for site line '${key}'`);
    seen.add(key);
    return `${m[1]}${key}: ${value}`;
  });
  const missing = Object.keys(values).filter((k) => !seen.has(k));
  if (missing.length > 0) throw new Error(`deploy/ejabberd/ejabberd.yml lacks site lines: ${missing.join(', ')}`);
  // Test only: deleteUser's `unregister`, which clinic-admin never calls (the production file's
  // permissions allow clinic-admin's commands only, and the tests use exactly those).
  return lines
    .join('\n')
    .replace(
      /^api_permissions:\n/m,
      `api_permissions:\n  "test only":\n    from:\n      - mod_http_api\n    who:\n      ip: 127.0.0.1/32\n    what:\n      - unregister\n`,
    );
}

/** One ejabberd node of a test: its controls, as EjabberdCluster.nodes lists them. */
export interface EjabberdNode {
  /** The Erlang node name, e.g. ejc1a2b3c4d-a@localhost. */
  name: string;
  host: '127.0.0.1';
  /** This node's STARTTLS client port: a client given this port is served by this node. */
  c2sPort: number;
  caPem: string;
  /** ejabberd's HTTP API on loopback, as clinic-admin's --ejabberd-api takes it. */
  apiUrl: string;
  dir: string;
  logFile: string;
  /** Stops this node but keeps its files: restart() brings the same node back. */
  halt(): Promise<void>;
  /** `kill -9` of this node's Erlang VM (found by its unique node name), as a crash; its files stay. */
  crash(): Promise<void>;
  /** SIGSTOP of this node's Erlang VM: frozen, not crashed (its sockets stay open, nothing answers). */
  freeze(): void;
  /** SIGCONT of a frozen node's VM. */
  thaw(): void;
  /** Starts a halted node again (in a cluster it comes back as a member: its Mnesia schema says so). */
  restart(): Promise<void>;
  /** ejabberdctl on this node. */
  ctl(...args: string[]): Promise<string>;
}

export interface NodeSetup {
  node: EjabberdNode;
  /** The first start (and each restart): resolves once the log says so and both ports answer. */
  start(): Promise<void>;
  /** Its HTTP API, as clinic-admin's adapter calls it. */
  call: EjabberdCall;
}

/**
 * Lays out one node in `<root>/<label>` (config, ejabberdctl.cfg, spool, logs, upload folder) on
 * free loopback ports, from the production file as `render` makes it; not started. Erlang stays on
 * loopback; ejabberdctl runs as the current user (without EXEC_CMD it switches to the 'ejabberd'
 * user, who cannot read this temp dir). Nodes of one cluster share `cookie` and differ by `name`.
 */
export async function setUpEjabberdNode(o: {
  root: string;
  label: string;
  name: string;
  cookie: string;
  domain: string;
  caPem: string;
  certs: string;
  render: (production: string, site: Site) => string;
}): Promise<NodeSetup> {
  const dir = join(o.root, o.label);
  const spool = join(dir, 'spool');
  const logs = join(dir, 'logs');
  const upload = join(dir, 'upload');
  for (const d of [dir, spool, logs, upload]) mkdirSync(d);
  const [c2s, c2sTls, https, api] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const config = join(dir, 'ejabberd.yml');
  const site = {
    domain: o.domain,
    certs: o.certs,
    c2s,
    c2sTls,
    https,
    api,
    upload,
    sqlite: join(spool, 'clinic.sqlite'),
  };
  writeFileSync(config, o.render(readFileSync(PRODUCTION, 'utf8'), site));
  const { name } = o;
  const ctlConfig = join(dir, 'ejabberdctl.cfg');
  writeFileSync(
    ctlConfig,
    [
      'EXEC_CMD=as_current_user',
      'ERL_EPMD_ADDRESS=127.0.0.1',
      'INET_DIST_INTERFACE=127.0.0.1',
      `ERLANG_NODE=${name}`,
      `ERL_OPTIONS="-setcookie ${o.cookie}"`,
      '',
    ].join('\n'),
  );
  if (existsSync('/etc/ejabberd/inetrc')) copyFileSync('/etc/ejabberd/inetrc', join(dir, 'inetrc'));
  const logFile = join(logs, 'ejabberd.log');
  const ctl = async (...args: string[]) => {
    const { stdout } = await run(
      'ejabberdctl',
      ['--config-dir', dir, '--config', config, '--ctl-config', ctlConfig, '--logs', logs, '--spool', spool, ...args],
      { cwd: dir },
    );
    return stdout;
  };
  const apiUrl = `http://127.0.0.1:${api}/api`;
  /** Started (again): the log says so since `from` characters, and both ports answer. */
  const started = async (from: number) => {
    const deadline = Date.now() + 40_000;
    for (;;) {
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(from) : '';
      const taken = portTakenIn(log);
      if (taken) throw new PortTakenError(`ejabberd node ${name}: ${taken}`);
      if (log.includes('[critical]')) throw new Error(`ejabberd node ${name} did not start; see ${logFile}`);
      if (log.includes('is started in the node') && (await portAnswers(c2s)) && (await portAnswers(api))) return;
      if (Date.now() > deadline)
        throw new Error(`ejabberd node ${name} did not open port ${c2s}; the end of ${logFile}: ${logTail(log)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const logLength = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').length : 0);
  const start = async () => {
    const from = logLength();
    await ctl('start');
    await started(from);
  };
  /** The VM is the process whose arguments hold `-sname <name>` (ejabberdctl's own calls use other names). */
  const vmPids = () =>
    readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
          return argv.some((arg, i) => arg === '-sname' && argv[i + 1] === name);
        } catch {
          return false; // gone meanwhile, or not ours to read
        }
      })
      .map(Number);
  const vmPid = () => {
    const pids = vmPids();
    if (pids.length !== 1) throw new Error(`expected one Erlang VM for ${name}, found ${pids.length}`);
    return pids[0]!;
  };
  const node: EjabberdNode = {
    name,
    host: '127.0.0.1',
    c2sPort: c2s,
    caPem: o.caPem,
    apiUrl,
    dir,
    logFile,
    async halt() {
      // SIGTERM makes the Erlang VM run init:stop(), the orderly shutdown `ejabberdctl stop` asks for
      // (ejabberd stops its listeners and applications, Mnesia closes its tables), without the two
      // ejabberdctl calls of about 2 s each that `stop` and `stopped` cost. SIGCONT lets a frozen
      // VM act on it. Not running: nothing to stop.
      const pids = vmPids();
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGTERM');
          process.kill(pid, 'SIGCONT');
        } catch {
          // gone meanwhile: nothing to stop
        }
      }
      const deadline = Date.now() + 30_000;
      while (vmPids().length > 0) {
        if (Date.now() > deadline) throw new Error(`ejabberd node ${name} did not stop within 30 s of SIGTERM`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async crash() {
      process.kill(vmPid(), 'SIGKILL');
      while (await portAnswers(c2s)) await new Promise((r) => setTimeout(r, 50));
    },
    freeze() {
      process.kill(vmPid(), 'SIGSTOP');
    },
    thaw() {
      process.kill(vmPid(), 'SIGCONT');
    },
    restart: start,
    ctl,
  };
  return { node, start, call: ejabberdApi(new URL(apiUrl)) };
}

/** ejabberd's log line for a listener whose port another process holds, if the log has one. */
export const portTakenIn = (log: string): string | undefined =>
  /Failed to open socket at \S+ for \S+: address already in use/.exec(log)?.[0];

/** A failed start's last log lines (ejabberd logs no message content), for the CI's one-line reason. */
const logTail = (log: string) => JSON.stringify(log.trim().split('\n').slice(-6).join(' | ') || '(empty)');

/** The hosts the test certificate names: the domain and its components. */
export const certificateHosts = (domain: string) => [
  domain,
  `upload.${domain}`,
  `conference.${domain}`,
  `pubsub.${domain}`,
];

export function startEjabberd(options: { users: EjabberdUser[]; domain?: string }): Promise<EjabberdServer> {
  return startAfreshWhenPortTaken(() => startEjabberdOnce(options));
}

async function startEjabberdOnce(options: { users: EjabberdUser[]; domain?: string }): Promise<EjabberdServer> {
  const domain = options.domain ?? 'clinic.test';
  const root = mkdtempSync(join(tmpdir(), 'ejabberd-test-'));
  const caPem = await makeCertificates(root, certificateHosts(domain));
  const { node, start, call } = await setUpEjabberdNode({
    root,
    label: 'node',
    name: `ejt${randomBytes(4).toString('hex')}@localhost`,
    cookie: randomBytes(12).toString('hex'),
    domain,
    caPem,
    certs: join(root, 'certs'),
    render: renderEjabberdTestConfig,
  });
  // The directory as clinic-admin provision makes it (admin/server/ejabberd.ts): hidden
  // clinic-everyone (@all@) displays the role groups; a team group displays itself.
  const people: EjabberdUser[] = [];
  const directory = () =>
    writeDirectory(
      call,
      [domain],
      directoryGroups(
        people.map((u, line) => ({ line, jid: u.jid, name: u.name, role: u.role ?? null, team: u.group ?? null })),
      ),
    );
  const register = async (u: EjabberdUser) => {
    const [user, host] = u.jid.split('@');
    if (!user || host !== domain) throw new Error(`user ${u.jid} is not on ${domain}`);
    await call('register', { user, host, password: u.password });
    people.push(u);
  };

  try {
    await start();
    for (const u of options.users) await register(u);
    await directory();
  } catch (err) {
    await node.halt();
    // Its files tell why it failed, unless the reason is known: a taken port.
    if (err instanceof PortTakenError) rmSync(root, { recursive: true, force: true });
    throw err;
  }

  return {
    kind: 'ejabberd',
    domain,
    host: '127.0.0.1',
    c2sPort: node.c2sPort,
    caPem,
    apiUrl: node.apiUrl,
    dir: root,
    logFile: node.logFile,
    async restart() {
      await node.halt();
      await start();
    },
    async stop() {
      await node.halt();
      rmSync(root, { recursive: true, force: true });
    },
    halt: () => node.halt(),
    async addUser(u) {
      await register(u);
      await directory();
    },
    async deleteUser(jid) {
      const [user, host] = jid.split('@');
      await call('unregister', { user: user ?? '', host: host ?? '' });
      const i = people.findIndex((p) => p.jid === jid);
      if (i >= 0) people.splice(i, 1);
    },
  };
}
