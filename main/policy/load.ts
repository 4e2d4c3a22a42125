import { userInfo } from 'node:os';
import { win32 } from 'node:path';
import {
  ARGON2_MINIMUM,
  defaultPolicy,
  policySchema,
  auditAnchoringEnabled,
  remoteWipeEnabled,
  type Policy,
  type PolicyInput,
} from './schema';
import { readPosixFile, readWindowsFile, type FileRead } from './checked-file';
import {
  MAC_POLICY_FILE,
  devicePreferenceFile,
  managedPreferenceFiles,
  managedPreferences,
  systemMacCommand,
  type MacCommand,
} from './macos';
import { defaultPosixTrust, type PosixTrust } from './posix-protection';
import {
  POLICY_REGISTRY_KEYS,
  programDataFolder,
  readRegistryPolicy,
  registryKeysProblem,
  systemWindowsCommand,
  type WindowsCommand,
} from './windows';

export interface LoadedPolicy {
  policy: Policy;
  /**
   * Every source the policy came from, strongest first, joined by ' + ' (e.g.
   * `HKLM\Software\Policies\ClinicMessenger + C:\ProgramData\ClinicMessenger\policy.json`), or null
   * for built-in defaults.
   */
  source: string | null;
  /** Why the managed policy could not be used. When set, the strictest defaults apply and the UI shows it. */
  error: string | null;
  /**
   * The top-level policy keys a managed source (or the test/demo `overrides`) actually set, e.g.
   * ['lockTimeoutMaxMinutes', 'server']: Settings shows these as "Managed by your organization".
   * Empty for the built-in defaults and whenever `error` is set (then no managed value applies).
   */
  managedKeys: string[];
  /** Values the loader changed (an Argon2 cost raised to the built-in minimum); for the log. */
  warnings?: string[];
}

/**
 * How managed sources are read and trusted. Production uses the defaults; unit tests inject
 * owners, a platform and recorded reg.exe/icacls/PowerShell/plutil outputs.
 */
export interface PolicySourceOptions {
  platform?: NodeJS.Platform;
  /** POSIX owners and groups trusted to write the file and its folders (default: root, + admin on macOS). */
  posixTrust?: PosixTrust;
  /** Windows: runs reg.exe / icacls.exe / powershell.exe. */
  windows?: WindowsCommand;
  /** macOS: runs plutil; where the MDM client writes managed preferences; the short user name. */
  mac?: { plutil?: MacCommand; managedPreferencesDir?: string; userName?: string };
  /** The Argon2 cost a managed policy cannot go below (default ARGON2_MINIMUM). */
  argon2Minimum?: { memoryKiB: number; iterations: number };
}

const LINUX_PATH = '/etc/clinic-messenger/policy.json';

/**
 * Where IT deploys the managed policy file on each OS (ARCHITECTURE.md §7). On Windows the folder is
 * the ProgramData known folder read from the registry, never %ProgramData% (windows.ts); throws when
 * the registry cannot say.
 */
export function managedPolicyPath(
  platform: NodeJS.Platform = process.platform,
  windows: WindowsCommand = systemWindowsCommand,
): string {
  if (platform === 'win32') return win32.join(programDataFolder(windows), 'ClinicMessenger', 'policy.json');
  if (platform === 'darwin') return MAC_POLICY_FILE;
  return LINUX_PATH;
}

export type PolicyLocation = { kind: 'file'; path: string } | { kind: 'registry'; key: string };

/**
 * Every place the managed policy is read from on `platform`, strongest first: what a watcher
 * watches (issue 14 item 3; a file may not exist yet, so watch its folder). Never throws: on
 * Windows, when the registry cannot say where ProgramData is, the file is left out (the loader
 * reports that error on screen) and the registry keys are still listed.
 */
export function managedPolicyLocations(
  platform: NodeJS.Platform = process.platform,
  opts: Pick<PolicySourceOptions, 'windows' | 'mac'> = {},
): PolicyLocation[] {
  if (platform === 'win32') {
    const keys: PolicyLocation[] = POLICY_REGISTRY_KEYS.map((key) => ({ kind: 'registry', key }));
    try {
      return [...keys, { kind: 'file', path: managedPolicyPath('win32', opts.windows ?? systemWindowsCommand) }];
    } catch {
      return keys;
    }
  }
  if (platform === 'darwin') {
    let plists: string[];
    try {
      plists = macPlists(opts.mac);
    } catch {
      // An impossible user name: the device profile and the file only (the loader reports it).
      plists = [devicePreferenceFile(opts.mac?.managedPreferencesDir)];
    }
    return [...plists, MAC_POLICY_FILE].map((path) => ({ kind: 'file', path }));
  }
  return [{ kind: 'file', path: LINUX_PATH }];
}

function macPlists(mac: PolicySourceOptions['mac']): string[] {
  return managedPreferenceFiles(mac?.userName ?? userInfo().username, mac?.managedPreferencesDir);
}

/** The production entry: every managed source of this OS (see loadPolicy). */
export function loadManagedPolicy(opts: PolicySourceOptions = {}): LoadedPolicy {
  let path: string;
  try {
    path = managedPolicyPath(opts.platform ?? process.platform, opts.windows ?? systemWindowsCommand);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return failed(null, `The clinic policy folder cannot be determined: ${why}.`);
  }
  return loadPolicy(path, undefined, opts);
}

/** One source that was read: its label and what it sets (undefined: nothing deployed there). */
interface SourceValue {
  label: string;
  value: unknown;
}
type SourcesRead = { sources: SourceValue[] } | { error: string; source: string | null };

/**
 * Reads and validates the managed policy: on Windows HKLM, then HKCU `Software\Policies\
 * ClinicMessenger`, then the file at `path`; on macOS the device, then the user forced managed
 * preferences, then the file; on Linux the file. Per top-level key the strongest source that sets
 * it wins, and a nested object (server, argon2) is taken whole from that source. A source that is
 * absent is skipped; one that is unreadable, invalid or unprotected (a non-administrator could
 * change it) is reported — never a crash, never ignored — and the strict defaults apply.
 *
 * `overrides` is the test/demo path (createAppCore's `policy` option, never set by main/index.ts):
 * validated but not held to the managed-source rules, so tests can use fast Argon2 parameters.
 */
export function loadPolicy(path: string | null, overrides?: PolicyInput, opts: PolicySourceOptions = {}): LoadedPolicy {
  if (overrides) {
    const parsed = policySchema.safeParse(overrides);
    if (!parsed.success) return failed('overrides', describe(parsed.error.issues));
    const unpaired = remoteWipeUnpaired(parsed.data) ?? complianceUnpaired(parsed.data);
    if (unpaired) return failed('overrides', unpaired);
    return { policy: parsed.data, source: 'overrides', error: null, managedKeys: Object.keys(overrides) };
  }
  if (!path) return { policy: defaultPolicy, source: null, error: null, managedKeys: [] };
  const read = readSources(path, opts);
  if ('error' in read) return failed(read.source, read.error);
  const present = read.sources.filter((s) => s.value !== undefined);
  if (present.length === 0) return { policy: defaultPolicy, source: null, error: null, managedKeys: [] };
  const source = present.map((s) => s.label).join(' + ');
  let merged: Record<string, unknown> = {};
  for (const s of [...present].reverse()) {
    if (!isPlainObject(s.value)) return invalid(s.label === path ? `file ${path}` : s.label, source, s.value);
    merged = { ...merged, ...s.value }; // a stronger source replaces the whole top-level key
  }
  const parsed = policySchema.safeParse(merged);
  if (!parsed.success)
    return invalid(present.length === 1 && present[0]?.label === path ? `file ${path}` : source, source, merged);
  const unpaired = remoteWipeUnpaired(parsed.data) ?? complianceUnpaired(parsed.data);
  if (unpaired) return failed(source, `The clinic policy ${source} is invalid: ${unpaired}`);
  const { argon2, warnings } = raiseArgon2(parsed.data.argon2, opts.argon2Minimum ?? ARGON2_MINIMUM);
  return {
    policy: { ...parsed.data, argon2 },
    source,
    error: null,
    managedKeys: Object.keys(merged),
    ...(warnings.length ? { warnings } : {}),
  };
}

function failed(source: string | null, error: string): LoadedPolicy {
  return { policy: defaultPolicy, source, error, managedKeys: [] };
}

function invalid(label: string, source: string, value: unknown): LoadedPolicy {
  const parsed = policySchema.safeParse(value);
  const why = parsed.success ? 'it is not an object' : describe(parsed.error.issues);
  return failed(source, `The clinic policy ${label} is invalid: ${why}`);
}

/** The sources of this OS, strongest first; the first that cannot be used stops the load. */
function readSources(path: string, opts: PolicySourceOptions): SourcesRead {
  const platform = opts.platform ?? process.platform;
  const sources: SourceValue[] = [];
  if (platform === 'win32') {
    const registry = readRegistry(opts.windows ?? systemWindowsCommand);
    if ('error' in registry) return registry;
    sources.push(...registry.sources);
  }
  if (platform === 'darwin') {
    const plists = readManagedPreferences(opts);
    if ('error' in plists) return plists;
    sources.push(...plists.sources);
  }
  const file =
    platform === 'win32'
      ? readWindowsFile(path, opts.windows ?? systemWindowsCommand)
      : readPosixFile(path, opts.posixTrust ?? defaultPosixTrust(platform));
  if ('error' in file) return { error: file.error, source: path };
  if (file.bytes === null) return { sources };
  try {
    return { sources: [...sources, { label: path, value: JSON.parse(file.bytes.toString('utf8')) }] };
  } catch {
    return { error: `The clinic policy file ${path} is not valid JSON.`, source: path };
  }
}

/** HKLM then HKCU; every key and subkey read must be out of reach of non-administrators. */
function readRegistry(run: WindowsCommand): SourcesRead {
  const sources: SourceValue[] = [];
  const keys: string[] = [];
  for (const key of POLICY_REGISTRY_KEYS) {
    try {
      const read = readRegistryPolicy(run, defaultPolicy, key);
      if (!read) continue;
      keys.push(...read.keys);
      if (Object.keys(read.policy).length > 0) sources.push({ label: key, value: read.policy });
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return { error: `The clinic policy in the registry cannot be read: ${why}.`, source: key };
    }
  }
  const problem = registryKeysProblem(run, keys);
  if (problem)
    return {
      error: `The clinic policy in the registry is refused because a user who is not an administrator could change it: ${problem}. Ask IT to set it through Group Policy or Intune only.`,
      source: sources.map((s) => s.label).join(' + ') || null,
    };
  return { sources };
}

/** The device, then the user forced managed preferences (macos.ts). */
function readManagedPreferences(opts: PolicySourceOptions): SourcesRead {
  let files: string[];
  try {
    files = macPlists(opts.mac);
  } catch (err) {
    return { error: `The clinic policy cannot be looked up: ${(err as Error).message}.`, source: null };
  }
  const trust = opts.posixTrust ?? defaultPosixTrust('darwin');
  const sources: SourceValue[] = [];
  for (const file of files) {
    const read: FileRead = readPosixFile(file, trust);
    if ('error' in read) return { error: read.error, source: file };
    if (read.bytes === null) continue;
    try {
      sources.push({ label: file, value: managedPreferences(read.bytes, opts.mac?.plutil ?? systemMacCommand) });
    } catch (err) {
      return { error: `The clinic policy ${file} cannot be read: ${(err as Error).message}.`, source: file };
    }
  }
  return { sources };
}

/**
 * Remote wipe needs both keys (issue 15): fingerprints without the account would pin keys that no
 * workstation ever hears from, an account without fingerprints would name a sender whose commands
 * are all refused. Either alone is IT believing remote wipe is on when it is not: an error.
 */
function remoteWipeUnpaired(p: Policy): string | null {
  const keys = p.adminKeyFingerprints.length > 0;
  if (remoteWipeEnabled(p) || (!keys && p.adminAccount === null)) return null;
  return keys
    ? 'adminAccount: remote wipe needs the admin account too (the account clinic-admin sends from), beside adminKeyFingerprints'
    : 'adminKeyFingerprints: remote wipe needs the admin key fingerprint too (clinic-admin keygen prints it), beside adminAccount';
}

/** Audit anchoring (issue 15 item 4) likewise: an account without its pinned key, or a key without an account, is an error. */
function complianceUnpaired(p: Policy): string | null {
  if (auditAnchoringEnabled(p) || (p.complianceAccount === null && p.complianceKeyFingerprint === null)) return null;
  return p.complianceAccount === null
    ? 'complianceAccount: audit anchoring needs the compliance account too (the account that collects the audit entries), beside complianceKeyFingerprint'
    : 'complianceKeyFingerprint: audit anchoring needs the compliance key fingerprint too (clinic-admin keygen prints it), beside complianceAccount';
}

/** A managed policy may raise the Argon2 cost, never lower it below the built-in minimum (issue 10). */
function raiseArgon2(given: Policy['argon2'], min: { memoryKiB: number; iterations: number }) {
  const warnings: string[] = [];
  if (given.memoryKiB < min.memoryKiB)
    warnings.push(`argon2.memoryKiB raised from ${given.memoryKiB} to the built-in minimum ${min.memoryKiB}`);
  if (given.iterations < min.iterations)
    warnings.push(`argon2.iterations raised from ${given.iterations} to the built-in minimum ${min.iterations}`);
  return {
    argon2: {
      ...given,
      memoryKiB: Math.max(given.memoryKiB, min.memoryKiB),
      iterations: Math.max(given.iterations, min.iterations),
    },
    warnings,
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}
