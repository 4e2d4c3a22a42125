/**
 * A clock that runs with real time and that a test can move forward (e2e: skip an idle timeout
 * without waiting for it). Timers that are due after a jump fire at once, in time order; the rest
 * fire on their own. Unlike fake-clock.ts it never stands still, so the XMPP traffic, the
 * signatures and the browser see a believable time (off by the jumps only).
 */
import type { Clock } from '../../main/clock';

export interface JumpClock extends Clock {
  /** Moves time forward by `ms` and runs every timer due by then. */
  advance(ms: number): void;
}

export function jumpClock(): JumpClock {
  let offset = 0;
  let nextId = 1;
  const timers = new Map<number, { at: number; fn: () => void; real: NodeJS.Timeout }>();
  const now = () => Date.now() + offset;
  const fire = (id: number) => {
    const t = timers.get(id);
    if (!t) return;
    timers.delete(id);
    clearTimeout(t.real);
    t.fn();
  };
  return {
    now,
    setTimeout(fn, ms) {
      const id = nextId++;
      const real = setTimeout(() => fire(id), ms);
      real.unref();
      timers.set(id, { at: now() + ms, fn, real });
      return id;
    },
    clearTimeout(h) {
      const t = timers.get(h as number);
      if (t) clearTimeout(t.real);
      timers.delete(h as number);
    },
    advance(ms) {
      offset += ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= now()).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        fire(due[0]);
      }
    },
  };
}
