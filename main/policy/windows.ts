/**
 * Windows sources of the managed policy (issue 10 item 10), without native modules:
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
 * - Policy values from `HKLM\Software\Policies\ClinicMessenger` (Group Policy / Intune territory,
 *   writable only by administrators by default): a value or subkey replaces the same top-level key
 *   of the file. Values map by the schema's defaults: REG_DWORD → number (0/1 → false/true for
 *   boolean keys), REG_SZ → text, REG_MULTI_SZ → a list (or lines joined by \n for text keys such as
 *   trustedCaPem), a subkey (server, argon2) → an object.
 *
 * reg.exe and icacls.exe run from `%SystemRoot%\System32`: the one environment variable trusted here,
 * because a user who can change this process's environment already runs code as that user and the
 * Electron fuses refuse NODE_OPTIONS; the ACL check on the resolved folder remains the guard.
 */
import { execFileSync } from 'node:child_process';
import { win32 } from 'node:path';

export interface CommandOutput {
  /** Process exit code (0 on success; reg.exe answers 1 for a missing key or value). */
  code: number;
  stdout: string;
}

/** Runs reg.exe / icacls.exe. Tests hand in recorded outputs. */
export type WindowsCommand = (tool: 'reg' | 'icacls', args: readonly string[]) => CommandOutput;

export const systemWindowsCommand: WindowsCommand = (tool, args) => {
  const exe = win32.join(process.env.SystemRoot ?? 'C:\\Windows', 'System32', `${tool}.exe`);
  try {
    return { code: 0, stdout: execFileSync(exe, [...args], { encoding: 'utf8', windowsHide: true, timeout: 10_000 }) };
  } catch (err) {
    const e = err as { status?: number | null; stdout?: string };
    return { code: e.status ?? -1, stdout: typeof e.stdout === 'string' ? e.stdout : '' };
  }
};

export const POLICY_REGISTRY_KEY = 'HKLM\\Software\\Policies\\ClinicMessenger';
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

/**
 * The policy keys set under POLICY_REGISTRY_KEY, as a JSON-like object for the schema to validate.
 * `template` is the default policy: its value types say how a registry value maps. null when the
 * key does not exist; throws when reg.exe fails otherwise.
 */
export function registryPolicy(run: WindowsCommand, template: Record<string, unknown>): Record<string, Json> | null {
  const out = run('reg', ['query', POLICY_REGISTRY_KEY, '/s']);
  if (out.code === 1) return null; // reg.exe: 1 = no such key, i.e. no registry policy deployed
  if (out.code !== 0)
    throw new Error(`the registry key ${POLICY_REGISTRY_KEY} cannot be read (reg.exe exit ${out.code})`);
  const tree = parseRegQuery(out.stdout);
  const result: Record<string, Json> = {};
  for (const [key, values] of tree) {
    const sub = key.split('\\').slice(4); // HKEY_LOCAL_MACHINE\Software\Policies\ClinicMessenger[\sub]
    if (sub.length > 1) continue; // the schema nests one level at most
    const name = sub[0];
    if (name === undefined) {
      for (const [k, v] of values) result[k] = convert(v, template[k]);
    } else {
      const nested = template[name];
      const obj: Record<string, Json> = {};
      for (const [k, v] of values)
        obj[k] = convert(v, nested && typeof nested === 'object' ? (nested as Record<string, unknown>)[k] : undefined);
      result[name] = obj;
    }
  }
  return result;
}
