/**
 * Derives the test variant of deploy/prosody/prosody.cfg.lua. Only the lines marked
 * `-- site:` are replaced (ports, paths, certificates, logs, pid file) and the domain is
 * renamed; test-only switches (run_as_root, lowered SCRAM iterations) are added at the end
 * of the global section. Everything else — TLS required, s2s off, registration off, MAM,
 * shared roster, smacks, carbons — is the production file, byte for byte.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Role } from '../../common/contract/domain';
import { noRoleGroupName, roleGroupNames } from '../../main/xmpp/roles';

export const productionConfigPath = fileURLToPath(new URL('../../deploy/prosody/prosody.cfg.lua', import.meta.url));
/** deploy/prosody/modules: the clinic's own Prosody modules (mod_muc_clinic_policy), loaded from the clone in tests. */
export const clinicModulesPath = fileURLToPath(new URL('../../deploy/prosody/modules', import.meta.url));
/** test/support/prosody-modules: test-only modules (a hostile room server), never in deploy/. */
export const testModulesPath = fileURLToPath(new URL('./prosody-modules', import.meta.url));
export const PRODUCTION_DOMAIN = 'clinic.example';

export interface SiteSettings {
  domain: string;
  interfaces: string[];
  c2sPort: number;
  directTlsPort: number | null;
  httpPort: number;
  httpsPort: number | null;
  dataPath: string;
  certificates: string;
  groupsFile: string;
  pidfile: string;
  logFile: string;
  /** XEP-0114 port for the patient gateway (gateway/), and the component secret it must present. */
  componentPort: number;
  componentSecret: string;
  /** Server admins: the accounts that create care-team rooms (default: none, as in production). */
  admins?: string[];
  /** Where the clinic's own modules are (default: deploy/prosody/modules in this clone). */
  pluginPaths?: string[];
}

export interface TestSwitches {
  /** Prosody refuses to start as root otherwise; tests run as root in the container. */
  runAsRoot: boolean;
  /** Lowered SCRAM PBKDF2 iterations so each login is fast (PROTOCOL.md); production keeps 10000. */
  iterationCount?: number;
  /** The deliberately insecure variant used to prove the client refuses a server without TLS. */
  withoutTls?: boolean;
  /**
   * Benchmarks: the upload component's per-file limit and per-account daily quota, in bytes,
   * instead of production's 50 MB and 500 MB (the attachments bench sends 500 MB files).
   */
  fileShareLimitBytes?: number;
  /**
   * Test-only modules (test/support/prosody-modules) added to the care-team rooms' MUC component,
   * e.g. `muc_test_hostile_room`: a server that lets a room turn open or anonymous (issue 18 §5).
   */
  mucModules?: string[];
  /**
   * Who creates care-team rooms (issue 18 §1): 'local' lets every account of the server create one
   * (restrict_room_creation = "local", as IT sets it to let staff create rooms within policy);
   * left out, production's admins only.
   */
  roomCreation?: 'local';
}

const lua = (s: string) => JSON.stringify(s);
const luaList = (xs: (string | number)[]) =>
  `{ ${xs.map((x) => (typeof x === 'number' ? String(x) : lua(x))).join('; ')} }`;

export function renderTestConfig(production: string, site: SiteSettings, sw: TestSwitches): string {
  const replacements: Record<string, string> = {
    interfaces: luaList(site.interfaces),
    c2s_ports: luaList([site.c2sPort]),
    c2s_direct_tls_ports: luaList(site.directTlsPort ? [site.directTlsPort] : []),
    http_ports: luaList([site.httpPort]),
    https_ports: luaList(site.httpsPort ? [site.httpsPort] : []),
    data_path: lua(site.dataPath),
    certificates: lua(site.certificates),
    groups_file: lua(site.groupsFile),
    pidfile: lua(site.pidfile),
    log: `{ info = ${lua(site.logFile)} }`,
    component_ports: luaList([site.componentPort]),
    component_secret: lua(site.componentSecret),
    plugin_paths: luaList([
      ...(site.pluginPaths ?? [clinicModulesPath]),
      ...(sw.mucModules?.length ? [testModulesPath] : []),
    ]),
    admins: luaList(site.admins ?? []),
  };
  let out = production;
  for (const [key, value] of Object.entries(replacements)) {
    const re = new RegExp(`^${key} = .*-- site:.*$`, 'm');
    if (!re.test(out)) throw new Error(`production config has no single-line site setting "${key}"`);
    out = out.replace(re, `${key} = ${value} -- test variant`);
  }
  out = out.split(PRODUCTION_DOMAIN).join(site.domain);
  if (sw.fileShareLimitBytes !== undefined) out = withFileShareLimit(out, sw.fileShareLimitBytes);
  if (sw.mucModules?.length) out = withMucModules(out, sw.mucModules);
  if (sw.roomCreation === 'local') out = withRoomCreation(out, 'local');

  const extra = ['', '---------- Test-only switches (test/support/prosody-config.ts) ----------'];
  if (sw.runAsRoot) extra.push('run_as_root = true');
  if (sw.iterationCount) extra.push(`default_iteration_count = ${sw.iterationCount}`);
  if (sw.withoutTls) {
    extra.push('c2s_require_encryption = false');
    extra.push(`modules_disabled = { "s2s"; "dialback"; "s2s_bidi"; "tls" }`);
  }
  const hostAt = out.search(/^VirtualHost /m);
  if (hostAt < 0) throw new Error('production config has no VirtualHost');
  return `${out.slice(0, hostAt)}${extra.join('\n')}\n\n${out.slice(hostAt)}`;
}

/** The rooms component's restrict_room_creation set to `value` (TestSwitches.roomCreation). */
function withRoomCreation(config: string, value: 'local'): string {
  const re = /^([\t ]*)restrict_room_creation = .*$/m;
  if (!re.test(config)) throw new Error('production config has no single-line "restrict_room_creation"');
  return config.replace(re, `$1restrict_room_creation = ${lua(value)} -- test variant`);
}

/** The MUC component's modules_enabled with the test-only `modules` first (TestSwitches.mucModules). */
function withMucModules(config: string, modules: string[]): string {
  const re = /^(Component "rooms\.[^"]*" "muc"\n(?:[\t ].*\n)*?[\t ]*modules_enabled = \{)/m;
  if (!re.test(config)) throw new Error('production config has no rooms component with modules_enabled');
  return config.replace(re, `$1 ${modules.map(lua).join('; ')};`);
}

/** The upload component's size limit and daily quota set to `bytes` (TestSwitches.fileShareLimitBytes). */
function withFileShareLimit(config: string, bytes: number): string {
  let out = config;
  for (const key of ['http_file_share_size_limit', 'http_file_share_daily_quota']) {
    const re = new RegExp(`^([\\t ]*)${key} = .*$`, 'm');
    if (!re.test(out)) throw new Error(`production config has no single-line "${key}"`);
    out = out.replace(re, `$1${key} = ${Math.floor(bytes)} -- test variant`);
  }
  return out;
}

export function readProductionConfig(): string {
  return readFileSync(productionConfigPath, 'utf8');
}

export interface GroupMember {
  jid: string;
  name: string;
  role?: Role | null;
  group?: string | null;
}

/** mod_groups file: role groups are public (`+`), team groups are not. Names must not contain `=`/newlines. */
export function renderGroupsFile(members: GroupMember[], extraGroups: string[] = []): string {
  const groups = new Map<string, { pub: boolean; lines: string[] }>();
  const add = (group: string, pub: boolean, line?: string) => {
    const g = groups.get(group) ?? { pub, lines: [] };
    if (line) g.lines.push(line);
    groups.set(group, g);
  };
  for (const g of extraGroups) add(g, false);
  for (const m of members) {
    if (/[=\n\r[\]]/.test(m.name) || /[\s=]/.test(m.jid)) throw new Error(`unsafe shared-roster entry for ${m.jid}`);
    const line = `${m.jid}=${m.name}`;
    add(m.role ? roleGroupNames[m.role] : noRoleGroupName, true, line);
    if (m.group) add(m.group, false, line);
  }
  const parts: string[] = [];
  for (const [name, g] of groups) parts.push(`[${g.pub ? '+' : ''}${name}]`, ...g.lines, '');
  return parts.join('\n');
}
