import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { policyHandlers } from '../../main/ipc/handlers/policy';
import type { HandlerContext } from '../../main/ipc/handlers/context';
import { loadPolicy, managedPolicyLocations, managedPolicyPath } from '../../main/policy/load';
import { defaultPolicy } from '../../main/policy/schema';

const dir = mkdtempSync(join(tmpdir(), 'policy-'));
const write = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('managed policy', () => {
  it('uses the strict defaults when no policy file is deployed', () => {
    const r = loadPolicy(join(dir, 'absent.json'));
    expect(r).toEqual({ policy: defaultPolicy, source: null, error: null, managedKeys: [] });
    expect(r.policy.notificationPreview).toBe('none');
    expect(r.policy.exportAllowed).toBe(false);
    expect(r.policy.lockTimeoutMaxMinutes).toBeLessThanOrEqual(5);
  });

  it('applies a valid file and fills the rest with defaults', () => {
    const p = write('ok.json', JSON.stringify({ lockTimeoutMaxMinutes: 2, server: { domain: 'clinic.example' } }));
    const r = loadPolicy(p);
    expect(r.error).toBeNull();
    expect(r.source).toBe(p);
    expect(r.policy.lockTimeoutMaxMinutes).toBe(2);
    expect(r.policy.server).toEqual({ domain: 'clinic.example', tls: 'starttls' });
    expect(r.policy.maxFailedUnlocks).toBe(defaultPolicy.maxFailedUnlocks);
  });

  it('names the top-level keys the managed source set, none when it is refused or absent', () => {
    const p = write('managed.json', JSON.stringify({ lockTimeoutMaxMinutes: 2, server: { domain: 'clinic.example' } }));
    expect(loadPolicy(p).managedKeys).toEqual(['lockTimeoutMaxMinutes', 'server']);
    expect(loadPolicy(write('empty.json', '{}')).managedKeys).toEqual([]);
    expect(loadPolicy(write('invalid.json', JSON.stringify({ lockTimeoutMaxMinutes: -1 }))).managedKeys).toEqual([]);
    expect(loadPolicy(null, { exportAllowed: true, lockTimeoutMaxMinutes: 3 }).managedKeys).toEqual([
      'exportAllowed',
      'lockTimeoutMaxMinutes',
    ]);
    expect(loadPolicy(null).managedKeys).toEqual([]);
  });

  it('reports a file that is not JSON instead of crashing or ignoring it', () => {
    const r = loadPolicy(write('broken.json', '{ "lockTimeoutMaxMinutes": 2, '));
    expect(r.error).toMatch(/not valid JSON/);
    expect(r.policy).toEqual(defaultPolicy);
  });

  it('reports invalid values and unknown keys with the offending field', () => {
    const bad = loadPolicy(write('bad.json', JSON.stringify({ lockTimeoutMaxMinutes: -1 })));
    expect(bad.error).toMatch(/lockTimeoutMaxMinutes/);
    expect(bad.policy).toEqual(defaultPolicy);
    const unknown = loadPolicy(write('unknown.json', JSON.stringify({ lockTimeoutMaxMinute: 60 })));
    expect(unknown.error).toMatch(/invalid/);
    const http = loadPolicy(write('http.json', JSON.stringify({ updateFeedUrl: 'http://updates.clinic.example/' })));
    expect(http.error).toMatch(/updateFeedUrl/);
  });

  it('turns remote wipe on only with both the admin key fingerprints and the admin account; one alone is an error', () => {
    const fpr = 'A'.repeat(40);
    const both = loadPolicy(
      write('wipe-both.json', JSON.stringify({ adminKeyFingerprints: [fpr], adminAccount: 'it-admin@clinic.example' })),
    );
    expect(both.error).toBeNull();
    expect(both.policy).toMatchObject({ adminKeyFingerprints: [fpr], adminAccount: 'it-admin@clinic.example' });
    const keysOnly = loadPolicy(write('wipe-keys.json', JSON.stringify({ adminKeyFingerprints: [fpr] })));
    expect(keysOnly.error).toMatch(/adminAccount: remote wipe needs the admin account/);
    expect(keysOnly.policy).toEqual(defaultPolicy);
    const accountOnly = loadPolicy(
      write('wipe-account.json', JSON.stringify({ adminAccount: 'it-admin@clinic.example' })),
    );
    expect(accountOnly.error).toMatch(/adminKeyFingerprints: remote wipe needs the admin key fingerprint/);
    expect(loadPolicy(null, { adminKeyFingerprints: [fpr] }).error).toMatch(/adminAccount/);
    const notJid = loadPolicy(
      write('wipe-jid.json', JSON.stringify({ adminKeyFingerprints: [fpr], adminAccount: 'it-admin' })),
    );
    expect(notJid.error).toMatch(/adminAccount/);
  });

  it('turns audit anchoring on only with both the compliance account and its key fingerprint; one alone is an error', () => {
    const fpr = 'B'.repeat(40);
    const both = loadPolicy(
      write(
        'anchor-both.json',
        JSON.stringify({ complianceAccount: 'compliance@clinic.example', complianceKeyFingerprint: fpr }),
      ),
    );
    expect(both.error).toBeNull();
    expect(both.policy).toMatchObject({
      complianceAccount: 'compliance@clinic.example',
      complianceKeyFingerprint: fpr,
      auditAnchorHours: 24,
      auditAnchorOverdueHours: 72,
    });
    const keyOnly = loadPolicy(write('anchor-key.json', JSON.stringify({ complianceKeyFingerprint: fpr })));
    expect(keyOnly.error).toMatch(/complianceAccount: audit anchoring needs the compliance account/);
    expect(keyOnly.policy).toEqual(defaultPolicy);
    const accountOnly = loadPolicy(
      write('anchor-account.json', JSON.stringify({ complianceAccount: 'compliance@clinic.example' })),
    );
    expect(accountOnly.error).toMatch(/complianceKeyFingerprint: audit anchoring needs the compliance key fingerprint/);
    expect(loadPolicy(null, { complianceAccount: 'compliance@clinic.example' }).error).toMatch(
      /complianceKeyFingerprint/,
    );
    const zero = loadPolicy(write('anchor-zero.json', JSON.stringify({ auditAnchorHours: 0 })));
    expect(zero.error).toMatch(/auditAnchorHours/);
  });

  it('holds a pre-set server to the rules of one typed at first run (one ServerConfig schema)', () => {
    const port = loadPolicy(write('port.json', JSON.stringify({ server: { domain: 'clinic.example', port: 70000 } })));
    expect(port.error).toMatch(/server\.port/);
    expect(port.policy).toEqual(defaultPolicy);
    const host = loadPolicy(write('host.json', JSON.stringify({ server: { domain: 'clinic.example', host: '' } })));
    expect(host.error).toMatch(/server\.host/);
    const tls = loadPolicy(write('tls.json', JSON.stringify({ server: { domain: 'clinic.example', tls: 'none' } })));
    expect(tls.error).toMatch(/server\.tls/);
  });

  it('reports a policy path it cannot read', () => {
    const folder = join(dir, 'a-folder.json');
    mkdirSync(folder);
    const r = loadPolicy(folder);
    expect(r.error).toMatch(/cannot be read \(EISDIR\)/);
    expect(r.policy).toEqual(defaultPolicy);
  });

  it('knows where IT deploys the file on each OS', () => {
    expect(managedPolicyPath('linux')).toBe('/etc/clinic-messenger/policy.json');
    expect(managedPolicyPath('darwin')).toBe('/Library/Application Support/ClinicMessenger/policy.json');
    // Windows: the known folder from the registry, never %ProgramData% (policy-windows.test.ts).
  });

  it('lists every place a watcher must watch, strongest first, per OS', () => {
    expect(managedPolicyLocations('linux')).toEqual([{ kind: 'file', path: '/etc/clinic-messenger/policy.json' }]);
    expect(managedPolicyLocations('darwin', { mac: { userName: 'pat' } })).toEqual([
      { kind: 'file', path: '/Library/Managed Preferences/org.clinicmessenger.desktop.plist' },
      { kind: 'file', path: '/Library/Managed Preferences/pat/org.clinicmessenger.desktop.plist' },
      { kind: 'file', path: '/Library/Application Support/ClinicMessenger/policy.json' },
    ]);
    const windows = managedPolicyLocations('win32', {
      windows: (_tool, args) =>
        (args[1] ?? '').endsWith('ProfileList')
          ? { code: 0, stdout: 'HKEY_X\n    ProgramData    REG_EXPAND_SZ    %SystemDrive%\\ProgramData\n' }
          : { code: 0, stdout: 'HKEY_X\n    SystemRoot    REG_SZ    C:\\WINDOWS\n' },
    });
    expect(windows).toEqual([
      { kind: 'registry', key: 'HKLM\\Software\\Policies\\ClinicMessenger' },
      { kind: 'registry', key: 'HKCU\\Software\\Policies\\ClinicMessenger' },
      { kind: 'file', path: 'C:\\ProgramData\\ClinicMessenger\\policy.json' },
    ]);
    // The registry cannot say where ProgramData is: the keys are still watched (the loader shows the error).
    expect(managedPolicyLocations('win32', { windows: () => ({ code: 1, stdout: '' }) })).toEqual(windows.slice(0, 2));
  });

  it('tells the renderer the error, the text to acknowledge and the pre-set server', () => {
    const policy = loadPolicy(
      write('srv.json', JSON.stringify({ server: { domain: 'clinic.example', port: 5223, tls: 'direct' } })),
    );
    const h = policyHandlers({ policy } as unknown as HandlerContext);
    const out = h['policy:get'](null);
    expect(out).toMatchObject({ error: null, server: { domain: 'clinic.example', port: 5223, tls: 'direct' } });
    const broken = policyHandlers({ policy: loadPolicy(write('b2.json', 'nope')) } as unknown as HandlerContext);
    expect(broken['policy:get'](null)).toMatchObject({ error: expect.stringMatching(/not valid JSON/), server: null });
  });
});
