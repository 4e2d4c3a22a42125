import { describe, expect, it } from 'vitest';
import { CLOCK_SKEW_MS, claimDiffers, shownTime } from '../../common/message-time';

// Fixed instants: the rule is about the distance between two times, not about today.
const received = Date.UTC(2026, 10, 28, 10, 0, 0);

describe('which time a message shows (issue 10 §4)', () => {
  it("shows the sender's claim when it is within the allowed skew of the receipt", () => {
    for (const d of [0, -CLOCK_SKEW_MS, CLOCK_SKEW_MS, -1000, 4 * 60_000]) {
      expect(shownTime({ sentAt: received, claimedAt: received + d })).toBe(received + d);
      expect(claimDiffers({ sentAt: received, claimedAt: received + d })).toBe(false);
    }
  });

  it('shows the received time when the claim is off by more than the skew, either way', () => {
    for (const d of [CLOCK_SKEW_MS + 1, -CLOCK_SKEW_MS - 1, 86_400_000, -3_600_000]) {
      expect(shownTime({ sentAt: received, claimedAt: received + d })).toBe(received);
      expect(claimDiffers({ sentAt: received, claimedAt: received + d })).toBe(true);
    }
  });

  it('shows the stored time when there is no claim (our own sent messages, rejected ones)', () => {
    expect(shownTime({ sentAt: received, claimedAt: null })).toBe(received);
    expect(claimDiffers({ sentAt: received, claimedAt: null })).toBe(false);
  });
});
