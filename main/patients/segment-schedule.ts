/**
 * The scheduling a segment send needs (issue 17 item 5), pure and clock-driven so the unit tests
 * (test/unit/segment-schedule.test.ts) drive it:
 * - inWindow: runs a task per item with at most `size` running at once, each item at most once, in
 *   order of start; a task answering 'stop' (the connection went) lets the running ones finish and
 *   starts no more.
 * - throttleByKey: a progress report per key at most once per `ms` — the first at once, the rest
 *   folded into one trailing report at the end of the interval (so the last state always goes out).
 */
import type { Clock } from '../clock';

export async function inWindow<T>(
  items: readonly T[],
  size: number,
  task: (item: T) => Promise<'next' | 'stop'>,
): Promise<{ started: number; stopped: boolean }> {
  let next = 0;
  let stopped = false;
  const lane = async () => {
    while (!stopped && next < items.length) {
      const item = items[next++]!;
      if ((await task(item)) === 'stop') stopped = true;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(size, items.length)) }, lane));
  return { started: next, stopped };
}

export interface KeyedThrottle {
  (key: string): void;
  /** Drops the pending trailing reports (the session is closing). */
  cancel(): void;
}

export function throttleByKey(clock: Clock, ms: number, report: (key: string) => void): KeyedThrottle {
  const last = new Map<string, number>();
  const pending = new Map<string, unknown>();
  const fire = (key: string) => {
    pending.delete(key);
    last.set(key, clock.now());
    report(key);
  };
  const throttled = (key: string) => {
    if (pending.has(key)) return;
    const since = clock.now() - (last.get(key) ?? -Infinity);
    if (since >= ms) return fire(key);
    pending.set(
      key,
      clock.setTimeout(() => fire(key), ms - since),
    );
  };
  throttled.cancel = () => {
    for (const h of pending.values()) clock.clearTimeout(h);
    pending.clear();
  };
  return throttled;
}
