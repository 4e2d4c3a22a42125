/**
 * Which time a message shows (issue 10 §4). A conversation is ordered by when our server or this
 * device received each message (`sentAt` for received messages), so no sender's clock can put a
 * message above newer ones. The sender's own claim (`claimedAt`) is shown when it is within the
 * allowed clock skew of that — the familiar "when it was written" — and the received time otherwise.
 */

/** Accepted distance between a sender's <time/> and its receipt; the crypto layer's future skew too. */
export const CLOCK_SKEW_MS = 5 * 60_000;

export function shownTime(m: { sentAt: number; claimedAt: number | null }): number {
  return m.claimedAt !== null && Math.abs(m.claimedAt - m.sentAt) <= CLOCK_SKEW_MS ? m.claimedAt : m.sentAt;
}

/** true when the sender's clock disagreed with the receipt by more than the skew (the UI says so). */
export function claimDiffers(m: { sentAt: number; claimedAt: number | null }): boolean {
  return m.claimedAt !== null && Math.abs(m.claimedAt - m.sentAt) > CLOCK_SKEW_MS;
}
