/**
 * The session: which profile is unlocked and the services open for it. Handlers reach every
 * PHI-holding service only through `active()`, which throws LOCKED when nothing is unlocked.
 */
import type { ConnectionState } from '../../common/ipc-contract';

export interface Session {
  isUnlocked(): boolean;
  /** Restarts the inactivity timer (renderer input, throttled). */
  reportActivity(): void;
  connection(): { state: ConnectionState; detail: string | null };
  dispose(): Promise<void>;
}
