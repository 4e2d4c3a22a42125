import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultPolicy, policySchema, type Policy, type PolicyInput } from './schema';

export interface LoadedPolicy {
  policy: Policy;
  /** The file the policy came from, or null for built-in defaults. */
  source: string | null;
  /** Why the managed file could not be used. When set, the strictest defaults apply and the UI shows it. */
  error: string | null;
}

/** Where IT deploys the managed policy on each OS (ARCHITECTURE.md §7). */
export function managedPolicyPath(platform: NodeJS.Platform = process.platform, env = process.env): string {
  if (platform === 'win32') return join(env.ProgramData ?? 'C:\\ProgramData', 'ClinicMessenger', 'policy.json');
  if (platform === 'darwin') return '/Library/Application Support/ClinicMessenger/policy.json';
  return '/etc/clinic-messenger/policy.json';
}

/**
 * Reads and validates the managed policy. A missing file means defaults; an unreadable or invalid
 * file is reported (never a crash, never ignored) and the defaults — the strict settings — apply.
 */
export function loadPolicy(path: string | null, overrides?: PolicyInput): LoadedPolicy {
  if (overrides) {
    const parsed = policySchema.safeParse(overrides);
    if (!parsed.success) return { policy: defaultPolicy, source: 'overrides', error: describe(parsed.error.issues) };
    return { policy: parsed.data, source: 'overrides', error: null };
  }
  if (!path) return { policy: defaultPolicy, source: null, error: null };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { policy: defaultPolicy, source: null, error: null };
    return { policy: defaultPolicy, source: path, error: `The clinic policy file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}).` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { policy: defaultPolicy, source: path, error: `The clinic policy file ${path} is not valid JSON.` };
  }
  const parsed = policySchema.safeParse(json);
  if (!parsed.success) {
    return { policy: defaultPolicy, source: path, error: `The clinic policy file ${path} is invalid: ${describe(parsed.error.issues)}` };
  }
  return { policy: parsed.data, source: path, error: null };
}

function describe(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}
