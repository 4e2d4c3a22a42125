/**
 * Is a managed policy file out of reach of non-administrators? (issue 10 item 10, POSIX: Linux
 * and macOS). The file and every directory above it, along every symlink it goes through, must be
 *  - owned by a trusted owner (root; tests inject their own set), and
 *  - not writable by "other", nor by a group that is not an administrators' group
 *    (gid 0 root/wheel; on macOS also gid 80 admin — `/Library/Application Support` is root:admin 0775).
 * A directory with the sticky bit (like /tmp, 1777) may be writable by others: the sticky bit stops
 * them renaming or deleting an entry they do not own, and the next entry is checked in turn.
 * A symlink is followed by hand, component by component, so the directory holding every link is
 * checked too (a realpath() alone would skip a user-writable directory holding an intermediate link).
 *
 * Known limit: a POSIX ACL entry granting write to a named user shows only as the group "mask"
 * bits, so with gid 0 it passes this check. Do not put ACLs on the policy folder.
 */
import { lstatSync, readlinkSync, type Stats } from 'node:fs';
import { posix } from 'node:path';

export interface PosixTrust {
  /** uids that may own the file and its folders. Default {0}. */
  owners: ReadonlySet<number>;
  /** gids whose members may write. Default {0} (root/wheel), plus 80 (admin) on macOS. */
  groups: ReadonlySet<number>;
}

export function defaultPosixTrust(platform: NodeJS.Platform = process.platform): PosixTrust {
  return { owners: new Set([0]), groups: new Set(platform === 'darwin' ? [0, 80] : [0]) };
}

export type ProtectionResult =
  { ok: true; realPath: string; stats: Stats } | { ok: false; reason: string; code?: string };

const MAX_LINKS = 40; // Linux's own limit before ELOOP

/** Why `entry` could be changed by a non-administrator, or null when it cannot. */
function entryProblem(entry: string, st: Stats, trust: PosixTrust, isFinal: boolean): string | null {
  if (!trust.owners.has(st.uid)) return `${entry} is owned by uid ${st.uid}, not by an administrator (root)`;
  const sticky = st.isDirectory() && (st.mode & 0o1000) !== 0;
  if (sticky && !isFinal) return null;
  if (st.mode & 0o002) return `${entry} can be changed by every user (mode ${(st.mode & 0o7777).toString(8)})`;
  if (st.mode & 0o020 && !trust.groups.has(st.gid)) {
    return `${entry} can be changed by members of group ${st.gid} (mode ${(st.mode & 0o7777).toString(8)})`;
  }
  return null;
}

/**
 * Walks `path` from `/`, checking every entry, following symlinks by hand. ENOENT anywhere is
 * reported with code 'ENOENT' (no file deployed), other fs errors with their code.
 */
export function checkPosixProtection(path: string, trust: PosixTrust): ProtectionResult {
  let pending = posix.resolve(path);
  let links = 0;
  try {
    for (;;) {
      const parts = pending.split('/').filter(Boolean);
      let cur = '/';
      let restarted = false;
      let st = lstatSync(cur);
      const rootProblem = entryProblem(cur, st, trust, parts.length === 0);
      if (rootProblem) return { ok: false, reason: rootProblem };
      for (let i = 0; i < parts.length; i++) {
        const next = posix.join(cur, parts[i] as string);
        const isFinal = i === parts.length - 1;
        st = lstatSync(next);
        if (st.isSymbolicLink()) {
          // The link itself cannot be edited, only replaced, which the (already checked) directory holding it governs.
          if (++links > MAX_LINKS)
            return { ok: false, reason: `${path} goes through too many symbolic links`, code: 'ELOOP' };
          pending = posix.resolve(cur, readlinkSync(next), ...parts.slice(i + 1));
          restarted = true;
          break;
        }
        const problem = entryProblem(next, st, trust, isFinal);
        if (problem) return { ok: false, reason: problem };
        cur = next;
      }
      if (restarted) continue;
      if (!st.isFile())
        return { ok: false, reason: `${cur} is not a regular file`, code: st.isDirectory() ? 'EISDIR' : 'EINVAL' };
      return { ok: true, realPath: cur, stats: st };
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    return { ok: false, reason: `cannot be checked (${code})`, code };
  }
}
