/**
 * clinic-admin: the administrator's command line (issue 15, ARCHITECTURE.md §2 `admin/`).
 * `run` parses argv, runs one command and returns the exit code (errors.ts); it never prints a
 * passphrase or key material. Run it as `npx clinic-admin …` from the repository (admin/README.md).
 */
import { parseArgs } from 'node:util';
import { disable, DISABLE_USAGE } from './commands/disable';
import { keygen, KEYGEN_USAGE } from './commands/keygen';
import { lease, LEASE_USAGE } from './commands/lease';
import { provision, PROVISION_USAGE } from './commands/provision';
import { publishKey, PUBLISH_KEY_USAGE } from './commands/publish-key';
import { report, REPORT_USAGE } from './commands/report';
import { rooms, ROOMS_USAGE } from './commands/rooms';
import { verifyReport, VERIFY_REPORT_USAGE } from './commands/verify-report';
import { wipe, WIPE_USAGE } from './commands/wipe';
import { CliError, EXIT_USAGE, usageError } from './errors';
import type { CliIo } from './io';

export const USAGE = `Usage: clinic-admin <command> [options]   (clinic-admin <command> --help for details)

Commands:
  keygen     create the admin signing key (passphrase-protected) and print its fingerprint
  wipe       sign a remote-wipe command for an account, one device or all; write it to a file
             and/or send it over the clinic's XMPP server
  provision  create the accounts of a users.csv and write the directory (on the Prosody or
             ejabberd server)
  disable    stop an account from signing in (on the Prosody or ejabberd server)
  lease      show or revoke an account's offline lease (on the Prosody or ejabberd server)
  rooms      list, create and sync the care-team rooms made from the directory's groups
  publish-key  publish the compliance key as the compliance account's key (audit anchoring)
  report     read the anchored audit entries, verify every chain, write an HTML + CSV report
  verify-report  recheck a saved report against its signatures`;

const COMMANDS = {
  keygen: {
    usage: KEYGEN_USAGE,
    options: { out: { type: 'string' }, name: { type: 'string' } },
    positionals: 0,
    run: (io: CliIo, v: Values) => keygen(io, { out: v.values.out, name: v.values.name }),
  },
  wipe: {
    usage: WIPE_USAGE,
    options: {
      device: { type: 'string' },
      key: { type: 'string' },
      expires: { type: 'string' },
      out: { type: 'string' },
      send: { type: 'boolean' },
      as: { type: 'string' },
      server: { type: 'string' },
      tls: { type: 'string' },
      ca: { type: 'string' },
    },
    positionals: 1,
    run: (io: CliIo, v: Values) =>
      wipe(io, {
        jid: v.positionals[0],
        device: v.values.device,
        key: v.values.key,
        expires: v.values.expires,
        out: v.values.out,
        send: v.flags.send,
        as: v.values.as,
        server: v.values.server,
        tls: v.values.tls,
        ca: v.values.ca,
      }),
  },
  provision: {
    usage: PROVISION_USAGE,
    options: {
      'prosody-config': { type: 'string' },
      'ejabberd-api': { type: 'string' },
      'passwords-out': { type: 'string' },
    },
    positionals: 1,
    run: (io: CliIo, v: Values) =>
      provision(io, {
        csv: v.positionals[0],
        prosodyConfig: v.values['prosody-config'],
        ejabberdApi: v.values['ejabberd-api'],
        passwordsOut: v.values['passwords-out'],
      }),
  },
  disable: {
    usage: DISABLE_USAGE,
    options: { 'prosody-config': { type: 'string' }, 'ejabberd-api': { type: 'string' } },
    positionals: 1,
    run: (io: CliIo, v: Values) =>
      disable(io, {
        jid: v.positionals[0],
        prosodyConfig: v.values['prosody-config'],
        ejabberdApi: v.values['ejabberd-api'],
      }),
  },
  lease: {
    usage: LEASE_USAGE,
    options: { 'prosody-config': { type: 'string' }, 'ejabberd-api': { type: 'string' } },
    positionals: 2,
    run: (io: CliIo, v: Values) =>
      lease(io, {
        action: v.positionals[0],
        jid: v.positionals[1],
        prosodyConfig: v.values['prosody-config'],
        ejabberdApi: v.values['ejabberd-api'],
      }),
  },
  rooms: {
    usage: ROOMS_USAGE,
    options: {
      group: { type: 'string' },
      name: { type: 'string' },
      owner: { type: 'string', multiple: true },
      announcement: { type: 'boolean' },
      'prosody-config': { type: 'string' },
      'ejabberd-api': { type: 'string' },
      as: { type: 'string' },
      server: { type: 'string' },
      tls: { type: 'string' },
      ca: { type: 'string' },
    },
    positionals: 2,
    run: (io: CliIo, v: Values) =>
      rooms(io, {
        action: v.positionals[0],
        room: v.positionals[1],
        group: v.values.group,
        name: v.values.name,
        owners: v.lists.owner,
        announcement: v.flags.announcement === true,
        prosodyConfig: v.values['prosody-config'],
        ejabberdApi: v.values['ejabberd-api'],
        as: v.values.as,
        server: v.values.server,
        tls: v.values.tls,
        ca: v.values.ca,
      }),
  },
  report: {
    usage: REPORT_USAGE,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      key: { type: 'string' },
      out: { type: 'string' },
      overdue: { type: 'string' },
      'prosody-config': { type: 'string' },
      as: { type: 'string' },
      server: { type: 'string' },
      tls: { type: 'string' },
      ca: { type: 'string' },
    },
    positionals: 0,
    run: (io: CliIo, v: Values) =>
      report(io, {
        from: v.values.from,
        to: v.values.to,
        key: v.values.key,
        out: v.values.out,
        overdue: v.values.overdue,
        prosodyConfig: v.values['prosody-config'],
        as: v.values.as,
        server: v.values.server,
        tls: v.values.tls,
        ca: v.values.ca,
      }),
  },
  'verify-report': {
    usage: VERIFY_REPORT_USAGE,
    options: {},
    positionals: 1,
    run: (io: CliIo, v: Values) => verifyReport(io, { file: v.positionals[0] }),
  },
  'publish-key': {
    usage: PUBLISH_KEY_USAGE,
    options: {
      key: { type: 'string' },
      as: { type: 'string' },
      server: { type: 'string' },
      tls: { type: 'string' },
      ca: { type: 'string' },
    },
    positionals: 0,
    run: (io: CliIo, v: Values) =>
      publishKey(io, {
        key: v.values.key,
        as: v.values.as,
        server: v.values.server,
        tls: v.values.tls,
        ca: v.values.ca,
      }),
  },
} as const;

type OptionName =
  | 'out'
  | 'name'
  | 'device'
  | 'key'
  | 'expires'
  | 'as'
  | 'server'
  | 'tls'
  | 'ca'
  | 'prosody-config'
  | 'ejabberd-api'
  | 'passwords-out'
  | 'from'
  | 'to'
  | 'overdue'
  | 'group';

interface Values {
  values: Partial<Record<OptionName, string>>;
  flags: Partial<Record<'send' | 'announcement', boolean>>;
  /** Options given more than once (`multiple: true`). */
  lists: Partial<Record<'owner', string[]>>;
  positionals: string[];
}

function parse(
  args: string[],
  options: Record<string, { type: 'string'; multiple?: boolean } | { type: 'boolean' }>,
  positionals: number,
): Values | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    // parseArgs names the unknown option or the option missing its value.
    throw usageError(err instanceof Error ? err.message : 'bad arguments');
  }
  if (parsed.values.help) return 'help';
  if (parsed.positionals.length > positionals)
    throw usageError(`Unexpected argument "${parsed.positionals[positionals]}".`);
  const values: Values['values'] = {};
  const flags: Values['flags'] = {};
  const lists: Values['lists'] = {};
  for (const [k, v] of Object.entries(parsed.values)) {
    if (typeof v === 'string') values[k as OptionName] = v;
    else if (Array.isArray(v)) lists[k as keyof Values['lists']] = v.filter((x): x is string => typeof x === 'string');
    else if (k !== 'help' && v === true) flags[k as keyof Values['flags']] = true;
  }
  return { values, flags, lists, positionals: parsed.positionals };
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    io.stdout(topic && topic in COMMANDS ? COMMANDS[topic as keyof typeof COMMANDS].usage : USAGE);
    return name === undefined ? EXIT_USAGE : 0;
  }
  if (!(name in COMMANDS)) {
    io.stderr(`clinic-admin: unknown command "${name}".\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  const command = COMMANDS[name as keyof typeof COMMANDS];
  try {
    const parsed = parse(rest, command.options, command.positionals);
    if (parsed === 'help') {
      io.stdout(command.usage);
      return 0;
    }
    await command.run(io, parsed);
    return 0;
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    io.stderr(`clinic-admin ${name}: ${err.message}`);
    if (err.exitCode === EXIT_USAGE) io.stderr(`Run "clinic-admin ${name} --help" for its usage.`);
    return err.exitCode;
  }
}
