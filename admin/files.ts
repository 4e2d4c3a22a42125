/** Output files are created, never replaced: a second keygen must not destroy the first key. */
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { CliError } from './errors';

export function refuseExisting(path: string, what: string): void {
  if (existsSync(path))
    throw new CliError(`${path} already exists: the ${what} is not overwritten. Choose another --out.`);
}

/** Creates `path` exclusively (O_EXCL: no race with a file appearing meanwhile) with `mode`. */
export function writeNewFile(path: string, text: string, mode: number): void {
  try {
    writeFileSync(path, text, { mode, flag: 'wx' });
    chmodSync(path, mode); // the umask may have removed bits; never added any
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new CliError(`${path} already exists: it is not overwritten. Choose another --out.`);
    throw new CliError(`Cannot write ${path} (${code ?? 'error'}).`);
  }
}

/** A small text file (a key is a few KiB); a huge or unreadable one is refused before parsing. */
export function readSmallText(path: string, what: string, maxBytes = 64 * 1024): string {
  try {
    if (statSync(path).size > maxBytes) throw new CliError(`${path} is too large to be ${what}.`);
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof CliError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`Cannot read ${path} (${code === 'ENOENT' ? 'no such file' : (code ?? 'error')}).`);
  }
}
