/**
 * Reads a managed policy file only once it is known that no non-administrator can change it
 * (issue 10 item 10): POSIX checks the file and every folder above it, then reads the very file
 * that was checked (same device and inode, so a swap between check and read is refused); Windows
 * checks the access lists with icacls, then reads. Shared by the JSON file (every OS) and the
 * macOS managed preference plists.
 */
import { closeSync, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { checkPosixProtection, type PosixTrust } from './posix-protection';
import { windowsProtectionProblem, type WindowsCommand } from './windows';

/** `bytes` null: no file there (nothing deployed). */
export type FileRead = { bytes: Buffer | null } | { error: string };

export const refusedFile = (path: string, why: string): FileRead => ({
  error: `The clinic policy file ${path} is refused because a user who is not an administrator could change it: ${why}. Ask IT to make it writable by administrators only.`,
});
const unreadable = (path: string, code: string): FileRead => ({
  error: `The clinic policy file ${path} cannot be read (${code}).`,
});
const errCode = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? 'error';

/** POSIX (Linux, macOS): check the protection, then read the file that was checked. */
export function readPosixFile(path: string, trust: PosixTrust): FileRead {
  const checked = checkPosixProtection(path, trust);
  if (!checked.ok) {
    if (checked.code === 'ENOENT') return { bytes: null };
    return checked.code ? unreadable(path, checked.code) : refusedFile(path, checked.reason);
  }
  let fd: number;
  try {
    fd = openSync(checked.realPath, 'r');
  } catch (err) {
    return unreadable(path, errCode(err));
  }
  try {
    const now = fstatSync(fd);
    // Swapped between the check and the open: refuse rather than read an unchecked file.
    if (now.dev !== checked.stats.dev || now.ino !== checked.stats.ino)
      return refusedFile(path, 'it was replaced while being checked');
    return { bytes: readFileSync(fd) };
  } catch (err) {
    return unreadable(path, errCode(err));
  } finally {
    closeSync(fd);
  }
}

/** Windows: the access lists of the file and every folder above it, then the file. */
export function readWindowsFile(path: string, run: WindowsCommand): FileRead {
  try {
    if (!statSync(path).isFile()) return unreadable(path, 'EISDIR');
  } catch (err) {
    const code = errCode(err);
    return code === 'ENOENT' ? { bytes: null } : unreadable(path, code);
  }
  const problem = windowsProtectionProblem(run, path);
  if (problem) return refusedFile(path, problem);
  try {
    return { bytes: readFileSync(path) };
  } catch (err) {
    return unreadable(path, errCode(err));
  }
}
