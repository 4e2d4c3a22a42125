/**
 * Who can change a registry key, from its security descriptor in SDDL (issue 14 item 2): reg.exe
 * cannot print access lists, so windows.ts asks PowerShell for `(Get-Acl …).Sddl` and this pure
 * parser judges it, the same rule as the icacls check of the policy file (issue 10 item 10):
 *  - the owner must be SYSTEM, Administrators or TrustedInstaller (an owner may always rewrite the
 *    access list, so a key a user created is theirs to change whatever its ACEs say);
 *  - no allow-ACE that applies to the key itself (inherit-only `IO` ACEs are skipped) may give anyone
 *    else a right that changes the key: set a value, create a subkey or a link, delete it, change
 *    its access list or owner, or a generic right that includes one of these.
 * Rights come either as two-letter codes or as a hex mask; each code is turned into its mask bits,
 * and a code this parser does not know refuses the key (fail closed).
 *
 * Default descriptors this accepts: `HKLM\SOFTWARE\Policies\…` (O:BA, KA for BA/SY, KR for users,
 * KA for CREATOR OWNER inherit-only) and a key Group Policy wrote under `HKCU\Software\Policies`
 * (the user gets KR only there). https://learn.microsoft.com/windows/win32/secauthz/ace-strings
 */

const TRUSTED_SIDS = new Set([
  'SY',
  'BA',
  'S-1-5-18',
  'S-1-5-32-544',
  'S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464', // NT SERVICE\TrustedInstaller
]);

/** ACE rights codes → access mask bits (winnt.h; the DS codes are how SDDL spells low bits). */
const RIGHT_BITS: Record<string, number> = {
  GA: 0x10000000,
  GR: 0x80000000,
  GW: 0x40000000,
  GX: 0x20000000,
  RC: 0x20000,
  SD: 0x10000,
  WD: 0x40000,
  WO: 0x80000,
  CC: 0x1,
  DC: 0x2,
  LC: 0x4,
  SW: 0x8,
  RP: 0x10,
  WP: 0x20,
  DT: 0x40,
  LO: 0x80,
  CR: 0x100,
  KA: 0xf003f,
  KR: 0x20019,
  KW: 0x20006,
  KX: 0x20019,
  FA: 0x1f01ff,
  FR: 0x120089,
  FW: 0x120116,
  FX: 0x1200a0,
};

/**
 * KEY_SET_VALUE 0x2, KEY_CREATE_SUB_KEY 0x4, KEY_CREATE_LINK 0x20 (a link can point the key
 * elsewhere), DELETE, WRITE_DAC, WRITE_OWNER, GENERIC_ALL, GENERIC_WRITE.
 */
const CHANGES_KEY = 0x2 | 0x4 | 0x20 | 0x10000 | 0x40000 | 0x80000 | 0x10000000 | 0x40000000;

const ALLOW_TYPES = new Set(['A', 'OA', 'XA', 'ZA']);

export interface SddlAce {
  type: string;
  flags: string[];
  /** The access mask, or null when a rights code is unknown. */
  mask: number | null;
  rights: string;
  sid: string;
}

export interface Sddl {
  owner: string | null;
  dacl: SddlAce[] | null;
}

/** Splits `O:…G:…D:…S:…` into its sections (a section letter followed by ':' outside parentheses). */
function sections(sddl: string): Map<string, string> {
  const out = new Map<string, string>();
  let depth = 0;
  let current: string | null = null;
  let start = 0;
  for (let i = 0; i < sddl.length; i++) {
    const c = sddl[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0 && 'OGDS'.includes(c as string) && sddl[i + 1] === ':') {
      if (current) out.set(current, sddl.slice(start, i));
      current = c as string;
      start = i + 2;
      i++;
    }
  }
  if (current) out.set(current, sddl.slice(start));
  return out;
}

function maskOf(rights: string): number | null {
  if (/^0x[0-9a-f]+$/i.test(rights)) return Number.parseInt(rights.slice(2), 16);
  if (rights.length % 2 !== 0) return null;
  let mask = 0;
  for (let i = 0; i < rights.length; i += 2) {
    const bits = RIGHT_BITS[rights.slice(i, i + 2).toUpperCase()];
    if (bits === undefined) return null;
    mask |= bits;
  }
  return mask >>> 0;
}

export function parseSddl(sddl: string): Sddl {
  const parts = sections(sddl.trim());
  const dacl = parts.get('D');
  const aces: SddlAce[] = [];
  for (const m of (dacl ?? '').matchAll(/\(([^)]*)\)/g)) {
    const [type = '', flags = '', rights = '', , , sid = ''] = (m[1] as string).split(';');
    aces.push({
      type: type.toUpperCase(),
      flags: flags.match(/../g) ?? [],
      mask: maskOf(rights),
      rights,
      sid: sid.toUpperCase(),
    });
  }
  return { owner: parts.get('O')?.toUpperCase() ?? null, dacl: dacl === undefined ? null : aces };
}

/** Why a non-administrator can change the key `sddl` protects, or null when none can. */
export function sddlProblem(key: string, sddl: string): string | null {
  const sd = parseSddl(sddl);
  if (!sd.owner) return `${key} has no readable owner`;
  if (!TRUSTED_SIDS.has(sd.owner)) return `${key} is owned by ${sd.owner}, not by an administrator`;
  // A NULL DACL (no D: section, or D:NO_ACCESS_CONTROL) grants everyone everything.
  if (!sd.dacl || /NO_ACCESS_CONTROL/i.test(sddl)) return `${key} has no access list: everyone may change it`;
  for (const ace of sd.dacl) {
    if (!ALLOW_TYPES.has(ace.type) || ace.flags.includes('IO')) continue; // deny/audit; inherit-only
    if (TRUSTED_SIDS.has(ace.sid)) continue;
    if (ace.mask === null) return `${key} has an access right this app does not know (${ace.rights} for ${ace.sid})`;
    if (ace.mask & CHANGES_KEY) return `${key} can be changed by ${ace.sid} (${ace.rights})`;
  }
  return null;
}
