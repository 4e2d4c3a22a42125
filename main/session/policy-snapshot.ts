/**
 * Which managed policy each profile last ran under, kept in its own encrypted store, so a change
 * IT made while the profile was locked — or while the app was not running — is audited at its
 * next unlock as 'policy-applied' (the keys that differ, never their values), as a change while
 * unlocked is at once (lifecycle.ts policyChanged). A review leftover of issue 14 item 3.
 */
import type { AuditLog } from '../audit';
import type { Policy } from '../policy/schema';
import type { Store } from '../store';

const SETTING = 'policy:applied';

/** The policy as stored: top-level key → its JSON (the comparison is per key, as managedKeys are). */
function snapshot(policy: Policy): Record<string, string> {
  return Object.fromEntries(Object.entries(policy).map(([k, v]) => [k, JSON.stringify(v ?? null)]));
}

/** Stores the policy the open profile runs under now. */
export function rememberPolicy(store: Store, policy: Policy): void {
  store.setSetting(SETTING, snapshot(policy));
}

/**
 * At unlock: audits the keys that differ from what this profile last ran under, then remembers
 * the current policy. Returns those keys (none on the first unlock after an upgrade: nothing to
 * compare with yet).
 */
export function auditPolicySinceLastUnlock(
  store: Store,
  audit: AuditLog,
  policy: Policy,
  source: string | null,
): string[] {
  const before = store.getSetting<Record<string, string>>(SETTING);
  const now = snapshot(policy);
  const keys = before
    ? [...new Set([...Object.keys(before), ...Object.keys(now)])].filter((k) => before[k] !== now[k]).sort()
    : [];
  if (keys.length > 0)
    audit.append('policy-applied', { keys: keys.join(','), source: source ?? 'defaults', since: 'last-unlock' });
  store.setSetting(SETTING, now);
  return keys;
}
