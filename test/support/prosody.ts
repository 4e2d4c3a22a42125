/**
 * Starts a real Prosody on loopback for tests and the demo: the test variant of
 * deploy/prosody/prosody.cfg.lua (see prosody-config.ts), a throwaway data dir, free ports,
 * an openssl-made CA + server certificate (the CA PEM is returned so clients trust it the
 * way a clinic's own CA is trusted through policy), accounts via `prosodyctl --config`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { prosodyctl } from '../../admin/server/prosody';
import { useWriteAheadLog } from '../../admin/server/prosody-journal';
import { prosodySqliteFile } from '../../admin/server/prosody-lease';
import type { Role } from '../../common/contract/domain';
import { freePort, portAnswers, PortTakenError, startAfreshWhenPortTaken } from './loopback';
import { readProductionConfig, renderGroupsFile, renderTestConfig, type GroupMember } from './prosody-config';

const run = promisify(execFile);

export interface ProsodyUser {
  jid: string;
  password: string;
  name: string;
  role?: Role;
  group?: string;
}

export interface StartProsodyOptions {
  users: ProsodyUser[];
  /** Extra (empty) team groups to declare. */
  groups?: string[];
  domain?: string;
  /** false: the insecure variant (no certificate, TLS module off) for the TLS_REQUIRED test. */
  tls?: boolean;
  /** SCRAM iterations for test accounts; production keeps Prosody's default (10000). */
  iterationCount?: number;
  /** The server's admins (`admins`): they alone create care-team rooms, and own every room. */
  admins?: string[];
  /** Benchmarks: the upload limit and daily quota in bytes (TestSwitches.fileShareLimitBytes). */
  fileShareLimitBytes?: number;
  /** Test-only modules on the rooms' MUC component (TestSwitches.mucModules), e.g. `muc_test_hostile_room`. */
  mucTestModules?: string[];
  /** 'local': every account may create care-team rooms (TestSwitches.roomCreation); left out, admins only. */
  roomCreation?: 'local';
}

export interface ProsodyServer {
  domain: string;
  host: '127.0.0.1';
  c2sPort: number;
  directTlsPort?: number;
  httpPort: number;
  /** HTTPS (XEP-0363 uploads at upload.<domain>), undefined in the insecure variant. */
  httpsPort?: number;
  caPem: string;
  dir: string;
  /** Prosody's data_path: accounts, archive, and the upload store (`upload%2e<domain>/http_file_share/`). */
  dataDir: string;
  logFile: string;
  /** The server's prosody.cfg.lua, for tools that run `prosodyctl --config` (clinic-admin). */
  configFile: string;
  /** The patient gateway's component (deploy/prosody: Component "patients.<domain>"): where it connects, its secret. */
  component: { domain: string; port: number; secret: string };
  /** The care-team rooms' MUC service (deploy/prosody: Component "rooms.<domain>" "muc"). */
  rooms: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** Stops the server process but keeps its files: restart() brings the same server back (accounts, archive). */
  halt(): Promise<void>;
  /**
   * SIGSTOP of the server process: frozen, not crashed. The kernel still accepts connections on
   * its ports, nothing answers on them. restart(), halt() or stop() then kill it (SIGKILL).
   */
  freeze(): void;
  addUser(user: ProsodyUser): Promise<void>;
  /** Deletes an account while the server runs (the account then refuses to sign in). */
  deleteUser(jid: string): Promise<void>;
}

async function pickPorts(): Promise<{
  c2s: number;
  directTls: number;
  http: number;
  https: number;
  component: number;
}> {
  const [c2s, directTls, http, https, component] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  return { c2s, directTls, http, https, component };
}

const logSize = (file: string): number => {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
};

/** What Prosody logged since byte `from` ('' before the log exists). */
function readLogFrom(file: string, from: number): string {
  try {
    return readFileSync(file).subarray(from).toString('utf8');
  } catch {
    return '';
  }
}

/** CA + server certificate (SANs: domain, upload.domain, 127.0.0.1), EC P-256 for speed. */
async function makeCertificates(dir: string, domain: string): Promise<string> {
  const ca = join(dir, 'ca');
  mkdirSync(ca);
  const o = (args: string[]) => run('openssl', args, { cwd: ca });
  await o(
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2'].concat([
      '-subj',
      '/CN=Clinic Test CA',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
    ]),
  );
  await o(
    ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'].concat([
      '-subj',
      `/CN=${domain}`,
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
    ]),
  );
  writeFileSync(join(ca, 'ext.cnf'), `subjectAltName=DNS:${domain},DNS:upload.${domain},IP:127.0.0.1\n`);
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
  // Prosody looks certificates up as <host>.crt / <host>.key in the `certificates` folder.
  for (const host of [domain, `upload.${domain}`]) {
    copyFileSync(join(ca, 'server.crt'), join(certs, `${host}.crt`));
    copyFileSync(join(ca, 'server.key'), join(certs, `${host}.key`));
  }
  return readFileSync(join(ca, 'ca.crt'), 'utf8');
}

/** deploy/prosody keeps its data in SQLite (see its README): Debian's lua-dbi-sqlite3 must be installed. */
async function checkSqlDriver(): Promise<void> {
  try {
    await run('lua5.4', ['-e', 'require "DBI"; require "dbd.sqlite3"']);
  } catch {
    throw new Error(
      'Prosody needs the SQLite driver for Lua: apt-get install lua-dbi-sqlite3 (deploy/prosody/README.md)',
    );
  }
}

export async function startProsody(options: StartProsodyOptions): Promise<ProsodyServer> {
  await checkSqlDriver();
  const domain = options.domain ?? 'clinic.test';
  const tls = options.tls !== false;
  const dir = mkdtempSync(join(tmpdir(), 'prosody-test-'));
  const dataPath = join(dir, 'data');
  mkdirSync(dataPath);
  const caPem = tls ? await makeCertificates(dir, domain) : '';
  if (!tls) mkdirSync(join(dir, 'certs'));
  const configFile = join(dir, 'prosody.cfg.lua');
  const groupsFile = join(dir, 'groups.txt');
  const logFile = join(dir, 'prosody.log');
  const members: GroupMember[] = [];
  // Each server has its own component secret: a gateway test can only reach its own Prosody.
  const componentSecret = randomBytes(18).toString('base64url');
  let ports = await pickPorts();
  const writeConfig = () =>
    writeFileSync(
      configFile,
      renderTestConfig(
        readProductionConfig(),
        {
          domain,
          interfaces: ['127.0.0.1'],
          c2sPort: ports.c2s,
          directTlsPort: tls ? ports.directTls : null,
          httpPort: ports.http,
          httpsPort: tls ? ports.https : null,
          dataPath,
          certificates: join(dir, 'certs'),
          groupsFile,
          pidfile: join(dir, 'prosody.pid'),
          logFile,
          componentPort: ports.component,
          componentSecret,
          admins: options.admins ?? [],
        },
        {
          runAsRoot: true,
          iterationCount: options.iterationCount ?? 128,
          withoutTls: !tls,
          ...(options.fileShareLimitBytes ? { fileShareLimitBytes: options.fileShareLimitBytes } : {}),
          ...(options.mucTestModules ? { mucModules: options.mucTestModules } : {}),
          ...(options.roomCreation ? { roomCreation: options.roomCreation } : {}),
        },
      ),
    );
  writeConfig();
  const services = tls ? ['c2s', 'c2s_direct_tls', 'http', 'https', 'component'] : ['c2s', 'http', 'component'];
  const writeGroups = () => writeFileSync(groupsFile, renderGroupsFile(members, options.groups));
  writeGroups();

  const register = async (u: ProsodyUser) => {
    const [local, host] = u.jid.split('@');
    if (!local || host !== domain) throw new Error(`user ${u.jid} is not on ${domain}`);
    const r = await prosodyctl(configFile, ['register', local, domain, u.password]);
    if (r.code !== 0) throw new Error(`prosodyctl register ${u.jid}: ${r.text}`);
    members.push({ jid: u.jid, name: u.name, role: u.role ?? null, group: u.group ?? null });
  };
  for (const u of options.users) await register(u);
  writeGroups();
  // As `clinic-admin provision` leaves the deployed server's store (admin/server/prosody-journal.ts).
  // Without accounts there is no store yet: Prosody makes one at its start, in SQLite's default mode.
  const store = prosodySqliteFile(configFile);
  if (existsSync(store)) useWriteAheadLog(store);

  let child: ChildProcess | null = null;
  let frozen = false;
  const start = async () => {
    const logFrom = logSize(logFile);
    const proc = spawn('prosody', ['--config', configFile, '-F'], { stdio: 'ignore' });
    child = proc;
    let exited = false;
    proc.once('exit', () => (exited = true));
    const deadline = Date.now() + 15_000;
    // Ready when the log says every listening service is up, and the c2s port answers. A port that
    // something else took meanwhile is only a log line to Prosody (it keeps running), and that
    // something else would answer our connections: PortTakenError instead.
    for (;;) {
      const log = readLogFrom(logFile, logFrom);
      if (log.includes('Failed to open server port'))
        throw new PortTakenError(`prosody could not listen on a port; see ${logFile}`);
      if (services.every((name) => log.includes(`Activated service '${name}'`)) && (await portAnswers(ports.c2s)))
        return;
      if (exited) throw new Error(`prosody exited during start; see ${logFile}`);
      if (Date.now() > deadline) throw new Error(`prosody did not open port ${ports.c2s}; see ${logFile}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const kill = async () => {
    const proc = child;
    child = null;
    const wasFrozen = frozen;
    frozen = false;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((r) => proc.once('exit', () => r()));
    // A frozen process would only see SIGTERM once continued.
    proc.kill(wasFrozen ? 'SIGKILL' : 'SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  };
  // Ports are picked again right before the first start: registering the users takes seconds, in
  // which test files running in parallel open ports of their own. One taken anyway: pick again.
  await startAfreshWhenPortTaken(async () => {
    ports = await pickPorts();
    writeConfig();
    try {
      await start();
    } catch (err) {
      await kill();
      throw err;
    }
  });

  return {
    domain,
    host: '127.0.0.1',
    c2sPort: ports.c2s,
    directTlsPort: tls ? ports.directTls : undefined,
    httpPort: ports.http,
    httpsPort: tls ? ports.https : undefined,
    caPem,
    dir,
    dataDir: dataPath,
    logFile,
    configFile,
    component: { domain: `patients.${domain}`, port: ports.component, secret: componentSecret },
    rooms: `rooms.${domain}`,
    async restart() {
      await kill();
      await start();
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
    halt: () => kill(),
    freeze() {
      if (!child?.pid) throw new Error('prosody is not running');
      process.kill(child.pid, 'SIGSTOP');
      frozen = true;
    },
    async addUser(u) {
      await register(u);
      writeGroups();
      // mod_groups reads its file when it loads: a restart makes the new member visible.
      await kill();
      await start();
    },
    async deleteUser(jid) {
      // As IT's `prosodyctl deluser`: the account is gone from storage; a running session of it
      // stays until it reconnects, and every new sign-in is refused (SASL not-authorized).
      // Through clinic-admin's prosodyctl, which tries again while the running server holds the
      // SQLite store's lock (seen in CI: "database is locked" or "commit failed", then "That user
      // does not exist").
      const r = await prosodyctl(configFile, ['deluser', jid]);
      const goneOnAnEarlierTry = r.lockedTries > 0 && r.text.includes('That user does not exist');
      if (r.code !== 0 && !goneOnAnEarlierTry) throw new Error(`prosodyctl deluser ${jid}: ${r.text}`);
    },
  };
}
