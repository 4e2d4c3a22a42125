/**
 * Reports keyboard / pointer input to main, which owns the inactivity timer (issue 3 §3).
 * Throttled: at most one report per interval, the first input is reported at once.
 */
import { clinic } from './clinic';

const ACTIVITY_INTERVAL_MS = 15_000;

export function startActivityReporting(target: Window = window, intervalMs = ACTIVITY_INTERVAL_MS): () => void {
  let last = 0;
  const report = (): void => {
    const now = Date.now();
    if (now - last < intervalMs) return;
    last = now;
    // A lost activity ping only shortens the idle timer's grace: nothing to report.
    void clinic().app.activity();
  };
  const kinds = ['keydown', 'pointerdown', 'pointermove', 'wheel', 'touchstart'] as const;
  for (const k of kinds) target.addEventListener(k, report, { passive: true, capture: true });
  return () => {
    for (const k of kinds) target.removeEventListener(k, report, { capture: true });
  };
}
