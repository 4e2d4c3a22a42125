/**
 * The admin key's passphrase (CLINIC_ADMIN_PASSPHRASE) and the admin account's XMPP password
 * (CLINIC_ADMIN_XMPP_PASSWORD): from the environment (scripts, tests) or typed at the terminal
 * without echo — never from argv, which any user on the machine can read in `ps`.
 */
import { CliError } from './errors';
import type { CliIo } from './io';

export const PASSPHRASE_ENV = 'CLINIC_ADMIN_PASSPHRASE';
export const MIN_PASSPHRASE = 12;

/** Reads one line from the terminal with echo off (raw mode); Ctrl+C aborts. */
function readHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  // Echo off before the prompt shows: what is typed after seeing it is never echoed.
  stdin.setRawMode(true);
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let text = '';
    const done = (err: Error | null) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(text);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(null);
        if (ch === '\u0003') return done(new CliError('Cancelled.'));
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else if (ch >= ' ') text += ch;
      }
    };
    stdin.resume();
    stdin.on('data', onData);
  });
}

/**
 * A secret from the environment variable `env` (scripts, tests) or typed at the terminal without
 * echo after `prompt`; `what` names it in the message when there is neither.
 */
async function readSecret(io: CliIo, env: string, prompt: string, what: string): Promise<string> {
  const fromEnv = io.env[env];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!process.stdin.isTTY) throw new CliError(`No terminal to ask for ${what}: type it at a terminal, or set ${env}.`);
  return readHidden(prompt);
}

export async function readPassphrase(io: CliIo, opts: { confirm: boolean }): Promise<string> {
  const first = await readSecret(io, PASSPHRASE_ENV, 'Admin key passphrase: ', 'the passphrase');
  if (io.env[PASSPHRASE_ENV]) return first;
  if (opts.confirm && (await readHidden('Repeat the passphrase: ')) !== first)
    throw new CliError('The two passphrases differ; nothing was written.');
  return first;
}

export const XMPP_PASSWORD_ENV = 'CLINIC_ADMIN_XMPP_PASSWORD';

/** The admin account's password on the XMPP server (`clinic-admin wipe --send --as <jid>`). */
export function readXmppPassword(io: CliIo, account: string): Promise<string> {
  return readSecret(io, XMPP_PASSWORD_ENV, `Password of ${account} on the XMPP server: `, `the password of ${account}`);
}
