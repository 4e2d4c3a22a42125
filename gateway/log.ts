/**
 * The gateway's log: one JSON line per event, with an event name and a few fields from a fixed
 * list (ids, states, reason codes, counts). Phone numbers, dates of birth, SMS text, ciphertext,
 * link fragments and secrets have no field here, so they cannot be logged by mistake; a test greps
 * the log for them.
 */
export interface LogFields {
  id?: string;
  state?: string;
  reason?: string;
  code?: string;
  count?: number;
  status?: number;
  path?: string;
  provider?: string;
  error?: string;
}

export type LogLevel = 'info' | 'warn' | 'error';

export interface Logger {
  (level: LogLevel, event: string, fields?: LogFields): void;
}

export function jsonLogger(write: (line: string) => void, now: () => number): Logger {
  return (level, event, fields = {}) => {
    write(JSON.stringify({ at: new Date(now()).toISOString(), level, event, ...fields }));
  };
}

/** Error messages from libraries can quote their input: only the class name and a code go to the log. */
export function errorName(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code ? `${err.name}:${code}` : err.name;
  }
  return typeof err;
}
