// Issue 12: the user's own stricter notification setting wins over the policy; nothing once locked.
import { describe, expect, it } from 'vitest';
import type { NotificationPreview } from '../../common/ipc-contract';
import { notificationFor, stricterPreview } from '../../main/session/notifications';

const LEVELS: NotificationPreview[] = ['none', 'sender', 'full'];
const ask = (policyPreview: NotificationPreview, userPreview: NotificationPreview | null, locked = false) =>
  notificationFor({ policyPreview, userPreview, locked, senderName: () => 'Dr. Bob', body: 'lab results are in' });

describe('notification decision', () => {
  it('shows the stricter of the clinic policy and the user setting', () => {
    expect(ask('full', 'none')).toEqual({ title: 'New message', body: '' });
    expect(ask('full', 'sender')).toEqual({ title: 'Dr. Bob', body: '' });
    expect(ask('full', 'full')).toEqual({ title: 'Dr. Bob', body: 'lab results are in' });
    expect(ask('sender', 'full')).toEqual({ title: 'Dr. Bob', body: '' }); // a user cannot loosen the policy
    expect(ask('none', 'full')).toEqual({ title: 'New message', body: '' });
    for (const p of LEVELS) for (const u of LEVELS) expect(stricterPreview(p, u)).toBe(LEVELS[Math.min(LEVELS.indexOf(p), LEVELS.indexOf(u))]);
  });

  it("uses the policy's level when the session has no user setting to give", () => {
    expect(ask('full', null)).toEqual({ title: 'Dr. Bob', body: 'lab results are in' });
    expect(ask('none', null)).toEqual({ title: 'New message', body: '' });
  });

  it('shows nothing at all while locked, whatever the levels', () => {
    for (const p of LEVELS) for (const u of [...LEVELS, null]) expect(ask(p, u, true)).toBeNull();
  });

  it('does not look up the sender when it will not be shown', () => {
    let asked = 0;
    const senderName = () => `Dr. ${++asked}`;
    expect(notificationFor({ policyPreview: 'full', userPreview: 'none', locked: false, senderName, body: 'x' })).toEqual({ title: 'New message', body: '' });
    expect(notificationFor({ policyPreview: 'full', userPreview: 'full', locked: true, senderName, body: 'x' })).toBeNull();
    expect(asked).toBe(0);
  });
});
