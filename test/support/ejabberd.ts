/**
 * Starts a real ejabberd (Debian's 23.01) on loopback for tests: the test variant of
 * deploy/ejabberd/ejabberd.yml (only its "site:" lines replaced, plus a loopback-only HTTP API
 * for provisioning), a throwaway config dir and spool, free ports, an openssl-made CA + server
 * certificate, an Erlang node bound to loopback with its own cookie. Accounts, shared-roster
 * role groups and vCard names go through the HTTP API (ejabberdctl starts an Erlang VM per call:
 * about 2 s each). The returned object has the fields the messaging tests use from ProsodyServer.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync, existsSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Role } from '../../common/contract/domain';
import { noRoleGroupName, roleGroupNames } from '../../main/xmpp/roles';
import { freePort, portAnswers } from './loopback';

const run = promisify(execFile);
const PRODUCTION = resolve(__dirname, '../../deploy/ejabberd/ejabberd.yml');

export interface EjabberdUser {
  jid: string;
  password: string;
  name: string;
  role?: Role;
  group?: string;
}

export interface EjabberdServer {
  kind: 'ejabberd';
  domain: string;
  host: '127.0.0.1';
  c2sPort: number;
  caPem: string;
  dir: string;
  logFile: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** Stops the node but keeps its files: restart() brings the same server back. */
  halt(): Promise<void>;
  addUser(user: EjabberdUser): Promise<void>;
  deleteUser(jid: string): Promise<void>;
}

/** A CA and one server certificate for every host ejabberd serves (PEM with its key, as ejabberd wants). */
async function makeCertificates(dir: string, hosts: string[]): Promise<string> {
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

interface Site {
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
  let text = lines.join('\n');
  // Test only: provisioning over HTTP on loopback (production provisions with ejabberdctl).
  text = text.replace(
    /^listen:\n/m,
    `listen:\n  - port: ${site.api}\n    ip: "127.0.0.1"\n    module: ejabberd_http\n    request_handlers:\n      /api: mod_http_api\n`,
  );
  text = text.replace(
    /^api_permissions:\n/m,
    `api_permissions:\n  "test provisioning":\n    who:\n      ip: 127.0.0.1/32\n    what: "*"\n`,
  );
  return text;
}

export async function startEjabberd(options: { users: EjabberdUser[]; domain?: string }): Promise<EjabberdServer> {
  const domain = options.domain ?? 'clinic.test';
  const dir = mkdtempSync(join(tmpdir(), 'ejabberd-test-'));
  const spool = join(dir, 'spool');
  const logs = join(dir, 'logs');
  const upload = join(dir, 'upload');
  for (const d of [spool, logs, upload]) mkdirSync(d);
  const caPem = await makeCertificates(dir, [domain, `upload.${domain}`, `conference.${domain}`, `pubsub.${domain}`]);
  const [c2s, c2sTls, https, api] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const config = join(dir, 'ejabberd.yml');
  writeFileSync(
    config,
    renderEjabberdTestConfig(readFileSync(PRODUCTION, 'utf8'), {
      domain,
      certs: join(dir, 'certs'),
      c2s,
      c2sTls,
      https,
      api,
      upload,
      sqlite: join(spool, 'clinic.sqlite'),
    }),
  );
  // Erlang stays on loopback with a cookie of its own; ejabberdctl runs as the current user
  // (without EXEC_CMD it switches to the 'ejabberd' user, who cannot read this temp dir).
  const node = `ejt${randomBytes(4).toString('hex')}@localhost`;
  const ctl = join(dir, 'ejabberdctl.cfg');
  writeFileSync(
    ctl,
    [
      'EXEC_CMD=as_current_user',
      'ERL_EPMD_ADDRESS=127.0.0.1',
      'INET_DIST_INTERFACE=127.0.0.1',
      `ERLANG_NODE=${node}`,
      `ERL_OPTIONS="-setcookie ${randomBytes(12).toString('hex')}"`,
      '',
    ].join('\n'),
  );
  if (existsSync('/etc/ejabberd/inetrc')) copyFileSync('/etc/ejabberd/inetrc', join(dir, 'inetrc'));
  const logFile = join(logs, 'ejabberd.log');
  const ejabberdctl = (...args: string[]) =>
    run(
      'ejabberdctl',
      ['--config-dir', dir, '--config', config, '--ctl-config', ctl, '--logs', logs, '--spool', spool, ...args],
      { cwd: dir },
    );

  const apiCall = (command: string, body: Record<string, string>) => callApi(api, command, body);
  const start = async () => {
    await ejabberdctl('start');
    const deadline = Date.now() + 30_000;
    for (;;) {
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
      if (log.includes('[critical]')) throw new Error(`ejabberd did not start; see ${logFile}`);
      if (log.includes('is started in the node') && (await portAnswers(c2s)) && (await portAnswers(api))) return;
      if (Date.now() > deadline) throw new Error(`ejabberd did not open port ${c2s}; see ${logFile}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const kill = async () => {
    await ejabberdctl('stop').catch(() => undefined); // not running: nothing to stop
    await ejabberdctl('stopped').catch(() => undefined);
  };
  // Prosody's public [+Role] groups (roles.ts): one hidden group holds every account (@all@) and
  // displays the role groups, so everyone sees each colleague under their role's group name.
  // A team group displays itself: its members see each other only.
  const roleGroups = [...Object.values(roleGroupNames), noRoleGroupName];
  const everyone = async () => {
    for (const name of roleGroups)
      await apiCall('srg_create', { group: name, host: domain, label: name, description: name, display: '' });
    await apiCall('srg_create', {
      group: 'clinic-everyone',
      host: domain,
      label: 'clinic-everyone',
      description: 'every account sees the role groups',
      display: roleGroups.join('\\n'),
    });
    await apiCall('srg_user_add', { user: '@all@', host: domain, group: 'clinic-everyone', grouphost: domain });
  };
  const teams = new Set<string>();
  const team = async (name: string) => {
    if (teams.has(name)) return;
    teams.add(name);
    await apiCall('srg_create', { group: name, host: domain, label: name, description: name, display: name });
  };
  const register = async (u: EjabberdUser) => {
    const [user, host] = u.jid.split('@');
    if (!user || host !== domain) throw new Error(`user ${u.jid} is not on ${domain}`);
    await apiCall('register', { user, host, password: u.password });
    await apiCall('set_vcard', { user, host, name: 'FN', content: u.name });
    const roleGroup = u.role ? roleGroupNames[u.role] : noRoleGroupName;
    await apiCall('srg_user_add', { user, host, group: roleGroup, grouphost: domain });
    if (u.group) {
      await team(u.group);
      await apiCall('srg_user_add', { user, host, group: u.group, grouphost: domain });
    }
  };

  await start();
  await everyone();
  for (const u of options.users) await register(u);

  return {
    kind: 'ejabberd',
    domain,
    host: '127.0.0.1',
    c2sPort: c2s,
    caPem,
    dir,
    logFile,
    async restart() {
      await kill();
      await start();
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
    halt: kill,
    addUser: register,
    async deleteUser(jid) {
      const [user, host] = jid.split('@');
      await apiCall('unregister', { user: user ?? '', host: host ?? '' });
    },
  };
}

/** One mod_http_api command; throws with ejabberd's answer when it did not return 0/success. */
function callApi(port: number, command: string, body: Record<string, string>): Promise<void> {
  const data = JSON.stringify(body);
  return new Promise((ok, fail) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: `/api/${command}`,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          if (res.statusCode === 200 && (text === '0' || text === '""' || !/error/i.test(text))) ok();
          else fail(new Error(`ejabberd API ${command}: HTTP ${res.statusCode ?? 0} ${text.slice(0, 200)}`));
        });
      },
    );
    req.on('error', fail);
    req.end(data);
  });
}
