/**
 * Windows sources of the managed policy (issue 10 item 10, issue 14 item 2), without native modules:
 *
 * - The ProgramData folder comes from the registry value SHGetKnownFolderPath(FOLDERID_ProgramData)
 *   itself reads — `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList` ProgramData
 *   (REG_EXPAND_SZ, normally `%SystemDrive%\ProgramData`) — never from the %ProgramData%
 *   environment variable, which any user can redefine for their own session. %SystemDrive% is
 *   expanded from the registry too (the drive of CurrentVersion's SystemRoot value). A PowerShell
 *   [Environment]::GetFolderPath call is not used: it starts a whole runtime and its result also
 *   follows the environment.
 * - Every entry from the file up to the drive root is ACL-checked with `icacls`: no ACE that applies
 *   to the object itself may give a principal other than SYSTEM, Administrators or TrustedInstaller
 *   a right that changes it (full, modify, write data, delete, change permissions, take ownership…).
 *   A folder may let users add entries (WD/AD: C:\ and ProgramData do by default) but never delete
 *   or rename them (DC, D): like a sticky directory on POSIX, what they add is checked on its own.
 *   icacls prints localized principal names; on a non-English Windows the admin groups are not
 *   recognised and the file is refused (fail closed) — use the registry policy there.
 * - Policy values from `HKLM\Software\Policies\ClinicMessenger`, then
 *   `HKCU\Software\Policies\ClinicMessenger` (Group Policy / Intune territory: Computer and User
 *   Configuration). Per top-level key the strongest source wins: HKLM, then HKCU, then the file
 *   (load.ts). Values map by the schema's defaults: REG_DWORD → number (0/1 → false/true for
 *   boolean keys), REG_SZ → text, REG_MULTI_SZ → a list (or lines joined by \n for text keys such as
 *   trustedCaPem), a subkey (server, argon2) → an object, replaced as a whole.
 * - Each key that holds policy, and each of its subkeys, must be out of reach of non-administrators.
 *   reg.exe cannot print access lists, so one PowerShell call prints every key's SDDL (Get-Acl) and
 *   sddl.ts judges owner and ACEs. By default `HKCU\Software\Policies` gives the user read only, so
 *   a key Group Policy wrote there passes and one the user made (they own it) is refused. The values
 *   are read before the check: a user who could change them in between fails the check anyway, and
 *   cannot make a key look administrator-owned (setting another owner needs SeRestorePrivilege).
 *
 * Why not `@vscode/policy-watcher` (VS Code's reader, read at 1.3.7; npm has 1.5.0): it is a native
 * addon (node-gyp, rebuilt per Electron ABI and arch, a no-op stub on Linux); it reads flat
 * string/number/boolean values of one key, so neither our subkeys (server, argon2) nor a
 * REG_MULTI_SZ list (it joins adminKeyFingerprints into one string); it opens keys with KEY_READ and
 * never looks at who may write them (our integrity rule); on macOS it calls
 * CFPreferencesCopyAppValue, which also returns what the user wrote with `defaults write`, not only
 * forced values; and 1.3.7 hard-codes `Software\Policies\Microsoft\<product>`, the path Intune's
 * ADMX import refuses. We mirror its behaviour instead: both hives, HKLM before HKCU. Its
 * RegisterGPNotification refresh is replaced by re-running the loader (the watcher, item 3, watches
 * managedPolicyLocations() in load.ts).
 *
 * reg.exe, icacls.exe and powershell.exe run from `%SystemRoot%\System32`: the one environment
 * variable trusted here, because a user who can change this process's environment already runs code
 * as that user and the Electron fuses refuse NODE_OPTIONS; the ACL checks remain the guard.
 */
import { execFileSync } from 'node:child_process';
import { win32 } from 'node:path';
import { sddlProblem } from './sddl';

export interface CommandOutput {
  /** Process exit code (0 on success; reg.exe answers 1 for a missing key or value). */
  code: number;
  stdout: string;
}

/** Runs reg.exe / icacls.exe / powershell.exe. Tests hand in recorded outputs. */
export type WindowsCommand = (tool: 'reg' | 'icacls' | 'powershell', args: readonly string[]) => CommandOutput;

const TOOL_PATHS = { reg: 'reg.exe', icacls: 'icacls.exe', powershell: 'WindowsPowerShell\\v1.0\\powershell.exe' };

export const systemWindowsCommand: WindowsCommand = (tool, args) => {
  const exe = win32.join(process.env.SystemRoot ?? 'C:\\Windows', 'System32', TOOL_PATHS[tool]);
  try {
    return { code: 0, stdout: execFileSync(exe, [...args], { encoding: 'utf8', windowsHide: true, timeout: 10_000 }) };
  } catch (err) {
    const e = err as { status?: number | null; stdout?: string };
    return { code: e.status ?? -1, stdout: typeof e.stdout === 'string' ? e.stdout : '' };
  }
};

export const POLICY_REGISTRY_KEY = 'HKLM\\Software\\Policies\\ClinicMessenger';
export const USER_POLICY_REGISTRY_KEY = 'HKCU\\Software\\Policies\\ClinicMessenger';
const PROFILE_LIST_KEY = 'HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList';
const CURRENT_VERSION_KEY = 'HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion';

export type RegValue = { type: string; data: string };
/** Registry key path (as printed by reg.exe) → value name → value. */
export type RegTree = Map<string, Map<string, RegValue>>;

/** Parses `reg query … [/s]` output: a key line, then indented `name    REG_TYPE    data` lines. */
export function parseRegQuery(stdout: string): RegTree {
  const tree: RegTree = new Map();
  let current: Map<string, RegValue> | null = null;
  for (const raw of stdout.split(/\r?\n/)) {
    if (!raw.trim()) continue;
    if (/^HKEY_/i.test(raw)) {
      current = new Map();
      tree.set(raw.trim(), current);
      continue;
    }
    const m = /^\s+(.*?)\s{4}(REG_[A-Z_]+)(?:\s{4}(.*))?$/.exec(raw);
    if (m && current) current.set(m[1] as string, { type: m[2] as string, data: m[3] ?? '' });
  }
  return tree;
}

function queryValue(run: WindowsCommand, key: string, name: string): string {
  const out = run('reg', ['query', key, '/v', name]);
  if (out.code !== 0) throw new Error(`the registry value ${key}\\${name} cannot be read`);
  for (const values of parseRegQuery(out.stdout).values()) {
    const v = values.get(name);
    if (v) return v.data;
  }
  throw new Error(`the registry value ${key}\\${name} is missing`);
}

/** The ProgramData known folder, from the registry (see the header). Throws with a reason. */
export function programDataFolder(run: WindowsCommand): string {
  const raw = queryValue(run, PROFILE_LIST_KEY, 'ProgramData');
  const systemRoot = queryValue(run, CURRENT_VERSION_KEY, 'SystemRoot');
  const drive = /^[A-Za-z]:/.exec(systemRoot)?.[0];
  if (!drive) throw new Error(`the registry's SystemRoot (${systemRoot}) has no drive`);
  const expanded = raw.replace(/%SystemDrive%/gi, drive).replace(/%SystemRoot%/gi, systemRoot);
  if (expanded.includes('%') || !/^[A-Za-z]:\\/.test(expanded))
    throw new Error(`the registry's ProgramData folder (${raw}) is not a plain local path`);
  return win32.normalize(expanded);
}

export interface Ace {
  principal: string;
  /** Inheritance flags and rights as printed, e.g. ['OI','CI','IO','F'] or ['WD','AD','WEA','WA']. */
  tokens: string[];
}

/** Parses `icacls <path>` output (the ACEs of one object). */
export function parseIcacls(path: string, stdout: string): Ace[] {
  const aces: Ace[] = [];
  const lines = stdout.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] as string;
    if (i === 0) {
      if (!line.toLowerCase().startsWith(path.toLowerCase())) continue;
      line = line.slice(path.length);
    }
    line = line.trim();
    if (!line) {
      if (aces.length) break; // the blank line before "Successfully processed …"
      continue;
    }
    const m = /^(.+?):((?:\([^)]*\))+)$/.exec(line);
    if (!m) continue;
    const tokens = [...(m[2] as string).matchAll(/\(([^)]*)\)/g)].flatMap((t) => (t[1] as string).split(','));
    aces.push({ principal: m[1] as string, tokens });
  }
  return aces;
}

const TRUSTED_PRINCIPALS = new Set(
  [
    'NT AUTHORITY\\SYSTEM',
    'BUILTIN\\Administrators',
    'NT SERVICE\\TrustedInstaller',
    '*S-1-5-18',
    '*S-1-5-32-544',
    '*S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464',
  ].map((p) => p.toLowerCase()),
);
/** Rights that change an object (file or folder) in place, or replace or delete it. */
const CHANGES_ANY = new Set(['F', 'M', 'D', 'DE', 'DC', 'WDAC', 'WO', 'GA', 'GW']);
/** Rights that change a file's content; on a folder they only add entries (checked on their own). */
const CHANGES_FILE = new Set(['W', 'WD', 'AD']);

/** Why a non-administrator can change the object `aces` protect, or null. */
export function aclProblem(path: string, aces: readonly Ace[], isFile: boolean): string | null {
  if (aces.length === 0) return `${path} has no readable access list`;
  for (const ace of aces) {
    if (ace.tokens.includes('IO') || ace.tokens.includes('DENY')) continue; // inherit-only: not this object; deny only restricts
    if (TRUSTED_PRINCIPALS.has(ace.principal.toLowerCase())) continue;
    const bad = ace.tokens.find((t) => CHANGES_ANY.has(t) || (isFile && CHANGES_FILE.has(t)));
    if (bad) return `${path} can be changed by ${ace.principal} (${bad})`;
  }
  return null;
}

/** Checks the file and every folder above it; null when all are protected. */
export function windowsProtectionProblem(run: WindowsCommand, file: string): string | null {
  let entry = file;
  let isFile = true;
  for (;;) {
    const out = run('icacls', [entry]);
    if (out.code !== 0) return `${entry} has an access list that cannot be read`;
    const problem = aclProblem(entry, parseIcacls(entry, out.stdout), isFile);
    if (problem) return problem;
    const parent = win32.dirname(entry);
    if (parent === entry) return null;
    entry = parent;
    isFile = false;
  }
}

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/**
 * The value types of a nested policy object whose default is null (the pre-set server), where the
 * default cannot tell: its list fields, read from REG_MULTI_SZ as lists (policy-templates.test.ts
 * reads every field of the ADMX back through here, so a new one missing here fails there).
 */
const NULL_DEFAULT_SHAPES: Record<string, Record<string, unknown>> = { server: { alternates: [] } };

function convert(v: RegValue, template: unknown): Json {
  if (v.type === 'REG_DWORD' || v.type === 'REG_QWORD') {
    const n = Number.parseInt(v.data, 16);
    return typeof template === 'boolean' ? n !== 0 : n;
  }
  if (v.type === 'REG_MULTI_SZ') {
    const items = v.data.split('\\0').filter((s) => s.length > 0);
    return Array.isArray(template) ? items : items.join('\n');
  }
  return Array.isArray(template) ? [v.data] : v.data;
}

/** The registry keys IT writes policy to, strongest first (Computer, then User Configuration). */
export const POLICY_REGISTRY_KEYS = [POLICY_REGISTRY_KEY, USER_POLICY_REGISTRY_KEY] as const;

/** The registry policy under `key`: its values as a JSON-like object, and every key path it read. */
export interface RegistryRead {
  policy: Record<string, Json>;
  keys: string[];
}

/**
 * The policy keys set under `key` (default HKLM), as a JSON-like object for the schema to validate.
 * `template` is the default policy: its value types say how a registry value maps. null when the
 * key does not exist; throws when reg.exe fails otherwise.
 */
export function registryPolicy(
  run: WindowsCommand,
  template: Record<string, unknown>,
  key: string = POLICY_REGISTRY_KEY,
): Record<string, Json> | null {
  return readRegistryPolicy(run, template, key)?.policy ?? null;
}

export function readRegistryPolicy(
  run: WindowsCommand,
  template: Record<string, unknown>,
  key: string,
): RegistryRead | null {
  const out = run('reg', ['query', key, '/s']);
  if (out.code === 1) return null; // reg.exe: 1 = no such key, i.e. no registry policy deployed
  if (out.code !== 0) throw new Error(`the registry key ${key} cannot be read (reg.exe exit ${out.code})`);
  const tree = parseRegQuery(out.stdout);
  const depth = key.split('\\').length; // HKEY_…\Software\Policies\ClinicMessenger[\sub]
  const result: Record<string, Json> = {};
  for (const [path, values] of tree) {
    const sub = path.split('\\').slice(depth);
    if (sub.length > 1) continue; // the schema nests one level at most (the ACL check still covers it)
    const name = sub[0];
    if (name === undefined) {
      for (const [k, v] of values) result[k] = convert(v, template[k]);
    } else {
      const nested = template[name] ?? NULL_DEFAULT_SHAPES[name];
      const obj: Record<string, Json> = {};
      for (const [k, v] of values)
        obj[k] = convert(v, nested && typeof nested === 'object' ? (nested as Record<string, unknown>)[k] : undefined);
      result[name] = obj;
    }
  }
  return { policy: result, keys: [...tree.keys()] };
}

/** One PowerShell run printing `<key name>\t<SDDL>` for every policy key and subkey in both hives. */
export const SDDL_SCRIPT = [
  "$ErrorActionPreference = 'Stop'",
  `foreach ($k in @(${POLICY_REGISTRY_KEYS.map((k) => `'${k.replace(/^(HK..)\\/, '$1:\\')}'`).join(', ')})) {`,
  '  if (Test-Path -LiteralPath $k) {',
  '    @(Get-Item -LiteralPath $k) + @(Get-ChildItem -LiteralPath $k -Recurse) | ForEach-Object {',
  '      $_.Name + "`t" + (Get-Acl -LiteralPath $_.PSPath).Sddl',
  '    }',
  '  }',
  '}',
].join('\n');

/** powershell.exe arguments: no profile (a user's profile script would run), the script UTF-16LE base64. */
export const SDDL_ARGS = [
  '-NoProfile',
  '-NonInteractive',
  '-EncodedCommand',
  Buffer.from(SDDL_SCRIPT, 'utf16le').toString('base64'),
] as const;

/** Parses the script's output: key name (lower-cased) → SDDL. */
export function parseKeySddl(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of stdout.split(/\r?\n/)) {
    const tab = line.indexOf('\t');
    if (tab > 0) out.set(line.slice(0, tab).trim().toLowerCase(), line.slice(tab + 1).trim());
  }
  return out;
}

/** Why a non-administrator could change one of `keys` (as reg.exe printed them), or null. */
export function registryKeysProblem(run: WindowsCommand, keys: readonly string[]): string | null {
  if (keys.length === 0) return null;
  const out = run('powershell', SDDL_ARGS);
  if (out.code !== 0) return `the access lists of ${keys[0]} cannot be read (PowerShell exit ${out.code})`;
  const sddl = parseKeySddl(out.stdout);
  for (const key of keys) {
    const descriptor = sddl.get(key.toLowerCase());
    if (!descriptor) return `${key} has an access list that cannot be read`;
    const problem = sddlProblem(key, descriptor);
    if (problem) return problem;
  }
  return null;
}
