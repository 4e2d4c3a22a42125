/**
 * Everything that may hold PHI (message text, names, titles, search results) registers a reset
 * here. On 'session:locked' the session state calls dropPhi() before anything else, so the
 * locked page holds none of it (issue 3 §3).
 */
const resets = new Set<() => void>();

export function registerPhiReset(reset: () => void): void {
  resets.add(reset);
}

export function dropPhi(): void {
  for (const reset of resets) reset();
}
