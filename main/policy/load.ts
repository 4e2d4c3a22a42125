import { closeSync, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { win32 } from 'node:path';
import { ARGON2_MINIMUM, defaultPolicy, policySchema, type Policy, type PolicyInput } from './schema';
import { checkPosixProtection, defaultPosixTrust, type PosixTrust } from './posix-protection';
import {
  POLICY_REGISTRY_KEY,
  programDataFolder,
  registryPolicy,
  systemWindowsCommand,
  windowsProtectionProblem,
  type WindowsCommand,
} from './windows';

export interface LoadedPolicy {
  policy: Policy;
  /** Where the policy came from (file path and/or registry key), or null for built-in defaults. */
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
 * owners, a platform and recorded reg.exe/icacls outputs.
 */
export interface PolicySourceOptions {
  platform?: NodeJS.Platform;
  /** POSIX owners and groups trusted to write the file and its folders (default: root, + admin on macOS). */
  posixTrust?: PosixTrust;
  /** Windows: runs reg.exe / icacls.exe. */
  windows?: WindowsCommand;
  /** The Argon2 cost a managed policy cannot go below (default ARGON2_MINIMUM). */
  argon2Minimum?: { memoryKiB: number; iterations: number };
}

const LINUX_PATH = '/etc/clinic-messenger/policy.json';
const MAC_PATH = '/Library/Application Support/ClinicMessenger/policy.json';

/**
 * Where IT deploys the managed policy on each OS (ARCHITECTURE.md §7). On Windows the folder is the
 * ProgramData known folder read from the registry, never %ProgramData% (windows.ts); throws when
 * the registry cannot say.
 */
export function managedPolicyPath(
  platform: NodeJS.Platform = process.platform,
  windows: WindowsCommand = systemWindowsCommand,
): string {
  if (platform === 'win32') return win32.join(programDataFolder(windows), 'ClinicMessenger', 'policy.json');
  if (platform === 'darwin') return MAC_PATH;
  return LINUX_PATH;
}

/** The production entry: the per-OS managed location (and, on Windows, the HKLM policy key). */
export function loadManagedPolicy(opts: PolicySourceOptions = {}): LoadedPolicy {
  let path: string;
  try {
    path = managedPolicyPath(opts.platform ?? process.platform, opts.windows ?? systemWindowsCommand);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return {
      policy: defaultPolicy,
      source: null,
      error: `The clinic policy folder cannot be determined: ${why}.`,
      managedKeys: [],
    };
  }
  return loadPolicy(path, undefined, opts);
}

/**
 * Reads and validates the managed policy. A missing file means defaults; an unreadable, invalid or
 * unprotected file (one a non-administrator could change) is reported — never a crash, never
 * ignored — and the defaults, the strict settings, apply.
 *
 * `overrides` is the test/demo path (createAppCore's `policy` option, never set by main/index.ts):
 * validated but not held to the managed-source rules, so tests can use fast Argon2 parameters.
 */
export function loadPolicy(path: string | null, overrides?: PolicyInput, opts: PolicySourceOptions = {}): LoadedPolicy {
  if (overrides) {
    const parsed = policySchema.safeParse(overrides);
    if (!parsed.success)
      return { policy: defaultPolicy, source: 'overrides', error: describe(parsed.error.issues), managedKeys: [] };
    return { policy: parsed.data, source: 'overrides', error: null, managedKeys: Object.keys(overrides) };
  }
  if (!path) return { policy: defaultPolicy, source: null, error: null, managedKeys: [] };
  const platform = opts.platform ?? process.platform;
  const file =
    platform === 'win32'
      ? readWindowsFile(path, opts.windows ?? systemWindowsCommand)
      : readPosixFile(path, opts.posixTrust ?? defaultPosixTrust(platform));
  if ('error' in file) return { policy: defaultPolicy, source: path, error: file.error, managedKeys: [] };
  let input: unknown = undefined;
  const sources: string[] = [];
  if (file.text !== null) {
    try {
      input = JSON.parse(file.text);
    } catch {
      return {
        policy: defaultPolicy,
        source: path,
        error: `The clinic policy file ${path} is not valid JSON.`,
        managedKeys: [],
      };
    }
    sources.push(path);
  }
  if (platform === 'win32') {
    let fromRegistry: Record<string, unknown> | null;
    try {
      fromRegistry = registryPolicy(opts.windows ?? systemWindowsCommand, defaultPolicy);
    } catch (err) {
      return {
        policy: defaultPolicy,
        source: POLICY_REGISTRY_KEY,
        error: `The clinic policy in the registry cannot be read: ${err instanceof Error ? err.message : String(err)}.`,
        managedKeys: [],
      };
    }
    if (fromRegistry && Object.keys(fromRegistry).length > 0) {
      // A registry value replaces the same top-level key of the file (windows.ts).
      input = isPlainObject(input) ? { ...input, ...fromRegistry } : input === undefined ? fromRegistry : input;
      sources.push(POLICY_REGISTRY_KEY);
    }
  }
  if (sources.length === 0) return { policy: defaultPolicy, source: null, error: null, managedKeys: [] };
  const source = sources.join(' + ');
  const parsed = policySchema.safeParse(input);
  if (!parsed.success) {
    const label = sources.length === 1 && sources[0] === path ? `file ${path}` : source;
    return {
      policy: defaultPolicy,
      source,
      error: `The clinic policy ${label} is invalid: ${describe(parsed.error.issues)}`,
      managedKeys: [],
    };
  }
  const { argon2, warnings } = raiseArgon2(parsed.data.argon2, opts.argon2Minimum ?? ARGON2_MINIMUM);
  const managedKeys = isPlainObject(input) ? Object.keys(input) : [];
  return {
    policy: { ...parsed.data, argon2 },
    source,
    error: null,
    managedKeys,
    ...(warnings.length ? { warnings } : {}),
  };
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

type FileRead = { text: string | null } | { error: string };

const refused = (path: string, why: string): FileRead => ({
  error: `The clinic policy file ${path} is refused because a user who is not an administrator could change it: ${why}. Ask IT to make it writable by administrators only.`,
});
const unreadable = (path: string, code: string): FileRead => ({
  error: `The clinic policy file ${path} cannot be read (${code}).`,
});

/** POSIX: check the protection, then read the very file that was checked (same device and inode). */
function readPosixFile(path: string, trust: PosixTrust): FileRead {
  const checked = checkPosixProtection(path, trust);
  if (!checked.ok) {
    if (checked.code === 'ENOENT') return { text: null };
    return checked.code ? unreadable(path, checked.code) : refused(path, checked.reason);
  }
  let fd: number;
  try {
    fd = openSync(checked.realPath, 'r');
  } catch (err) {
    return unreadable(path, (err as NodeJS.ErrnoException).code ?? 'error');
  }
  try {
    const now = fstatSync(fd);
    // Swapped between the check and the open: refuse rather than read an unchecked file.
    if (now.dev !== checked.stats.dev || now.ino !== checked.stats.ino)
      return refused(path, 'it was replaced while being checked');
    return { text: readFileSync(fd, 'utf8') };
  } catch (err) {
    return unreadable(path, (err as NodeJS.ErrnoException).code ?? 'error');
  } finally {
    closeSync(fd);
  }
}

/** Windows: the access lists of the file and every folder above it, then the file. */
function readWindowsFile(path: string, run: WindowsCommand): FileRead {
  try {
    if (!statSync(path).isFile()) return unreadable(path, 'EISDIR');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    return code === 'ENOENT' ? { text: null } : unreadable(path, code);
  }
  const problem = windowsProtectionProblem(run, path);
  if (problem) return refused(path, problem);
  try {
    return { text: readFileSync(path, 'utf8') };
  } catch (err) {
    return unreadable(path, (err as NodeJS.ErrnoException).code ?? 'error');
  }
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
