// Several addresses for one server (issue 19 item 3): what ServerConfig.alternates accepts, the
// order the connection dials them in, and the policy's addresses applied to a profile's account.
import { describe, expect, it } from 'vitest';
import { serverConfig } from '../../common/contract/domain';
import { policySchema } from '../../main/policy/schema';
import { withPolicyAddresses } from '../../main/session/open-services';
import { serviceUrls } from '../../main/xmpp/transport/client-factory';

describe('ServerConfig.alternates', () => {
  it.each([
    'node2.clinic.example',
    'node2.clinic.example:5222',
    '10.0.0.12',
    '10.0.0.12:65535',
    '[2001:db8::12]',
    '[2001:db8::12]:5223',
  ])('accepts %s', (a) => {
    expect(serverConfig.safeParse({ alternates: [a] }).success).toBe(true);
  });

  it.each([
    '',
    'node2.clinic.example:0',
    'node2.clinic.example:65536',
    'xmpp://node2.clinic.example',
    'node2 clinic',
    '-node2.example',
    'node2.example:52x',
    '2001:db8::12',
  ])('refuses %j', (a) => {
    expect(serverConfig.safeParse({ alternates: [a] }).success).toBe(false);
  });

  it('takes at most 8', () => {
    const nine = Array.from({ length: 9 }, (_, i) => `node${i}.clinic.example`);
    expect(serverConfig.safeParse({ alternates: nine.slice(0, 8) }).success).toBe(true);
    expect(serverConfig.safeParse({ alternates: nine }).success).toBe(false);
  });
});

describe('serviceUrls', () => {
  it('dials the host first, then each alternate in order, with the port of the TLS mode', () => {
    expect(
      serviceUrls(
        { host: 'xmpp.clinic.example', tls: 'starttls', alternates: ['node2.clinic.example', '10.0.0.3:5300'] },
        'clinic.example',
      ),
    ).toEqual(['xmpp://xmpp.clinic.example:5222', 'xmpp://node2.clinic.example:5222', 'xmpp://10.0.0.3:5300']);
    expect(serviceUrls({ tls: 'direct', alternates: ['[2001:db8::2]'] }, 'clinic.example')).toEqual([
      'xmpps://clinic.example:5223',
      'xmpps://[2001:db8::2]:5223',
    ]);
  });

  it('dials each address once', () => {
    expect(
      serviceUrls({ host: 'a.example', port: 5222, tls: 'starttls', alternates: ['a.example:5222', 'b.example'] }, 'x'),
    ).toEqual(['xmpp://a.example:5222', 'xmpp://b.example:5222']);
  });
});

describe('withPolicyAddresses', () => {
  const account = {
    jid: 'alice@clinic.example',
    password: 'pw',
    server: { host: 'a.clinic.example', tls: 'starttls' as const },
  };
  const policy = (alternates?: string[], domain = 'clinic.example') => ({
    server: { domain, tls: 'starttls' as const, ...(alternates ? { alternates } : {}) },
  });

  it("adds the policy's addresses for the account's domain, without changing the rest", () => {
    expect(withPolicyAddresses(account, policy(['b.clinic.example:5222']))).toEqual({
      ...account,
      server: { ...account.server, alternates: ['b.clinic.example:5222'] },
    });
    expect(withPolicyAddresses(account, policy(['b.clinic.example'], 'CLINIC.example')).server.alternates).toEqual([
      'b.clinic.example',
    ]);
  });

  it('leaves the account as it is for another domain, no pre-set server, or no addresses', () => {
    expect(withPolicyAddresses(account, policy(['b.other.example'], 'other.example'))).toBe(account);
    expect(withPolicyAddresses(account, { server: null })).toBe(account);
    expect(withPolicyAddresses(account, policy())).toBe(account);
  });

  it('the policy file takes them under server.alternates, checked like the rest', () => {
    const ok = policySchema.safeParse({
      server: { domain: 'clinic.example', alternates: ['node2.clinic.example:5222'] },
    });
    expect(ok.success && ok.data.server?.alternates).toEqual(['node2.clinic.example:5222']);
    const bad = policySchema.safeParse({ server: { domain: 'clinic.example', alternates: ['x y'] } });
    expect(bad.success).toBe(false);
  });
});
