/**
 * gateway.json: the patient gateway's configuration (issue 17 item 1), validated like the app's
 * policy (main/policy/load.ts): every problem is reported as `path: why`, and a secret is never
 * written in the file itself but named there (an environment variable or a file IT protects), so
 * the config can be shown, diffed and backed up without leaking anything.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

/** A secret: `{ "env": "NAME" }` or `{ "file": "/etc/clinic-gateway/secret" }` (first line, trimmed). */
const secretRef = z.union(
  [
    z.strictObject({ env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name (A-Z, 0-9, _)') }),
    z.strictObject({ file: z.string().min(1) }),
  ],
  { error: 'a secret is named, never written here: { "env": "NAME" } or { "file": "/path" }' },
);

const hostname = z
  .string()
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/,
    'a lower-case DNS name',
  );
const port = z.number().int().min(1).max(65535);
const e164 = z.string().regex(/^\+[1-9][0-9]{6,14}$/, 'a phone number in E.164 form, e.g. +15551230000');
const clockTime = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'a time of day as HH:MM (24 h)');
const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'an IANA time zone, e.g. America/Chicago');

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
const publicUrl = z.url({ error: 'an absolute URL' }).refine((s) => {
  const u = new URL(s);
  return (u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.has(u.hostname))) && !u.search && !u.hash;
}, 'an https:// URL without query or fragment (http:// only on loopback, for tests and the demo)');

const twilio = z.strictObject({
  provider: z.literal('twilio'),
  accountSid: z.string().regex(/^AC[0-9a-f]{32}$/, "Twilio's Account SID: AC and 32 hex digits"),
  authToken: secretRef,
  from: e164,
  /** Where Twilio calls the webhooks, as Twilio sees it (signatures cover this URL); default http.publicBaseUrl. */
  webhookBaseUrl: publicUrl.optional(),
  /** Twilio's REST API root; only tests point it elsewhere. */
  apiBaseUrl: publicUrl.default('https://api.twilio.com'),
});

const sink = z.strictObject({
  provider: z.literal('sink'),
  /** Folder the sink writes each SMS to, one JSON file per message (tests and the demo read it). */
  dir: z.string().min(1),
});

export const gatewayConfigSchema = z.strictObject({
  xmpp: z.strictObject({
    /** The component's domain, e.g. patients.clinic.example: patients are <id>@ this domain. */
    domain: hostname,
    /** The staff accounts' domain (clinic.example): only its JIDs may send through the gateway. */
    staffDomain: hostname,
    /** Prosody's component_secret for this component. */
    secret: secretRef,
    host: z.string().min(1).default('127.0.0.1'),
    port: port.default(5347),
  }),
  http: z
    .strictObject({
      listen: z.strictObject({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535),
      }),
      publicBaseUrl: publicUrl,
      tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
      /** true: plain HTTP on `listen`, a reverse proxy in front terminates TLS. */
      behindProxy: z.boolean().default(false),
    })
    .refine((h) => Boolean(h.tls) !== h.behindProxy, {
      error: 'set exactly one of "tls" (cert + key files) and "behindProxy": true',
      path: ['tls'],
    }),
  storage: z.strictObject({ sqlitePath: z.string().min(1) }),
  sms: z.discriminatedUnion('provider', [twilio, sink], { error: 'provider: "twilio" or "sink"' }),
  messages: z
    .strictObject({
      /** Days until a link expires and its ciphertext is deleted (a send may ask for fewer). */
      expiryDays: z.number().int().min(1).max(90).default(14),
    })
    .default({ expiryDays: 14 }),
  dobCheck: z
    .strictObject({
      maxTries: z.number().int().min(1).max(10).default(3),
      lockoutMinutes: z
        .number()
        .int()
        .min(1)
        .max(24 * 60)
        .default(60),
    })
    .default({ maxTries: 3, lockoutMinutes: 60 }),
  /** The identity checks a sender may ask for per message (`check` on <send/>; without it: dob). */
  identity: z
    .strictObject({
      checks: z
        .array(z.enum(['dob', 'code']))
        .min(1)
        .refine((a) => new Set(a).size === a.length, 'each check once'),
    })
    .default({ checks: ['dob', 'code'] }),
  /** One-time SMS codes (a message whose check is `code`). */
  codeCheck: z
    .strictObject({
      /** A code is valid this long after it was texted. */
      ttlMinutes: z.number().int().min(1).max(60).default(10),
      /** Wrong codes allowed (per link, whatever code was asked for), then the lockout. */
      maxTries: z.number().int().min(1).max(10).default(3),
      lockoutMinutes: z
        .number()
        .int()
        .min(1)
        .max(24 * 60)
        .default(60),
      /** A new code may be asked for this long after the last one. */
      resendSeconds: z.number().int().min(10).max(3600).default(60),
      /** Codes texted per link, ever. */
      maxSends: z.number().int().min(1).max(20).default(5),
    })
    .default({ ttlMinutes: 10, maxTries: 3, lockoutMinutes: 60, resendSeconds: 60, maxSends: 5 }),
  /** Patient replies (a send that carries <reply-keys/>). */
  replies: z
    .strictObject({
      /** The largest encrypted reply accepted (OpenPGP ciphertext, bytes). */
      maxBytes: z
        .number()
        .int()
        .min(1024)
        .max(256 * 1024)
        .default(32 * 1024),
      /** Replies per link, ever (0: no replies at all). */
      maxPerLink: z.number().int().min(0).max(20).default(3),
      /** After an identity check the page may send one reply within this many minutes. */
      windowMinutes: z
        .number()
        .int()
        .min(1)
        .max(24 * 60)
        .default(30),
    })
    .default({ maxBytes: 32 * 1024, maxPerLink: 3, windowMinutes: 30 }),
  /**
   * Plain SMS (issue 17 item 4): a text sent as it is, no link, when a patient documented that they
   * want it (their right of access). Off by default: then a <send mode='plain-sms'/> is refused.
   */
  plainSms: z
    .strictObject({
      allowed: z.boolean().default(false),
      /** The longest plain text, in characters (a long SMS is split by the phone network anyway). */
      maxChars: z.number().int().min(1).max(1600).default(918),
    })
    .default({ allowed: false, maxChars: 918 }),
  limits: z
    .strictObject({
      /** Texts one phone number may receive per rolling 24 h (0 = no cap). */
      perPhonePerDay: z.number().int().min(0).max(1000).default(5),
      /** Quiet hours in the clinic's time zone: sends inside them are refused with `quiet-hours`. */
      quietHours: z.strictObject({ start: clockTime, end: clockTime, timeZone }).nullable().default(null),
    })
    .default({ perPhonePerDay: 5, quietHours: null }),
});

export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
type Parsed = z.output<typeof gatewayConfigSchema>;

/** The parsed config with its secrets read (never logged) and relative paths made absolute. */
export type GatewayConfig = Omit<Parsed, 'xmpp' | 'sms'> & {
  xmpp: Omit<Parsed['xmpp'], 'secret'> & { secret: string };
  sms:
    | (Omit<z.output<typeof twilio>, 'authToken'> & { authToken: string; webhookBaseUrl: string })
    | z.output<typeof sink>;
};

export class GatewayConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: ${problems.join('; ')}`);
    this.name = 'GatewayConfigError';
  }
}

export interface ConfigEnv {
  env: Record<string, string | undefined>;
  readFile: (path: string) => string;
}

const systemEnv: ConfigEnv = { env: process.env, readFile: (p) => readFileSync(p, 'utf8') };

/** Reads, parses and validates gateway.json; throws GatewayConfigError listing every problem. */
export function loadGatewayConfig(path: string, io: ConfigEnv = systemEnv): GatewayConfig {
  let text: string;
  try {
    text = io.readFile(path);
  } catch (err) {
    throw new GatewayConfigError(path, [`cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new GatewayConfigError(path, [`not valid JSON (${(err as Error).message})`]);
  }
  return parseGatewayConfig(json, dirname(resolve(path)), io, path);
}

/** Validates an already-parsed config; relative paths are taken from `baseDir` (the file's folder). */
export function parseGatewayConfig(
  json: unknown,
  baseDir: string,
  io: ConfigEnv,
  source = 'gateway config',
): GatewayConfig {
  const parsed = gatewayConfigSchema.safeParse(json);
  if (!parsed.success) throw new GatewayConfigError(source, describe(parsed.error.issues));
  const c = parsed.data;
  const problems: string[] = [];
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const secret = (where: string, ref: z.output<typeof secretRef>): string => {
    const value = readSecret(ref, io, baseDir);
    if (typeof value === 'string') return value;
    problems.push(`${where}: ${value.problem}`);
    return '';
  };
  const xmppSecret = secret('xmpp.secret', c.xmpp.secret);
  const sms: GatewayConfig['sms'] =
    c.sms.provider === 'twilio'
      ? {
          ...c.sms,
          authToken: secret('sms.authToken', c.sms.authToken),
          webhookBaseUrl: c.sms.webhookBaseUrl ?? c.http.publicBaseUrl,
        }
      : { ...c.sms, dir: abs(c.sms.dir) };
  if (!c.xmpp.domain.endsWith(`.${c.xmpp.staffDomain}`))
    problems.push(
      `xmpp.domain: must be a subdomain of xmpp.staffDomain (${c.xmpp.staffDomain}), as Prosody's Component is`,
    );
  if (problems.length) throw new GatewayConfigError(source, problems);
  return {
    ...c,
    xmpp: { ...c.xmpp, secret: xmppSecret },
    http: { ...c.http, tls: c.http.tls && { cert: abs(c.http.tls.cert), key: abs(c.http.tls.key) } },
    storage: { sqlitePath: abs(c.storage.sqlitePath) },
    sms,
  };
}

const MIN_SECRET = 16;

function readSecret(ref: z.output<typeof secretRef>, io: ConfigEnv, baseDir: string): string | { problem: string } {
  let value: string | undefined;
  if ('env' in ref) {
    value = io.env[ref.env];
    if (value === undefined || value === '') return { problem: `the environment variable ${ref.env} is not set` };
  } else {
    const file = isAbsolute(ref.file) ? ref.file : resolve(baseDir, ref.file);
    try {
      value = io.readFile(file).split(/\r?\n/)[0] ?? '';
    } catch (err) {
      return { problem: `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
    }
  }
  value = value.trim();
  // The value itself is never part of a message: only its length.
  if (value.length < MIN_SECRET) return { problem: `too short (${value.length} characters; at least ${MIN_SECRET})` };
  return value;
}

function describe(issues: readonly { path: PropertyKey[]; message: string }[]): string[] {
  return issues.slice(0, 10).map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
}
