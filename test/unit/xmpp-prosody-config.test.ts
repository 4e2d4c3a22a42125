import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { clinicModulesPath, readProductionConfig, renderGroupsFile, renderTestConfig } from '../support/prosody-config';
import { roleFromGroups } from '../../main/xmpp/roles';

const site = {
  domain: 'clinic.test',
  interfaces: ['127.0.0.1'],
  c2sPort: 15222,
  directTlsPort: 15223,
  httpPort: 15280,
  httpsPort: 15281,
  dataPath: '/tmp/x/data',
  certificates: '/tmp/x/certs',
  groupsFile: '/tmp/x/groups.txt',
  pidfile: '/tmp/x/p.pid',
  logFile: '/tmp/x/p.log',
  componentPort: 15347,
  componentSecret: 'test-component-secret',
};

describe('deploy/prosody/prosody.cfg.lua and its test variant', () => {
  const prod = readProductionConfig();

  it('production keeps the hardening: TLS required, s2s off, registration off, default SCRAM iterations', () => {
    expect(prod).toMatch(/^c2s_require_encryption = true/m);
    expect(prod).toMatch(/^modules_disabled = \{ "s2s";/m);
    expect(prod).toMatch(/^allow_registration = false/m);
    expect(prod).not.toMatch(/^default_iteration_count/m);
    expect(prod).not.toMatch(/^run_as_root/m);
    for (const mod of ['"groups"', '"pep"', '"carbons"', '"smacks"', '"mam"', '"offline"', '"ping"'])
      expect(prod).toContain(mod);
    expect(prod).toMatch(/Component "upload\.clinic\.example" "http_file_share"/);
    // Attachments (issue 16): per-file, per-account and whole-store limits.
    for (const limit of ['size_limit', 'daily_quota', 'global_quota'])
      expect(prod).toMatch(new RegExp(`^\\s+http_file_share_${limit} = \\d`, 'm'));
    // The patient gateway (issue 17): a component on loopback whose secret never sits in the file.
    expect(prod).toMatch(/^component_interfaces = \{ "127\.0\.0\.1" \}/m);
    expect(prod).toMatch(/^Component "patients\.clinic\.example"\ncomponent_secret = ENV_CLINIC_GATEWAY_SECRET /m);
  });

  it('production keeps the measured network settings: no Nagle, 64 KiB reads (README "Performance notes")', () => {
    expect(prod).toMatch(/^network_settings = \{ nagle = false \}$/m);
    expect(prod).toMatch(/^network_default_read_size = 65536$/m);
  });

  it('the test variant changes only site lines, the domain and the test-only switches', () => {
    const test = renderTestConfig(prod, site, { runAsRoot: true, iterationCount: 128 });
    const changed = (a: string, b: string) => {
      const al = a.split('\n');
      const bl = new Set(b.split('\n'));
      return al.filter((l) => !bl.has(l));
    };
    const added = changed(test, prod);
    const removed = changed(prod, test);
    expect(removed.every((l) => l.includes('-- site:') || l.includes('clinic.example'))).toBe(true);
    for (const l of added)
      expect(l).toMatch(
        /test variant|clinic\.test|run_as_root = true|default_iteration_count = 128|Test-only switches|^$/,
      );
    expect(test).toMatch(/^c2s_require_encryption = true/m);
    // The patient gateway's component (issue 17): its port and secret are the test's own.
    expect(test).toMatch(/^component_ports = \{ 15347 \} -- test variant$/m);
    expect(test).toMatch(
      /^Component "patients\.clinic\.test"\ncomponent_secret = "test-component-secret" -- test variant$/m,
    );
    expect(test.indexOf('run_as_root')).toBeLessThan(test.indexOf('VirtualHost'));
  });

  it("the benchmarks' upload limit changes the upload component's limit and quota lines, nothing else", () => {
    const plain = renderTestConfig(prod, site, { runAsRoot: true });
    const big = renderTestConfig(prod, site, { runAsRoot: true, fileShareLimitBytes: 600e6 });
    const differ = big.split('\n').filter((l, i) => l !== plain.split('\n')[i]);
    expect(differ).toEqual([
      '\thttp_file_share_size_limit = 600000000 -- test variant',
      '\thttp_file_share_daily_quota = 600000000 -- test variant',
    ]);
    expect(() =>
      renderTestConfig(prod.replace(/^\s*http_file_share_daily_quota = .*$/m, ''), site, {
        runAsRoot: true,
        fileShareLimitBytes: 1,
      }),
    ).toThrow(/http_file_share_daily_quota/);
  });

  it('care-team rooms (issue 18): a MUC component whose room policy users cannot weaken', () => {
    const muc = prod.slice(prod.indexOf('Component "rooms.clinic.example" "muc"'));
    expect(muc).toMatch(/^\tmodules_enabled = \{ "muc_mam"; "muc_clinic_policy" \}/m);
    for (const line of [
      'restrict_room_creation = true',
      'muc_room_default_members_only = true',
      'muc_room_default_public_jids = true',
      'muc_room_default_persistent = true',
      'muc_room_default_public = false',
      'muc_room_default_allow_member_invites = false',
      'muc_room_allow_public = false',
      'muc_room_allow_persistent = false',
      'muc_log_all_rooms = true',
    ])
      expect(muc).toMatch(new RegExp(`^\\t${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( |$)`, 'm'));
    expect(existsSync(join(clinicModulesPath, 'mod_muc_clinic_policy.lua'))).toBe(true);
    // The test variant loads the module from this clone and names its own admins.
    const test = renderTestConfig(prod, { ...site, admins: ['it@clinic.test'] }, { runAsRoot: true });
    expect(test).toContain(`plugin_paths = { ${JSON.stringify(clinicModulesPath)} } -- test variant`);
    expect(test).toMatch(/^admins = \{ "it@clinic\.test" \} -- test variant$/m);
    expect(test).toContain('Component "rooms.clinic.test" "muc"');
  });

  it('staff-created rooms (issue 18 §1): the launcher switches the rooms component to "local", production stays admins only', () => {
    const def = renderTestConfig(prod, site, { runAsRoot: true });
    expect(def).toMatch(/^\trestrict_room_creation = true /m);
    const local = renderTestConfig(prod, site, { runAsRoot: true, roomCreation: 'local' });
    expect(local).toMatch(/^\trestrict_room_creation = "local" -- test variant$/m);
    expect(local.match(/restrict_room_creation = /g)).toHaveLength(def.match(/restrict_room_creation = /g)!.length);
  });

  it('refuses a production file whose site line went missing', () => {
    expect(() => renderTestConfig(prod.replace(/^c2s_ports = .*$/m, ''), site, { runAsRoot: true })).toThrow(
      /c2s_ports/,
    );
  });

  it('writes role groups as public shared-roster groups the client maps back to roles', () => {
    const file = renderGroupsFile([
      { jid: 'a@clinic.test', name: 'Alice A', role: 'physician', group: 'Ward 1' },
      { jid: 'b@clinic.test', name: 'Bob B' },
    ]);
    expect(file).toContain('[+Physicians]\na@clinic.test=Alice A');
    expect(file).toContain('[Ward 1]\na@clinic.test=Alice A');
    expect(file).toContain('[+Clinic]\nb@clinic.test=Bob B');
    expect(roleFromGroups(['Ward 1', 'Physicians'])).toBe('physician');
    expect(roleFromGroups(['Clinic'])).toBeNull();
    expect(() => renderGroupsFile([{ jid: 'c@clinic.test', name: 'Eve=admin' }])).toThrow();
  });
});
