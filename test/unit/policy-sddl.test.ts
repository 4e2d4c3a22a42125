// Issue 14 item 2: a registry policy key is used only when no non-administrator can change it.
// SDDL strings as `(Get-Acl HKLM:\…).Sddl` / `(Get-Acl HKCU:\…).Sddl` print them on Windows 10/11.
import { describe, expect, it } from 'vitest';
import { parseSddl, sddlProblem } from '../../main/policy/sddl';

const KEY = 'HKEY_CURRENT_USER\\Software\\Policies\\ClinicMessenger';
const USER = 'S-1-5-21-3623811015-3361044348-30300820-1013';
const CAPABILITY =
  'S-1-15-3-1024-1065365936-1281604716-3511738428-1654721687-432734479-3232135806-4053264122-3456934681';
/** HKLM\SOFTWARE\Policies\ClinicMessenger as Group Policy or the MSI creates it (inherits from Policies). */
const HKLM = `O:BAG:SYD:AI(A;CIIOID;KA;;;CO)(A;CIID;KR;;;BU)(A;CIID;KA;;;BA)(A;CIID;KA;;;SY)(A;CIID;KR;;;AC)(A;CIID;KR;;;${CAPABILITY})`;
/** Written by Group Policy (as SYSTEM) under HKCU\Software\Policies, where the user may only read. */
const HKCU_GPO = `O:BAG:SYD:AI(A;CIID;KR;;;${USER})(A;CIID;KA;;;BA)(A;CIID;KA;;;SY)(A;CIID;KR;;;RC)`;
/** Created by the user themselves (e.g. under HKCU\Software after IT loosened Policies): they own it. */
const USER_MADE = `O:${USER}G:${USER}D:(A;CIID;KA;;;${USER})(A;CIID;KA;;;SY)(A;CIID;KA;;;BA)(A;CIID;KR;;;RC)`;

describe('registry key access lists (SDDL)', () => {
  it('parses owner and ACEs, flags and rights', () => {
    const sd = parseSddl(HKCU_GPO);
    expect(sd.owner).toBe('BA');
    expect(sd.dacl?.[0]).toEqual({ type: 'A', flags: ['CI', 'ID'], mask: 0x20019, rights: 'KR', sid: USER });
    expect(parseSddl('O:S-1-5-18G:S-1-5-18D:P(A;;0x20006;;;BU)S:AI(AU;SA;KA;;;WD)').dacl).toEqual([
      { type: 'A', flags: [], mask: 0x20006, rights: '0x20006', sid: 'BU' },
    ]);
  });

  it('accepts an HKLM policy key and a key Group Policy wrote under HKCU', () => {
    expect(sddlProblem('HKLM', HKLM)).toBeNull();
    expect(sddlProblem(KEY, HKCU_GPO)).toBeNull();
    // TrustedInstaller may own a key too.
    expect(
      sddlProblem(KEY, 'O:S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464D:(A;;KA;;;SY)'),
    ).toBeNull();
  });

  it('refuses a key the user created (they own it) or may change', () => {
    expect(sddlProblem(KEY, USER_MADE)).toBe(`${KEY} is owned by ${USER}, not by an administrator`);
    expect(sddlProblem(KEY, HKCU_GPO.replace(`(A;CIID;KR;;;${USER})`, `(A;CIID;KA;;;${USER})`))).toBe(
      `${KEY} can be changed by ${USER} (KA)`,
    );
    expect(sddlProblem(KEY, `${HKCU_GPO}(A;;KW;;;AU)`)).toBe(`${KEY} can be changed by AU (KW)`);
    for (const right of ['GA', 'GW', 'WD', 'WO', 'SD', 'DC', 'LC', 'CCDCLCSWRPSDRC'])
      expect(sddlProblem(KEY, `${HKCU_GPO}(A;;${right};;;BU)`), right).toMatch(/can be changed by BU/);
  });

  it('ignores inherit-only ACEs (they apply to subkeys created later, checked on their own) and deny ACEs', () => {
    expect(sddlProblem(KEY, `${HKCU_GPO}(A;CIIO;KA;;;${USER})`)).toBeNull();
    expect(sddlProblem(KEY, `${HKCU_GPO}(D;CI;KA;;;WD)`)).toBeNull();
    expect(sddlProblem(KEY, `${HKCU_GPO}(A;CI;KA;;;${USER})`)).toMatch(/can be changed/);
  });

  it('reads hex masks bit by bit', () => {
    expect(sddlProblem(KEY, `${HKCU_GPO}(A;CI;0x20019;;;BU)`)).toBeNull(); // KEY_READ
    expect(sddlProblem(KEY, `${HKCU_GPO}(A;CI;0x80000000;;;BU)`)).toBeNull(); // GENERIC_READ
    for (const mask of ['0x2', '0x4', '0x20', '0x10000', '0x40000', '0x80000', '0x10000000', '0x40000000', '0xF003F'])
      expect(sddlProblem(KEY, `${HKCU_GPO}(A;CI;${mask};;;BU)`), mask).toBe(`${KEY} can be changed by BU (${mask})`);
  });

  it('fails closed on what it cannot judge', () => {
    expect(sddlProblem(KEY, `${HKCU_GPO}(A;;ZZ;;;BU)`)).toMatch(/access right this app does not know \(ZZ for BU\)/);
    expect(sddlProblem(KEY, 'O:BAG:SYD:NO_ACCESS_CONTROL')).toMatch(/no access list/);
    expect(sddlProblem(KEY, 'O:BAG:SY')).toMatch(/no access list/);
    expect(sddlProblem(KEY, 'D:(A;;KA;;;SY)')).toMatch(/no readable owner/);
    expect(sddlProblem(KEY, '')).toMatch(/no readable owner/);
  });
});
