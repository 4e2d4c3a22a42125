/**
 * Runs tasks one at a time per key (issue 17 item 5): the app hands several texts over at once,
 * and a send checks then writes — the request id ("seen before?") and the number's frequency cap
 * ("texted how often today?") — with awaits in between. Two sends to one number, or two copies of
 * one request, must not both pass the check before either writes; sends to different numbers still
 * run side by side. A task that fails does not stop the next one for its key.
 */
export type KeyedQueue = <T>(keys: readonly string[], run: () => Promise<T>) => Promise<T>;

export function keyedQueue(): KeyedQueue {
  const tails = new Map<string, Promise<unknown>>();
  const one = <T>(key: string, run: () => Promise<T>): Promise<T> => {
    const next = (tails.get(key) ?? Promise.resolve()).then(run, run);
    tails.set(key, next);
    const forget = () => {
      if (tails.get(key) === next) tails.delete(key);
    };
    next.then(forget, forget);
    return next;
  };
  // The keys are taken in the order given, the same order for every caller: no deadlock.
  return <T>(keys: readonly string[], run: () => Promise<T>): Promise<T> => {
    let task = run;
    for (const key of [...keys].reverse()) {
      const inner = task;
      task = () => one(key, inner);
    }
    return task();
  };
}
