/**
 * The managed policy while the app runs (issue 14 item 3): IT changes a source (the Linux or
 * macOS file, a configuration profile, a Group Policy refresh) and the change applies without a
 * restart. The loader (load.ts) stays the only reader and judge; this file re-runs it and says
 * which keys changed.
 *
 * `LivePolicy` has the shape of a `LoadedPolicy`, and its `policy` is a live view: one object
 * whose properties read the policy in force at the moment they are read. Code that reads
 * `policy.notificationPreview` when a notification is built, or `policy.lockOnOsLock` when the
 * screen locks, follows a change with nothing else to do; code that must act when a value changes
 * (the idle timer, retention, content protection) subscribes with `onChange`. A value copied at
 * unlock (the server and its CA, read when messaging is built) applies from the next unlock.
 *
 * A source that turns invalid or unprotected while the app runs is treated as at start-up: the
 * strict defaults apply and the error is shown. Nothing here can loosen the policy by itself.
 */
import { errorName, type Logger } from '../log';
import type { LoadedPolicy } from './load';
import { policySchema, type Policy } from './schema';

export type PolicyKey = keyof Policy;

/** What a reload changed: the policy keys whose values differ, and whether source, error or managed keys did. */
export interface PolicyChange {
  keys: PolicyKey[];
  status: boolean;
}

export interface LivePolicy extends LoadedPolicy {
  /** The loaded policy at this moment (a plain snapshot). */
  snapshot(): LoadedPolicy;
  /** Reads the sources again. Returns what changed, or null when nothing did (listeners run only then). */
  reload(): PolicyChange | null;
  /** Called after each change, in order of subscription; returns the unsubscribe function. */
  onChange(listener: (change: PolicyChange) => void): () => void;
}

const POLICY_KEYS = Object.keys(policySchema.shape) as PolicyKey[];

/** Keys whose values differ (compared as JSON: the values are plain data). */
export function changedKeys(before: Policy, after: Policy): PolicyKey[] {
  return POLICY_KEYS.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
}

function statusChanged(a: LoadedPolicy, b: LoadedPolicy): boolean {
  return (
    a.source !== b.source ||
    a.error !== b.error ||
    JSON.stringify(a.managedKeys ?? []) !== JSON.stringify(b.managedKeys ?? [])
  );
}

/**
 * `load` reads every source (loadManagedPolicy, or loadPolicy for a given file); it never throws
 * (load.ts turns every problem into `error`). `initial`: its first result, when already read.
 */
export function createLivePolicy(load: () => LoadedPolicy, logger: Logger, initial?: LoadedPolicy): LivePolicy {
  let current = initial ?? load();
  const listeners = new Set<(change: PolicyChange) => void>();
  const view = {} as Policy;
  for (const key of POLICY_KEYS) Object.defineProperty(view, key, { enumerable: true, get: () => current.policy[key] });
  Object.freeze(view);

  const live: LivePolicy = {
    get policy() {
      return view;
    },
    get source() {
      return current.source;
    },
    get error() {
      return current.error;
    },
    get warnings() {
      return current.warnings;
    },
    get managedKeys() {
      return current.managedKeys;
    },
    snapshot: () => current,
    reload() {
      const next = load();
      const change: PolicyChange = {
        keys: changedKeys(current.policy, next.policy),
        status: statusChanged(current, next),
      };
      if (change.keys.length === 0 && !change.status) return null;
      current = next;
      // Key names and where from: never values (a CA or a policy text is no secret, but the log stays small).
      logger.info('managed policy changed', { keys: change.keys.join(','), source: next.source ?? 'defaults' });
      if (next.error) logger.warn('managed policy rejected; strict defaults apply', { source: next.source });
      for (const listener of listeners) {
        try {
          listener(change);
        } catch (err) {
          logger.error('policy change listener failed', { error: errorName(err) });
        }
      }
      return change;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return live;
}
