/**
 * Logging for main-process services. Fields are metadata only: ids, codes, counts.
 * Never pass message text, passphrases or keys; `redact` drops known-sensitive field names
 * as a second line of defence.
 */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const SENSITIVE = /body|text|passphrase|password|secret|key|plaintext|token/i;

/**
 * What a log line may say about a caught error: its class name only. The message can carry
 * message text, a JID or a path (HIPAA.md), so it never goes into a log field.
 */
export function errorName(err: unknown): string {
  return err instanceof Error ? err.name : 'unknown';
}

export function redact(fields: LogFields | undefined): LogFields | undefined {
  if (!fields) return fields;
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) out[k] = SENSITIVE.test(k) ? '[redacted]' : v;
  return out;
}

export function createConsoleLogger(level: 'debug' | 'info' | 'warn' | 'error' = 'info'): Logger {
  const order = { debug: 0, info: 1, warn: 2, error: 3 } as const;
  const emit = (lvl: keyof typeof order) => (msg: string, fields?: LogFields) => {
    if (order[lvl] < order[level]) return;
    const line = JSON.stringify({ t: new Date().toISOString(), lvl, msg, ...redact(fields) });
    if (lvl === 'error' || lvl === 'warn') console.error(line);
    else console.log(line);
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
