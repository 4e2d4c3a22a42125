/**
 * The retention cutoff of the policy's retentionDays (ARCHITECTURE.md §7): a message received
 * before it is deleted from this workstation's cache (main/session/retention.ts), and catch-up
 * never stores one again from a server archive that still holds it (main/xmpp/catch-up.ts,
 * room-archive.ts). Both use this one function, so what one purges the other does not restore.
 */
export const DAY_MS = 24 * 60 * 60 * 1000;

/** The cutoff (ms) at `now`; null when retention is off. */
export function retentionCutoff(days: number | null, now: number): number | null {
  return days === null ? null : now - days * DAY_MS;
}

/** Whether a message the server stamped at `stamp` is past retention (a missing stamp: it is not). */
export function pastRetention(cutoff: number | null, stamp: Date | null | undefined): boolean {
  return cutoff !== null && stamp != null && stamp.getTime() < cutoff;
}
