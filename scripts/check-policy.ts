/**
 * Checks a managed policy file with the app's own loader (main/policy/load.ts), for IT before and
 * after deploying it (docs/deploy/):
 *
 *   npx tsx scripts/check-policy.ts /etc/clinic-messenger/policy.json
 *   npx tsx scripts/check-policy.ts --content-only ./policy.json
 *
 * Prints `OK` and exits 0 when the app would apply the file, or prints the app's own error
 * (the one it shows on screen) and exits 1. A missing file is an error here: the app would
 * silently use its defaults. By default the file and its folders are held to the app's rule
 * (owned by root, not writable by other users); `--content-only` also trusts the current user as
 * owner, to check a draft in a home folder before it is installed.
 */
import { existsSync } from 'node:fs';
import { loadPolicy } from '../main/policy/load';
import { defaultPosixTrust } from '../main/policy/posix-protection';

function main(argv: readonly string[]): number {
  const contentOnly = argv.includes('--content-only');
  const files = argv.filter((a) => a !== '--content-only');
  if (files.length !== 1 || files[0]?.startsWith('-')) {
    console.error('usage: check-policy.ts [--content-only] <policy.json>');
    return 2;
  }
  const file = files[0] as string;
  if (!existsSync(file)) {
    console.error(`${file} does not exist (the app would use its built-in defaults).`);
    return 1;
  }
  const trust = defaultPosixTrust();
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  const posixTrust =
    contentOnly && uid !== undefined && gid !== undefined
      ? { owners: new Set([...trust.owners, uid]), groups: new Set([...trust.groups, gid]) }
      : trust;
  const loaded = loadPolicy(file, undefined, { posixTrust });
  if (loaded.error) {
    console.error(loaded.error);
    return 1;
  }
  for (const warning of loaded.warnings ?? []) console.log(`note: ${warning}`);
  console.log(`OK: ${loaded.source ?? file}`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
