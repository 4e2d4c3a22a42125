// Issue 14 item 2 on macOS: forced managed preferences only (the plists the MDM client writes under
// /Library/Managed Preferences), device before user before the JSON file; the user's own defaults
// are never read. Pure plist mapping, then the loader on real temp files with an injected plutil.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPolicy, managedPolicyLocations } from '../../main/policy/load';
import { managedPreferences, PLUTIL_ARGS, type MacCommand } from '../../main/policy/macos';
import { parsePlistXml } from '../../main/policy/plist';
import { defaultPolicy } from '../../main/policy/schema';

const HEAD =
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n';
const plist = (body: string) => `${HEAD}<plist version="1.0">\n${body}\n</plist>\n`;

const DEVICE = plist(`<dict>
  <key>lockTimeoutMaxMinutes</key><integer>2</integer>
  <key>exportAllowed</key><false/>
  <key>screenshotsAllowed</key><true/>
  <key>adminKeyFingerprints</key><array><string>${'A'.repeat(40)}</string><string>${'B'.repeat(40)}</string></array>
  <key>adminAccount</key><string>it-admin@clinic.example</string>
  <key>server</key><dict><key>domain</key><string>clinic.example</string><key>port</key><integer>5223</integer><key>tls</key><string>direct</string></dict>
</dict>`);
const USER = plist(`<dict>
  <key>lockTimeoutMaxMinutes</key><integer>4</integer>
  <key>retentionDays</key><integer>30</integer>
  <key>server</key><dict><key>domain</key><string>user.example</string></dict>
  <key>PayloadUUID</key><string>4A9D2C71-8E5F-4B03-A6D2-1C7E9F3B5D48</string>
</dict>`);

describe('XML property lists → policy input (pure)', () => {
  it('maps dict, string, integer, real, booleans, arrays and nested dicts', () => {
    expect(parsePlistXml(DEVICE)).toEqual({
      lockTimeoutMaxMinutes: 2,
      exportAllowed: false,
      screenshotsAllowed: true,
      adminKeyFingerprints: ['A'.repeat(40), 'B'.repeat(40)],
      adminAccount: 'it-admin@clinic.example',
      server: { domain: 'clinic.example', port: 5223, tls: 'direct' },
    });
    expect(
      parsePlistXml(
        plist('<array><real>1.5</real><integer>-3</integer><string/><string>a &amp; b&#10;c</string><dict/></array>'),
      ),
    ).toEqual([1.5, -3, '', 'a & b\nc', {}]);
  });

  it('refuses date and data values, naming the key', () => {
    expect(() =>
      parsePlistXml(plist('<dict><key>retentionDays</key><date>2026-01-01T00:00:00Z</date></dict>')),
    ).toThrow('"retentionDays" holds a plist date, which no policy setting takes');
    expect(() =>
      parsePlistXml(plist('<dict><key>server</key><dict><key>host</key><data>AAEC</data></dict></dict>')),
    ).toThrow('"server.host" holds a plist data, which no policy setting takes');
    expect(() => parsePlistXml(plist('<dict><key>x</key><integer>ten</integer></dict>'))).toThrow(
      /"x" is not a number/,
    );
  });

  it('refuses what is not a plain plist: another DOCTYPE, entities, another root, broken pairs', () => {
    const evil = '<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY e "x">]><plist><string>&e;</string></plist>';
    expect(() => parsePlistXml(evil)).toThrow(/not a readable XML property list/);
    expect(() => parsePlistXml('<dict/>')).toThrow(/root element is <dict>/);
    expect(() => parsePlistXml(plist('<dict><key>a</key></dict>'))).toThrow(/not <key>\/value pairs/);
    expect(() => parsePlistXml(plist('<string>a</string><string>b</string>'))).toThrow(/exactly one value/);
    expect(() => parsePlistXml(plist('<uid>1</uid>'))).toThrow(/unknown plist element <uid>/);
  });

  it('keeps a __proto__ key as data', () => {
    const v = parsePlistXml(plist('<dict><key>__proto__</key><dict><key>polluted</key><true/></dict></dict>'));
    expect(Object.keys(v as object)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('converts a binary plist with plutil on stdin, and reports a plutil failure', () => {
    const binary = Buffer.concat([Buffer.from('bplist00'), Buffer.from([0xd1, 0x01, 0x02])]);
    const calls: { args: readonly string[]; input: Buffer }[] = [];
    const plutil: MacCommand = (args, input) => {
      calls.push({ args, input });
      return { code: 0, stdout: USER };
    };
    expect(managedPreferences(binary, plutil)).toEqual({
      lockTimeoutMaxMinutes: 4,
      retentionDays: 30,
      server: { domain: 'user.example' },
    });
    expect(calls).toEqual([{ args: PLUTIL_ARGS, input: binary }]);
    expect(PLUTIL_ARGS).toEqual(['-convert', 'xml1', '-o', '-', '-']); // stdin: the checked bytes, not the path again
    expect(() => managedPreferences(binary, () => ({ code: 1, stdout: '' }))).toThrow(
      /plutil cannot convert it \(exit 1\)/,
    );
    expect(() => managedPreferences(Buffer.from(plist('<array/>')), plutil)).toThrow(/top level is not a dictionary/);
  });
});

describe('macOS: device profile, then user profile, then the file', () => {
  const base = mkdtempSync(join(tmpdir(), 'policy-mac-'));
  chmodSync(base, 0o755);
  afterAll(() => rmSync(base, { recursive: true, force: true }));
  // The temp files belong to whoever runs the test: trust them as the OS trusts root.
  const posixTrust = { owners: new Set([0, process.getuid?.() ?? 0]), groups: new Set([0, process.getgid?.() ?? 0]) };
  const noPlutil: MacCommand = () => {
    throw new Error('XML plists need no plutil');
  };
  let n = 0;
  /** A Managed Preferences folder with the given device and user plists, and a policy file. */
  const setup = (files: { device?: string; user?: string; json?: object }) => {
    const root = join(base, `m${++n}`);
    const prefs = join(root, 'Managed Preferences');
    mkdirSync(join(prefs, 'pat'), { recursive: true, mode: 0o755 });
    if (files.device) writeFileSync(join(prefs, 'org.clinicmessenger.desktop.plist'), files.device, { mode: 0o644 });
    if (files.user) writeFileSync(join(prefs, 'pat', 'org.clinicmessenger.desktop.plist'), files.user, { mode: 0o644 });
    const json = join(root, 'policy.json');
    if (files.json) writeFileSync(json, JSON.stringify(files.json), { mode: 0o644 });
    const opts = {
      platform: 'darwin' as const,
      posixTrust,
      mac: { plutil: noPlutil, managedPreferencesDir: prefs, userName: 'pat' },
    };
    return { prefs, json, load: () => loadPolicy(json, undefined, opts) };
  };

  it('takes each top-level key from the strongest source; a nested object comes whole from one source', () => {
    const { prefs, json, load } = setup({
      device: DEVICE,
      user: USER,
      json: { retentionDays: 7, maxFailedUnlocks: 3 },
    });
    const r = load();
    expect(r.error).toBeNull();
    const device = join(prefs, 'org.clinicmessenger.desktop.plist');
    const user = join(prefs, 'pat', 'org.clinicmessenger.desktop.plist');
    expect(r.source).toBe(`${device} + ${user} + ${json}`);
    expect(r.policy.lockTimeoutMaxMinutes).toBe(2); // device beats user's 4
    expect(r.policy.retentionDays).toBe(30); // user beats the file's 7
    expect(r.policy.maxFailedUnlocks).toBe(3);
    expect(r.policy.server).toEqual({ domain: 'clinic.example', port: 5223, tls: 'direct' });
    expect(r.policy.adminKeyFingerprints).toEqual(['A'.repeat(40), 'B'.repeat(40)]);
    expect([...r.managedKeys].sort()).toEqual([
      'adminAccount',
      'adminKeyFingerprints',
      'exportAllowed',
      'lockTimeoutMaxMinutes',
      'maxFailedUnlocks',
      'retentionDays',
      'screenshotsAllowed',
      'server',
    ]);
  });

  it('applies a user profile alone, and nothing when no profile or file is deployed', () => {
    const only = setup({ user: USER }).load();
    expect(only.error).toBeNull();
    expect(only.policy).toMatchObject({
      lockTimeoutMaxMinutes: 4,
      retentionDays: 30,
      server: { domain: 'user.example' },
    });
    expect(setup({}).load()).toEqual({ policy: defaultPolicy, source: null, error: null, managedKeys: [] });
  });

  it('hands plutil the bytes of the checked binary plist the MDM client wrote', () => {
    const { prefs, json } = setup({});
    const binary = Buffer.concat([Buffer.from('bplist00'), Buffer.from([0xd1, 0x01, 0x02, 0x5f])]);
    writeFileSync(join(prefs, 'org.clinicmessenger.desktop.plist'), binary, { mode: 0o644 });
    const seen: Buffer[] = [];
    const plutil: MacCommand = (_args, input) => {
      seen.push(input);
      return { code: 0, stdout: DEVICE };
    };
    const r = loadPolicy(json, undefined, {
      platform: 'darwin',
      posixTrust,
      mac: { plutil, managedPreferencesDir: prefs, userName: 'pat' },
    });
    expect(r.error).toBeNull();
    expect(r.policy.lockTimeoutMaxMinutes).toBe(2);
    expect(seen).toEqual([binary]);
  });

  it('refuses a managed preference file a non-administrator can change, on screen, with the strict defaults', () => {
    const { prefs, load } = setup({ device: DEVICE, user: USER });
    const user = join(prefs, 'pat', 'org.clinicmessenger.desktop.plist');
    chmodSync(user, 0o666);
    const r = load();
    expect(r.error).toMatch(
      /^The clinic policy file .*pat\/org\.clinicmessenger\.desktop\.plist is refused because a user who is not an administrator could change it: .* can be changed by every user/,
    );
    expect(r.policy).toEqual(defaultPolicy);
    expect(r.managedKeys).toEqual([]);
  });

  it('reports a plist with a date or invalid values, naming the key', () => {
    const dated = setup({
      device: plist('<dict><key>retentionDays</key><date>2026-01-01T00:00:00Z</date></dict>'),
    }).load();
    expect(dated.error).toMatch(
      /org\.clinicmessenger\.desktop\.plist cannot be read: "retentionDays" holds a plist date/,
    );
    expect(dated.policy).toEqual(defaultPolicy);
    const bad = setup({
      device: plist('<dict><key>notificationPreview</key><string>everything</string></dict>'),
    }).load();
    expect(bad.error).toMatch(/org\.clinicmessenger\.desktop\.plist is invalid: notificationPreview/);
  });

  it("never reads the user's own defaults (~/Library/Preferences, defaults write)", () => {
    // A value the user wrote for themselves, in their home folder: loosens everything if it were read.
    const home = join(base, 'home');
    mkdirSync(join(home, 'Library', 'Preferences'), { recursive: true });
    writeFileSync(
      join(home, 'Library', 'Preferences', 'org.clinicmessenger.desktop.plist'),
      plist('<dict><key>exportAllowed</key><true/><key>lockTimeoutMaxMinutes</key><integer>60</integer></dict>'),
    );
    const saved = process.env.HOME;
    process.env.HOME = home;
    try {
      const r = setup({}).load();
      expect(r).toEqual({ policy: defaultPolicy, source: null, error: null, managedKeys: [] });
      const locations = managedPolicyLocations('darwin', { mac: { userName: 'pat' } });
      for (const l of locations) {
        const path = l.kind === 'file' ? l.path : l.key;
        expect(path.startsWith('/Library/'), path).toBe(true);
        expect(path.startsWith(homedir()), path).toBe(false);
        expect(path).not.toMatch(/~|Library\/Preferences|\/Users\//);
      }
    } finally {
      if (saved === undefined) delete process.env.HOME;
      else process.env.HOME = saved;
    }
  });

  it('refuses a user name that is not a folder name', () => {
    const { json } = setup({});
    const r = loadPolicy(json, undefined, { platform: 'darwin', posixTrust, mac: { userName: '../..' } });
    expect(r.error).toMatch(/user name "\.\.\/\.\." is not a macOS short name/);
    expect(r.policy).toEqual(defaultPolicy);
  });
});
