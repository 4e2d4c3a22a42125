import { describe, expect, it } from 'vitest';
import { AppError } from '../../common/result';
import { policySchema } from '../../main/policy/schema';
import { createIdleTimer } from '../../main/session/idle';
import { readSettings, writeSettings } from '../../main/session/settings';
import type { Store } from '../../main/store';
import { fakeClock } from '../support/fake-clock';

/** Only the settings table matters to these rules: a Map stands in for it. */
function settingsStore(): Store {
  const m = new Map<string, string>();
  return {
    getSetting: (k: string) => (m.has(k) ? JSON.parse(m.get(k)!) : undefined),
    setSetting: (k: string, v: unknown) => void m.set(k, JSON.stringify(v)),
  } as unknown as Store;
}

describe('settings within policy', () => {
  const policy = policySchema.parse({ lockTimeoutMaxMinutes: 5, notificationPreview: 'sender' });

  it('defaults to the policy ceiling', () => {
    expect(readSettings(settingsStore(), policy)).toEqual({
      lockTimeoutMinutes: 5,
      notificationPreview: 'sender',
      theme: 'system',
      // Issue 12 §7: available with no status, sounds on, nothing muted.
      presence: { show: 'available', status: '' },
      sound: true,
      mutedConversations: [],
    });
  });

  it('lets the user tighten and refuses loosening without saving anything', () => {
    const store = settingsStore();
    expect(writeSettings(store, policy, { lockTimeoutMinutes: 2, notificationPreview: 'none', theme: 'dark' })).toEqual(
      {
        lockTimeoutMinutes: 2,
        notificationPreview: 'none',
        theme: 'dark',
        presence: { show: 'available', status: '' },
        sound: true,
        mutedConversations: [],
      },
    );
    for (const change of [{ lockTimeoutMinutes: 6 }, { notificationPreview: 'full' as const }]) {
      expect(() => writeSettings(store, policy, change)).toThrow(AppError);
    }
    expect(readSettings(store, policy)).toMatchObject({ lockTimeoutMinutes: 2, notificationPreview: 'none' });
  });

  it('clamps saved settings when the policy tightens later', () => {
    const store = settingsStore();
    writeSettings(store, policy, { lockTimeoutMinutes: 4 });
    const stricter = policySchema.parse({ lockTimeoutMaxMinutes: 1, notificationPreview: 'none' });
    expect(readSettings(store, stricter)).toMatchObject({ lockTimeoutMinutes: 1, notificationPreview: 'none' });
  });
});

describe('idle timer', () => {
  it('fires after the timeout of silence, counting from the last activity', () => {
    const clock = fakeClock();
    let fired = 0;
    const idle = createIdleTimer(clock, () => fired++);
    idle.start(60_000);
    clock.advance(50_000);
    idle.activity();
    clock.advance(50_000);
    expect(fired).toBe(0);
    clock.advance(10_000);
    expect(fired).toBe(1);
    expect(clock.pending()).toBe(0);
  });

  it('does not fire once stopped, and restarts with a new timeout', () => {
    const clock = fakeClock();
    let fired = 0;
    const idle = createIdleTimer(clock, () => fired++);
    idle.start(60_000);
    idle.stop();
    clock.advance(120_000);
    expect(fired).toBe(0);
    idle.start(1_000);
    idle.start(30_000);
    clock.advance(29_000);
    expect(fired).toBe(0);
    clock.advance(1_000);
    expect(fired).toBe(1);
  });
});
