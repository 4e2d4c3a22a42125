/**
 * The warning before the inactivity lock (issue 12 §2): main says the lock comes in N seconds
 * ('session:idleWarning'); this counts down for the dialog and "Stay signed in" reports activity,
 * which main answers by ending the warning. The lock itself is main's alone: the countdown here
 * only informs, and reaching 0 does nothing.
 */
import { clinic } from '../clinic';
import { flushDraft } from '../drafts';
import { registerPhiReset } from '../phi';

class IdleWarningState {
  /** Seconds until main locks; null: no warning. */
  seconds = $state<number | null>(null);
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor() {
    // Locked: the dialog goes with the rest of the unlocked screens.
    registerPhiReset(() => this.clear());
  }

  /** From main: the lock comes in `lockInSeconds`, or null when activity ended the warning. */
  show(lockInSeconds: number | null): void {
    this.clear();
    if (lockInSeconds === null) return;
    this.seconds = lockInSeconds;
    // The half-written text is saved now, not only when the lock would drop it (flushing never rejects).
    void flushDraft();
    this.timer = setInterval(() => {
      if (this.seconds !== null && this.seconds > 0) this.seconds -= 1;
    }, 1000);
  }

  /** "Stay signed in": activity now, not throttled like input reports (lib/activity.ts). */
  stay(): void {
    this.clear();
    // A lost report leaves main's warning running: its lock is then what the person sees.
    void clinic().app.activity();
  }

  private clear(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.seconds = null;
  }
}

export const idleWarning = new IdleWarningState();
