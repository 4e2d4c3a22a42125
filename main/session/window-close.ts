/**
 * The app's window was closed while the app keeps running (main/electron/start.ts hides it rather
 * than quitting). At a shared PC the profile locks then (policy.lockOnWindowClose, on by default,
 * issue 12 §4), so whoever opens the window next meets the lock screen, never the previous person's
 * conversations. Off (a person's own laptop): the session stays open until the idle lock, and
 * notifications keep coming.
 */
import type { Policy } from '../policy/schema';
import type { Session } from './types';

export type WindowClosedOutcome = 'locked' | 'kept-open' | 'already-locked';

export async function onWindowClosed(
  session: Pick<Session, 'isUnlocked' | 'lock'>,
  policy: Pick<Policy, 'lockOnWindowClose'>,
): Promise<WindowClosedOutcome> {
  if (!session.isUnlocked()) return 'already-locked';
  if (!policy.lockOnWindowClose) return 'kept-open';
  await session.lock('window-closed');
  return 'locked';
}
