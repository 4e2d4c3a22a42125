// Issue 10 item 10 on Windows: the folder from the registry (not %ProgramData%), the access lists
// from icacls, policy values from HKLM then HKCU, key access lists from Get-Acl (issue 14 item 2).
// Recorded reg.exe / icacls / PowerShell outputs of a Windows 10/11 machine.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadManagedPolicy, loadPolicy, managedPolicyPath } from '../../main/policy/load';
import { defaultPolicy } from '../../main/policy/schema';
import {
  aclProblem,
  parseIcacls,
  parseRegQuery,
  registryPolicy,
  windowsProtectionProblem,
  type CommandOutput,
  type WindowsCommand,
} from '../../main/policy/windows';

const PROFILE_LIST = `
HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList
    ProgramData    REG_EXPAND_SZ    %SystemDrive%\\ProgramData

`;
const CURRENT_VERSION = (root: string) => `
HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion
    SystemRoot    REG_SZ    ${root}

`;
const NOT_FOUND: CommandOutput = { code: 1, stdout: '' }; // "ERROR: The system was unable to find the specified registry key or value." goes to stderr

/** Default ACLs, printed by icacls the way it pads continuation lines to the path's width. */
const acl = (path: string, aces: string[]) =>
  aces.map((a, i) => (i === 0 ? `${path} ${a}` : `${' '.repeat(path.length + 1)}${a}`)).join('\r\n') +
  '\r\n\r\nSuccessfully processed 1 files; Failed processing 0 files\r\n';
const DRIVE_ROOT = [
  'BUILTIN\\Administrators:(OI)(CI)(F)',
  'NT AUTHORITY\\SYSTEM:(OI)(CI)(F)',
  'BUILTIN\\Users:(OI)(CI)(RX)',
  'NT AUTHORITY\\Authenticated Users:(OI)(CI)(IO)(M)',
  'NT AUTHORITY\\Authenticated Users:(AD)',
  'Mandatory Label\\High Mandatory Level:(OI)(NP)(IO)(NW)',
];
const PROGRAM_DATA = [
  'NT AUTHORITY\\SYSTEM:(OI)(CI)(F)',
  'BUILTIN\\Administrators:(OI)(CI)(F)',
  'CREATOR OWNER:(OI)(CI)(IO)(F)',
  'BUILTIN\\Users:(OI)(CI)(RX)',
  'BUILTIN\\Users:(CI)(WD,AD,WEA,WA)',
];
const APP_FOLDER = [
  'NT AUTHORITY\\SYSTEM:(I)(OI)(CI)(F)',
  'BUILTIN\\Administrators:(I)(OI)(CI)(F)',
  'CREATOR OWNER:(I)(OI)(CI)(IO)(F)',
  'BUILTIN\\Users:(I)(OI)(CI)(RX)',
  'BUILTIN\\Users:(I)(CI)(WD,AD,WEA,WA)',
];
const ADMIN_FILE = ['NT AUTHORITY\\SYSTEM:(I)(F)', 'BUILTIN\\Administrators:(I)(F)', 'BUILTIN\\Users:(I)(RX)'];

/** Default SDDL of a key under HKLM\SOFTWARE\Policies (Get-Acl on Windows 11, inherited from Policies). */
const HKLM_SDDL =
  'O:BAG:SYD:AI(A;CIIOID;KA;;;CO)(A;CIID;KR;;;BU)(A;CIID;KA;;;BA)(A;CIID;KA;;;SY)(A;CIID;KR;;;AC)' +
  '(A;CIID;KR;;;S-1-15-3-1024-1065365936-1281604716-3511738428-1654721687-432734479-3232135806-4053264122-3456934681)';
const USER = 'S-1-5-21-3623811015-3361044348-30300820-1013';
/** A key Group Policy wrote under HKCU\Software\Policies: owned by Administrators, the user reads only. */
const HKCU_GPO_SDDL = `O:BAG:SYD:AI(A;CIID;KR;;;${USER})(A;CIID;KA;;;BA)(A;CIID;KA;;;SY)(A;CIID;KR;;;RC)`;

/**
 * A fake machine: reg.exe answers from `policyKey` (HKLM) / `userKey` (HKCU), icacls from `acls`
 * (default: the protected defaults), PowerShell's Get-Acl from `sddl` (default: the protected
 * defaults of each key reg.exe knows).
 */
function machine(
  opts: {
    systemRoot?: string;
    policyKey?: string | null;
    userKey?: string | null;
    acls?: Record<string, string[]>;
    sddl?: Record<string, string>;
    powershellExit?: number;
  } = {},
): WindowsCommand & { calls: string[][] } {
  const calls: string[][] = [];
  const run = ((tool: 'reg' | 'icacls' | 'powershell', args: readonly string[]): CommandOutput => {
    calls.push([tool, ...args]);
    if (tool === 'reg') {
      const key = args[1] ?? '';
      if (key.endsWith('ProfileList')) return { code: 0, stdout: PROFILE_LIST };
      if (key.endsWith('CurrentVersion')) return { code: 0, stdout: CURRENT_VERSION(opts.systemRoot ?? 'C:\\WINDOWS') };
      const answer = key.startsWith('HKLM\\') ? opts.policyKey : opts.userKey;
      if (key.endsWith('ClinicMessenger')) return answer ? { code: 0, stdout: answer } : NOT_FOUND;
      return NOT_FOUND;
    }
    if (tool === 'powershell') {
      if (opts.powershellExit) return { code: opts.powershellExit, stdout: '' };
      const keys = [...parseRegQuery(opts.policyKey ?? '').keys(), ...parseRegQuery(opts.userKey ?? '').keys()];
      const lines = keys.map(
        (k) => `${k}\t${opts.sddl?.[k] ?? (k.startsWith('HKEY_LOCAL') ? HKLM_SDDL : HKCU_GPO_SDDL)}`,
      );
      return { code: 0, stdout: lines.join('\r\n') + '\r\n' };
    }
    const path = args[0] ?? '';
    const aces =
      opts.acls?.[path] ??
      (path.endsWith('.json') ? ADMIN_FILE : path.length <= 3 || path === '/' ? DRIVE_ROOT : PROGRAM_DATA);
    return { code: 0, stdout: acl(path, aces) };
  }) as WindowsCommand & { calls: string[][] };
  run.calls = calls;
  return run;
}

describe('Windows: where the policy is', () => {
  it('takes ProgramData from the known-folder registry value, not the %ProgramData% variable', () => {
    const saved = process.env.ProgramData;
    process.env.ProgramData = 'C:\\Users\\pat\\AppData\\Local\\Temp\\fake'; // any user can set this for their session
    try {
      expect(managedPolicyPath('win32', machine())).toBe('C:\\ProgramData\\ClinicMessenger\\policy.json');
      expect(managedPolicyPath('win32', machine({ systemRoot: 'D:\\Windows' }))).toBe(
        'D:\\ProgramData\\ClinicMessenger\\policy.json',
      );
    } finally {
      if (saved === undefined) delete process.env.ProgramData;
      else process.env.ProgramData = saved;
    }
    expect(managedPolicyPath('linux')).toBe('/etc/clinic-messenger/policy.json');
    expect(managedPolicyPath('darwin')).toBe('/Library/Application Support/ClinicMessenger/policy.json');
  });

  it('reports on screen, with the strict defaults, when the registry cannot say where ProgramData is', () => {
    const broken: WindowsCommand = (tool, args) =>
      tool === 'reg' && (args[1] ?? '').endsWith('ProfileList')
        ? { code: 0, stdout: PROFILE_LIST.replace('%SystemDrive%', '%USERPROFILE%') }
        : machine()(tool, args);
    const r = loadManagedPolicy({ platform: 'win32', windows: broken });
    expect(r.error).toMatch(
      /policy folder cannot be determined: the registry's ProgramData folder \(%USERPROFILE%\\ProgramData\) is not a plain local path/,
    );
    expect(r.policy).toEqual(defaultPolicy);
  });
});

describe('Windows: access lists (icacls)', () => {
  it('parses the ACEs of one object', () => {
    expect(parseIcacls('C:\\ProgramData', acl('C:\\ProgramData', PROGRAM_DATA))).toEqual([
      { principal: 'NT AUTHORITY\\SYSTEM', tokens: ['OI', 'CI', 'F'] },
      { principal: 'BUILTIN\\Administrators', tokens: ['OI', 'CI', 'F'] },
      { principal: 'CREATOR OWNER', tokens: ['OI', 'CI', 'IO', 'F'] },
      { principal: 'BUILTIN\\Users', tokens: ['OI', 'CI', 'RX'] },
      { principal: 'BUILTIN\\Users', tokens: ['CI', 'WD', 'AD', 'WEA', 'WA'] },
    ]);
  });

  it('accepts the default protection of C:\\, ProgramData, the installer-made folder and an admin-written file', () => {
    const run = machine();
    expect(windowsProtectionProblem(run, 'C:\\ProgramData\\ClinicMessenger\\policy.json')).toBeNull();
    expect(run.calls.map((c) => c[1])).toEqual([
      'C:\\ProgramData\\ClinicMessenger\\policy.json',
      'C:\\ProgramData\\ClinicMessenger',
      'C:\\ProgramData',
      'C:\\',
    ]);
  });

  it('refuses a file users may modify, a file a user created, and a folder users may delete entries from', () => {
    const file = 'C:\\ProgramData\\ClinicMessenger\\policy.json';
    const withFile = (aces: string[]) => windowsProtectionProblem(machine({ acls: { [file]: aces } }), file);
    expect(withFile([...ADMIN_FILE, 'BUILTIN\\Users:(I)(M)'])).toBe(`${file} can be changed by BUILTIN\\Users (M)`);
    expect(withFile([...ADMIN_FILE, 'Everyone:(W)'])).toBe(`${file} can be changed by Everyone (W)`);
    // Created by a user in the folder (users may add files there): CREATOR OWNER gives them full control.
    expect(withFile([...ADMIN_FILE, 'CLINIC\\pat:(I)(F)'])).toBe(`${file} can be changed by CLINIC\\pat (F)`);
    const folder = 'C:\\ProgramData\\ClinicMessenger';
    expect(
      windowsProtectionProblem(machine({ acls: { [folder]: [...APP_FOLDER, 'BUILTIN\\Users:(OI)(CI)(DC)'] } }), file),
    ).toBe(`${folder} can be changed by BUILTIN\\Users (DC)`);
  });

  it('ignores inherit-only and deny entries, and fails closed on names it does not know as administrators', () => {
    expect(
      aclProblem(
        'x',
        parseIcacls('x', acl('x', ['CREATOR OWNER:(OI)(CI)(IO)(F)', 'Everyone:(DENY)(W)', ...ADMIN_FILE])),
        true,
      ),
    ).toBeNull();
    // A French Windows prints "BUILTIN\Administrateurs": not recognised, so refused rather than trusted.
    expect(aclProblem('x', parseIcacls('x', acl('x', ['BUILTIN\\Administrateurs:(I)(F)'])), true)).toMatch(
      /Administrateurs \(F\)/,
    );
    expect(aclProblem('x', [], true)).toMatch(/no readable access list/);
  });
});

const POLICY_KEY = `
HKEY_LOCAL_MACHINE\\Software\\Policies\\ClinicMessenger
    lockTimeoutMaxMinutes    REG_DWORD    0x2
    notificationPreview    REG_SZ    sender
    exportAllowed    REG_DWORD    0x1
    screenshotsAllowed    REG_DWORD    0x0
    adminKeyFingerprints    REG_MULTI_SZ    ${'A'.repeat(40)}\\0${'B'.repeat(40)}
    adminAccount    REG_SZ    it-admin@clinic.example
    trustedCaPem    REG_MULTI_SZ    -----BEGIN CERTIFICATE-----\\0MIIB\\0-----END CERTIFICATE-----

HKEY_LOCAL_MACHINE\\Software\\Policies\\ClinicMessenger\\server
    domain    REG_SZ    clinic.example
    port    REG_DWORD    0x1467
    tls    REG_SZ    direct

`;

describe('Windows: policy from HKLM\\Software\\Policies\\ClinicMessenger', () => {
  const dir = mkdtempSync(join(tmpdir(), 'policy-win-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('maps registry values by the schema: DWORD numbers and booleans, text, lists, a subkey as an object', () => {
    expect(parseRegQuery(POLICY_KEY).size).toBe(2);
    expect(registryPolicy(machine({ policyKey: POLICY_KEY }), defaultPolicy)).toEqual({
      lockTimeoutMaxMinutes: 2,
      notificationPreview: 'sender',
      exportAllowed: true,
      screenshotsAllowed: false,
      adminKeyFingerprints: ['A'.repeat(40), 'B'.repeat(40)],
      adminAccount: 'it-admin@clinic.example',
      trustedCaPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
      server: { domain: 'clinic.example', port: 5223, tls: 'direct' },
    });
    expect(registryPolicy(machine(), defaultPolicy)).toBeNull();
  });

  it('applies the registry alone when no file is deployed', () => {
    const r = loadPolicy(join(dir, 'absent.json'), undefined, {
      platform: 'win32',
      windows: machine({ policyKey: POLICY_KEY }),
    });
    expect(r.error).toBeNull();
    expect(r.source).toBe('HKLM\\Software\\Policies\\ClinicMessenger');
    expect(r.policy).toMatchObject({
      lockTimeoutMaxMinutes: 2,
      exportAllowed: true,
      server: { domain: 'clinic.example', port: 5223, tls: 'direct' },
    });
  });

  it('lets a registry value replace the same key of a protected file', () => {
    const p = join(dir, 'policy.json');
    writeFileSync(p, JSON.stringify({ lockTimeoutMaxMinutes: 4, retentionDays: 30 }));
    const r = loadPolicy(p, undefined, { platform: 'win32', windows: machine({ policyKey: POLICY_KEY }) });
    expect(r.error).toBeNull();
    expect(r.source).toBe(`HKLM\\Software\\Policies\\ClinicMessenger + ${p}`);
    expect(r.policy.lockTimeoutMaxMinutes).toBe(2);
    expect(r.policy.retentionDays).toBe(30);
  });

  it('refuses a file users can change, even when the registry policy is fine', () => {
    const p = join(dir, 'open.json');
    writeFileSync(p, JSON.stringify({ notificationPreview: 'full' }));
    const r = loadPolicy(p, undefined, {
      platform: 'win32',
      windows: machine({ policyKey: POLICY_KEY, acls: { [p]: [...ADMIN_FILE, 'BUILTIN\\Users:(I)(M)'] } }),
    });
    expect(r.error).toMatch(
      /refused because a user who is not an administrator could change it: .*BUILTIN\\Users \(M\)/,
    );
    expect(r.policy).toEqual(defaultPolicy);
  });

  it('reports an invalid registry value with its name', () => {
    const bad = POLICY_KEY.replace('REG_SZ    sender', 'REG_SZ    everything');
    const r = loadPolicy(join(dir, 'absent.json'), undefined, {
      platform: 'win32',
      windows: machine({ policyKey: bad }),
    });
    expect(r.error).toMatch(/HKLM\\Software\\Policies\\ClinicMessenger is invalid: notificationPreview/);
    expect(r.policy).toEqual(defaultPolicy);
  });
});

const USER_KEY = `
HKEY_CURRENT_USER\\Software\\Policies\\ClinicMessenger
    lockTimeoutMaxMinutes    REG_DWORD    0x4
    retentionDays    REG_DWORD    0x1e

HKEY_CURRENT_USER\\Software\\Policies\\ClinicMessenger\\server
    domain    REG_SZ    user.example

`;
const HKLM_KEY = 'HKLM\\Software\\Policies\\ClinicMessenger';
const HKCU_KEY = 'HKCU\\Software\\Policies\\ClinicMessenger';

describe('Windows: HKLM, then HKCU, then the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'policy-win-hkcu-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const load = (run: WindowsCommand, file = join(dir, 'absent.json')) =>
    loadPolicy(file, undefined, { platform: 'win32', windows: run });

  it('takes each top-level key from the strongest source; a nested object comes whole from one source', () => {
    const p = join(dir, 'policy.json');
    writeFileSync(p, JSON.stringify({ retentionDays: 7, maxFailedUnlocks: 3, lockTimeoutMaxMinutes: 5 }));
    const r = load(machine({ policyKey: POLICY_KEY, userKey: USER_KEY }), p);
    expect(r.error).toBeNull();
    expect(r.source).toBe(`${HKLM_KEY} + ${HKCU_KEY} + ${p}`);
    expect(r.policy.lockTimeoutMaxMinutes).toBe(2); // HKLM beats HKCU's 4 and the file's 5
    expect(r.policy.retentionDays).toBe(30); // HKCU beats the file's 7
    expect(r.policy.maxFailedUnlocks).toBe(3); // only the file sets it
    // HKLM's server subkey replaces HKCU's as a whole: no field of user.example survives.
    expect(r.policy.server).toEqual({ domain: 'clinic.example', port: 5223, tls: 'direct' });
    expect([...r.managedKeys].sort()).toEqual(
      [
        ...new Set([
          ...Object.keys(registryPolicy(machine({ policyKey: POLICY_KEY }), defaultPolicy) ?? {}),
          'retentionDays',
          'maxFailedUnlocks',
        ]),
      ].sort(),
    );
  });

  it('applies HKCU alone, read through reg.exe and checked through one PowerShell Get-Acl run', () => {
    const run = machine({ userKey: USER_KEY });
    const r = load(run);
    expect(r.error).toBeNull();
    expect(r.source).toBe(HKCU_KEY);
    expect(r.policy).toMatchObject({ lockTimeoutMaxMinutes: 4, retentionDays: 30, server: { domain: 'user.example' } });
    expect(r.managedKeys).toEqual(['lockTimeoutMaxMinutes', 'retentionDays', 'server']);
    const ps = run.calls.filter((c) => c[0] === 'powershell');
    expect(ps).toHaveLength(1);
    expect(ps[0]?.slice(1, 4)).toEqual(['-NoProfile', '-NonInteractive', '-EncodedCommand']);
    const script = Buffer.from(ps[0]?.[4] ?? '', 'base64').toString('utf16le');
    expect(script).toContain(
      "'HKLM:\\Software\\Policies\\ClinicMessenger', 'HKCU:\\Software\\Policies\\ClinicMessenger'",
    );
    expect(script).toContain('(Get-Acl -LiteralPath $_.PSPath).Sddl');
  });

  it('does not start PowerShell when no registry policy is deployed', () => {
    const run = machine();
    expect(load(run)).toEqual({ policy: defaultPolicy, source: null, error: null, managedKeys: [] });
    expect(run.calls.filter((c) => c[0] === 'powershell')).toEqual([]);
  });

  it('refuses an HKCU key the user created, on screen, with the strict defaults — even under a good HKLM policy', () => {
    const USER = 'S-1-5-21-3623811015-3361044348-30300820-1013';
    const sddl = {
      'HKEY_CURRENT_USER\\Software\\Policies\\ClinicMessenger': `O:${USER}G:${USER}D:(A;CIID;KA;;;${USER})(A;CIID;KA;;;SY)`,
    };
    const r = load(machine({ policyKey: POLICY_KEY, userKey: USER_KEY, sddl }));
    expect(r.error).toBe(
      `The clinic policy in the registry is refused because a user who is not an administrator could change it: HKEY_CURRENT_USER\\Software\\Policies\\ClinicMessenger is owned by ${USER}, not by an administrator. Ask IT to set it through Group Policy or Intune only.`,
    );
    expect(r.policy).toEqual(defaultPolicy);
    expect(r.managedKeys).toEqual([]);
  });

  it('refuses a subkey users may write, a key PowerShell did not list, and a failed PowerShell run', () => {
    const sub = 'HKEY_CURRENT_USER\\Software\\Policies\\ClinicMessenger\\server';
    const open = load(machine({ userKey: USER_KEY, sddl: { [sub]: 'O:BAG:SYD:AI(A;CIID;KR;;;BU)(A;CIID;0x2;;;BU)' } }));
    expect(open.error).toMatch(new RegExp(`${sub.replace(/\\/g, '\\\\')} can be changed by BU \\(0x2\\)`));
    expect(open.policy).toEqual(defaultPolicy);
    const missing: WindowsCommand = (tool, args) =>
      tool === 'powershell' ? { code: 0, stdout: '' } : machine({ userKey: USER_KEY })(tool, args);
    expect(load(missing).error).toMatch(/ClinicMessenger has an access list that cannot be read/);
    expect(load(machine({ userKey: USER_KEY, powershellExit: 1 })).error).toMatch(
      /cannot be read \(PowerShell exit 1\)/,
    );
    // A deeper subkey holds no setting the schema knows, but one a user may write is refused all the same.
    const deep = 'HKEY_CURRENT_USER\\Software\\Policies\\ClinicMessenger\\server\\extra';
    const withDeep = `${USER_KEY}${deep}\n    x    REG_SZ    y\n\n`;
    expect(load(machine({ userKey: withDeep })).error).toBeNull();
    expect(load(machine({ userKey: withDeep, sddl: { [deep]: 'O:BAG:SYD:(A;;KA;;;BU)' } })).error).toMatch(
      /ClinicMessenger\\server\\extra can be changed by BU \(KA\)/,
    );
  });
});
