/**
 * The last update decision, as the renderer shows it in Settings (`app:updateStatus`). Versions
 * and a state only: no feed address, no error text.
 */
import type { UpdateDecision } from './decision';

export type UpdateState = 'unknown' | 'off' | 'up-to-date' | 'downloading' | 'it-installs' | 'refused';

export interface UpdateStatus {
  state: UpdateState;
  /** The feed's version: the update found, or the latest when up to date. */
  version: string | null;
}

export interface UpdateStatusHolder {
  get(): UpdateStatus;
  set(decision: UpdateDecision): void;
}

export function statusOf(decision: UpdateDecision): UpdateStatus {
  switch (decision.kind) {
    case 'up-to-date':
      return { state: 'up-to-date', version: decision.latest };
    case 'may-install':
      return { state: 'downloading', version: decision.version };
    case 'it-installs':
      return { state: 'it-installs', version: decision.version };
    case 'refused':
      return {
        state: decision.reason === 'disabled' || decision.reason === 'no-feed' ? 'off' : 'refused',
        version: null,
      };
  }
}

export function createUpdateStatus(): UpdateStatusHolder {
  let current: UpdateStatus = { state: 'unknown', version: null };
  return {
    get: () => ({ ...current }),
    set: (decision) => {
      current = statusOf(decision);
    },
  };
}
