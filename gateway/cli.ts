/**
 * clinic-gateway: the patient gateway's command line (issue 17, gateway/README.md).
 * `clinic-gateway --config gateway.json` runs the service until SIGTERM/SIGINT;
 * `--check` validates the config (and reads its secrets) and exits. Exit codes: 0 ok,
 * 2 usage, 3 bad config, 1 the service failed.
 */
import { parseArgs } from 'node:util';
import { GatewayConfigError, loadGatewayConfig, type GatewayConfig } from './config';

export const USAGE = `Usage: clinic-gateway --config <gateway.json> [--check]

  --config <file>  the gateway's configuration (gateway/README.md lists every field)
  --check          validate the configuration, read its secrets, print a summary and exit`;

export interface GatewayCliIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  /** Starts the service; resolves with a stop function once it is connected and listening. */
  start: (config: GatewayConfig) => Promise<() => Promise<void>>;
  /** Resolves when the process is asked to stop (a signal). */
  stopRequested: () => Promise<void>;
}

export async function run(argv: string[], io: GatewayCliIo): Promise<number> {
  let values: { config?: string; check?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { config: { type: 'string' }, check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    io.stderr(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  if (!values.config) {
    io.stderr(`--config is required\n${USAGE}`);
    return 2;
  }
  let config: GatewayConfig;
  try {
    config = loadGatewayConfig(values.config);
  } catch (err) {
    if (!(err instanceof GatewayConfigError)) throw err;
    io.stderr(`The gateway configuration cannot be used:\n  ${err.problems.join('\n  ')}\n(file: ${err.source})`);
    return 3;
  }
  if (values.check) {
    io.stdout(summary(config));
    return 0;
  }
  // Listened for before starting: a SIGTERM while the service starts (or right after it said it
  // had started) stops it cleanly once it is up, instead of killing the process half-way.
  const stopping = io.stopRequested();
  let stop: () => Promise<void>;
  try {
    stop = await io.start(config);
  } catch (err) {
    io.stderr(`The gateway could not start: ${(err as Error).message}`);
    return 1;
  }
  await stopping;
  await stop();
  return 0;
}

/** What --check prints: where things are, never a secret. */
function summary(c: GatewayConfig): string {
  return [
    'Configuration OK.',
    `  component  ${c.xmpp.domain} -> ${c.xmpp.host}:${c.xmpp.port} (staff: ${c.xmpp.staffDomain})`,
    `  http       ${c.http.listen.host}:${c.http.listen.port} (${c.http.behindProxy ? 'behind a TLS proxy' : 'TLS'}), public ${c.http.publicBaseUrl}`,
    `  storage    ${c.storage.sqlitePath}`,
    `  sms        ${c.sms.provider === 'twilio' ? `twilio, from ${c.sms.from}, webhooks at ${c.sms.webhookBaseUrl}` : `sink in ${c.sms.dir}`}`,
    `  links      expire after ${c.messages.expiryDays} days; DOB: ${c.dobCheck.maxTries} tries, then ${c.dobCheck.lockoutMinutes} min lockout`,
    `  limits     ${c.limits.perPhonePerDay || 'no'} texts per number per day; quiet hours ${c.limits.quietHours ? `${c.limits.quietHours.start}-${c.limits.quietHours.end} ${c.limits.quietHours.timeZone}` : 'off'}`,
  ].join('\n');
}
