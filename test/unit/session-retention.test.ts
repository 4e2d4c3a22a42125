import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../main/log';
import { RETENTION_INTERVAL_MS, startRetention } from '../../main/session/retention';
import { fakeClock } from '../support/fake-clock';

const DAY = 24 * 60 * 60 * 1000;

/** The purge's collaborators, with the store worker's deletion held until the test lets it go. */
function world() {
  const clock = fakeClock();
  const cutoffs: number[] = [];
  const releases: (() => void)[] = [];
  const audited: Record<string, unknown>[] = [];
  const store = {
    background: {
      purgeBefore: (cutoff: number) => {
        cutoffs.push(cutoff);
        return new Promise<number>((resolve) => releases.push(() => resolve(1)));
      },
    },
    drafts: { purgeBefore: () => 0 },
    patientConversations: { purgeBefore: () => 0 },
  };
  const audit = { append: (_type: string, detail: Record<string, unknown>) => void audited.push(detail) };
  const retention = startRetention({
    days: 30,
    store: store as unknown as Parameters<typeof startRetention>[0]['store'],
    audit: audit as unknown as Parameters<typeof startRetention>[0]['audit'],
    clock,
    logger: silentLogger,
  });
  const settle = () => new Promise((r) => setImmediate(r));
  return { clock, cutoffs, releases, audited, retention, settle };
}

describe('retention: the 6-hourly purge', () => {
  it('runs with its own cutoff when it comes due while the purge at unlock is still under way', async () => {
    const w = world();
    const unlockedAt = w.clock.now();
    expect(w.cutoffs).toEqual([unlockedAt - 30 * DAY]);
    // Six hours pass while the first purge is still deleting (a large cache, a busy worker).
    w.clock.advance(RETENTION_INTERVAL_MS);
    await w.settle();
    expect(w.cutoffs).toHaveLength(1);
    w.releases[0]!();
    await w.settle();
    // It was not folded into the one under way: it runs once that one is done, six hours later's cutoff.
    expect(w.cutoffs).toEqual([unlockedAt - 30 * DAY, unlockedAt + RETENTION_INTERVAL_MS - 30 * DAY]);
    w.releases[1]!();
    await w.settle();
    expect(w.audited.map((d) => d['cutoff'])).toEqual(w.cutoffs);
    // And the next one is six hours after that.
    w.clock.advance(RETENTION_INTERVAL_MS);
    await w.settle();
    expect(w.cutoffs).toHaveLength(3);
    w.releases[2]!();
    await w.retention.stop();
  });

  it('starts none once stopped, even when it came due during a purge', async () => {
    const w = world();
    w.clock.advance(RETENTION_INTERVAL_MS);
    const stopped = w.retention.stop();
    w.releases[0]!();
    await stopped;
    await w.settle();
    expect(w.cutoffs).toHaveLength(1);
    w.clock.advance(RETENTION_INTERVAL_MS);
    await w.settle();
    expect(w.cutoffs).toHaveLength(1);
  });
});
