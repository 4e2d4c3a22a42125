/**
 * gateway.json validation (issue 17 item 1): a good file loads with defaults and resolved secrets;
 * each kind of mistake is named by its path, and a secret's value never appears in an error.
 */
import { describe, expect, it } from 'vitest';
import { GatewayConfigError, loadGatewayConfig, parseGatewayConfig, type ConfigEnv } from '../../gateway/config';

const SECRET = 'component-secret-0123456789';
const TOKEN = 'twilio-auth-token-abcdef0123456789';

function io(files: Record<string, string> = {}, env: Record<string, string> = {}): ConfigEnv {
  return {
    env: { GW_SECRET: SECRET, TWILIO_TOKEN: TOKEN, ...env },
    readFile: (p) => {
      const text = files[p];
      if (text === undefined) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
      return text;
    },
  };
}

const base = () => ({
  xmpp: { domain: 'patients.clinic.example', staffDomain: 'clinic.example', secret: { env: 'GW_SECRET' } },
  http: { listen: { port: 8443 }, publicBaseUrl: 'https://patients.clinic.example', behindProxy: true },
  storage: { sqlitePath: 'data/gateway.sqlite' },
  sms: { provider: 'sink', dir: 'sms-sink' },
});

function problems(json: unknown, env = io()): string[] {
  try {
    parseGatewayConfig(json, '/etc/clinic-gateway', env);
  } catch (err) {
    if (err instanceof GatewayConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected the config to be refused');
}

describe('gateway config', () => {
  it('loads a minimal sink config with defaults, absolute paths and the secret read from the environment', () => {
    const c = parseGatewayConfig(base(), '/etc/clinic-gateway', io());
    expect(c.xmpp).toMatchObject({ host: '127.0.0.1', port: 5347, secret: SECRET });
    expect(c.storage.sqlitePath).toBe('/etc/clinic-gateway/data/gateway.sqlite');
    expect(c.sms).toEqual({ provider: 'sink', dir: '/etc/clinic-gateway/sms-sink' });
    expect(c.messages.expiryDays).toBe(14);
    expect(c.dobCheck).toEqual({ maxTries: 3, lockoutMinutes: 60 });
    expect(c.limits).toEqual({ perPhonePerDay: 5, quietHours: null });
  });

  it('identity checks, one-time codes and replies: defaults, and each bad value named by its path', () => {
    const c = parseGatewayConfig(base(), '/etc/clinic-gateway', io());
    expect(c.identity).toEqual({ checks: ['dob', 'code'] });
    expect(c.codeCheck).toEqual({ ttlMinutes: 10, maxTries: 3, lockoutMinutes: 60, resendSeconds: 60, maxSends: 5 });
    expect(c.replies).toEqual({ maxBytes: 32768, maxPerLink: 3, windowMinutes: 30 });
    const bad = problems({
      ...base(),
      identity: { checks: ['dob', 'dob', 'sms'] },
      codeCheck: { ttlMinutes: 0, maxTries: 3, lockoutMinutes: 60, resendSeconds: 1, maxSends: 5 },
      replies: { maxBytes: 10 * 1024 * 1024, maxPerLink: 3, windowMinutes: 30 },
    });
    expect(bad.some((p) => p.startsWith('identity.checks.2:'))).toBe(true);
    expect(bad.some((p) => p.startsWith('codeCheck.ttlMinutes:'))).toBe(true);
    expect(bad.some((p) => p.startsWith('codeCheck.resendSeconds:'))).toBe(true);
    expect(bad.some((p) => p.startsWith('replies.maxBytes:'))).toBe(true);
    expect(problems({ ...base(), identity: { checks: ['code', 'code'] } })).toEqual([
      'identity.checks: each check once',
    ]);
    expect(problems({ ...base(), identity: { checks: [] } })[0]).toMatch(/^identity\.checks:/);
  });

  it('loads a Twilio config: the auth token from a file, webhooks default to the public URL', () => {
    const json = {
      ...base(),
      sms: {
        provider: 'twilio',
        accountSid: `AC${'0123456789abcdef'.repeat(2)}`,
        authToken: { file: 'twilio-token' },
        from: '+15551230000',
      },
      limits: { perPhonePerDay: 2, quietHours: { start: '21:00', end: '08:00', timeZone: 'America/Chicago' } },
    };
    const c = parseGatewayConfig(json, '/etc/cg', io({ '/etc/cg/twilio-token': `${TOKEN}\n` }));
    expect(c.sms).toMatchObject({
      provider: 'twilio',
      authToken: TOKEN,
      webhookBaseUrl: 'https://patients.clinic.example',
      apiBaseUrl: 'https://api.twilio.com',
    });
    expect(c.limits.quietHours).toEqual({ start: '21:00', end: '08:00', timeZone: 'America/Chicago' });
  });

  it('names each bad field by its path', () => {
    const bad = {
      ...base(),
      xmpp: { ...base().xmpp, port: 70000 },
      http: { ...base().http, publicBaseUrl: 'http://patients.clinic.example' },
      messages: { expiryDays: 0 },
      limits: { quietHours: { start: '25:00', end: '08:00', timeZone: 'Mars/Olympus' } },
    };
    const p = problems(bad).join('\n');
    expect(p).toMatch(/^xmpp\.port: /m);
    expect(p).toMatch(/^http\.publicBaseUrl: an https:\/\/ URL/m);
    expect(p).toMatch(/^messages\.expiryDays: /m);
    expect(p).toMatch(/^limits\.quietHours\.start: a time of day/m);
    expect(p).toMatch(/^limits\.quietHours\.timeZone: an IANA time zone/m);
  });

  it('refuses unknown keys, a literal secret, and both or neither of tls and behindProxy', () => {
    expect(problems({ ...base(), extra: 1 }).join()).toMatch(/extra/);
    expect(problems({ ...base(), xmpp: { ...base().xmpp, secret: SECRET } }).join()).toMatch(
      /^xmpp\.secret: a secret is named, never written here/,
    );
    const both = { ...base(), http: { ...base().http, tls: { cert: 'c.pem', key: 'k.pem' } } };
    expect(problems(both).join()).toMatch(/^http\.tls: set exactly one of "tls"/);
    const neither = { ...base(), http: { ...base().http, behindProxy: false } };
    expect(problems(neither).join()).toMatch(/^http\.tls: set exactly one/);
  });

  it('refuses an unknown SMS provider and a malformed Twilio account', () => {
    expect(problems({ ...base(), sms: { provider: 'carrier-pigeon' } }).join()).toMatch(/^sms/);
    const twilio = { provider: 'twilio', accountSid: 'AC123', authToken: { env: 'TWILIO_TOKEN' }, from: '555-1234' };
    const p = problems({ ...base(), sms: twilio }).join('\n');
    expect(p).toMatch(/^sms\.accountSid: Twilio's Account SID/m);
    expect(p).toMatch(/^sms\.from: a phone number in E\.164 form/m);
  });

  it('says which secret is missing or too short, never its value', () => {
    const env = io({}, { GW_SECRET: 'short' });
    const p = problems(base(), env);
    expect(p).toEqual(['xmpp.secret: too short (5 characters; at least 16)']);
    expect(problems(base(), { env: {}, readFile: () => '' })).toEqual([
      'xmpp.secret: the environment variable GW_SECRET is not set',
    ]);
    const fromFile = { ...base(), xmpp: { ...base().xmpp, secret: { file: '/missing' } } };
    expect(problems(fromFile)).toEqual(['xmpp.secret: cannot read /missing (ENOENT)']);
  });

  it('requires the component domain under the staff domain', () => {
    const json = { ...base(), xmpp: { ...base().xmpp, domain: 'patients.other.example' } };
    expect(problems(json)).toEqual([
      "xmpp.domain: must be a subdomain of xmpp.staffDomain (clinic.example), as Prosody's Component is",
    ]);
  });

  it('reports an unreadable file and broken JSON with the file name', () => {
    expect(() => loadGatewayConfig('/etc/cg/gateway.json', io())).toThrow(
      '/etc/cg/gateway.json: cannot read the file (ENOENT)',
    );
    expect(() => loadGatewayConfig('/etc/cg/gateway.json', io({ '/etc/cg/gateway.json': '{ nope' }))).toThrow(
      /gateway\.json: not valid JSON/,
    );
  });
});
