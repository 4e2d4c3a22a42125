// Issue 12: the user's own stricter notification setting wins over the policy; nothing once locked.
import { describe, expect, it } from 'vitest';
import type { Message, NotificationPreview } from '../../common/ipc-contract';
import { createEventBus } from '../../main/events';
import { silentLogger } from '../../main/log';
import {
  messagingHooks,
  notificationFor,
  stricterPreview,
  type NotificationGate,
} from '../../main/session/notifications';
import type { Store } from '../../main/store';
import { replyOutcome } from '../../main/xmpp/patient-conversations';

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
    for (const p of LEVELS)
      for (const u of LEVELS)
        expect(stricterPreview(p, u)).toBe(LEVELS[Math.min(LEVELS.indexOf(p), LEVELS.indexOf(u))]);
  });

  it("uses the policy's level when the session has no user setting to give", () => {
    expect(ask('full', null)).toEqual({ title: 'Dr. Bob', body: 'lab results are in' });
    expect(ask('none', null)).toEqual({ title: 'New message', body: '' });
  });

  it('shows nothing at all while locked, whatever the levels', () => {
    for (const p of LEVELS) for (const u of [...LEVELS, null]) expect(ask(p, u, true)).toBeNull();
  });

  it('says "Sent an attachment" for a message with a file where the sender is shown, never more', () => {
    const withFile = (policyPreview: NotificationPreview, body: string, locked = false) =>
      notificationFor({
        policyPreview,
        userPreview: null,
        locked,
        senderName: () => 'Dr. Bob',
        body,
        hasAttachment: () => true,
      });
    expect(withFile('none', 'wound photo')).toEqual({ title: 'New message', body: '' });
    expect(withFile('sender', 'wound photo')).toEqual({ title: 'Dr. Bob', body: 'Sent an attachment' });
    expect(withFile('full', '')).toEqual({ title: 'Dr. Bob', body: 'Sent an attachment' });
    expect(withFile('full', 'the wound today')).toEqual({
      title: 'Dr. Bob',
      body: 'Sent an attachment: the wound today',
    });
    expect(withFile('full', 'x', true)).toBeNull();
    // Not asked where it would not be shown.
    let asked = 0;
    const hasAttachment = () => (asked++, true);
    notificationFor({
      policyPreview: 'none',
      userPreview: null,
      locked: false,
      senderName: () => '',
      body: '',
      hasAttachment,
    });
    notificationFor({
      policyPreview: 'full',
      userPreview: null,
      locked: true,
      senderName: () => '',
      body: '',
      hasAttachment,
    });
    expect(asked).toBe(0);
  });

  it('does not look up the sender when it will not be shown', () => {
    let asked = 0;
    const senderName = () => `Dr. ${++asked}`;
    expect(
      notificationFor({ policyPreview: 'full', userPreview: 'none', locked: false, senderName, body: 'x' }),
    ).toEqual({ title: 'New message', body: '' });
    expect(
      notificationFor({ policyPreview: 'full', userPreview: 'full', locked: true, senderName, body: 'x' }),
    ).toBeNull();
    expect(asked).toBe(0);
  });
});

describe('what the session hands its messaging service (messagingHooks)', () => {
  it('turns a live message into the decided notification, with the gate read when it arrives', () => {
    let gate: NotificationGate = { locked: false, userPreview: 'sender' };
    const events = createEventBus(silentLogger);
    const shown: { name: string; payload: unknown }[] = [];
    events.subscribe((name, payload) => shown.push({ name, payload }));
    // Only the contact lookup is used (the sender's name); the rest of the store is not touched.
    const store = {
      contacts: { get: (jid: string) => (jid === 'bob@clinic.test' ? { displayName: 'Dr. Bob' } : undefined) },
      attachments: { byMessage: (id: string) => (id === 'm-file' ? { id: 'a1' } : undefined) },
    } as unknown as Store;
    const hooks = messagingHooks(() => gate, {
      policy: { notificationPreview: 'full', urgentBypassesDnd: true },
      store,
      events,
    });
    const m = { conversationId: 'c1', body: 'lab results are in' } as Message;

    expect(hooks.locked()).toBe(false);
    hooks.onLiveMessage(m, 'bob@clinic.test');
    gate = { locked: false, userPreview: 'full' };
    hooks.onLiveMessage(m, 'carol@clinic.test');
    expect(shown).toEqual([
      { name: 'notification:shown', payload: { conversationId: 'c1', title: 'Dr. Bob', body: '' } },
      {
        name: 'notification:shown',
        payload: { conversationId: 'c1', title: 'carol@clinic.test', body: 'lab results are in' },
      },
    ]);

    // A message with a file: its attachment row (written with the message) makes it "Sent an attachment".
    hooks.onLiveMessage({ ...m, id: 'm-file', body: '' }, 'bob@clinic.test');
    expect(shown[2]).toEqual({
      name: 'notification:shown',
      payload: { conversationId: 'c1', title: 'Dr. Bob', body: 'Sent an attachment' },
    });

    gate = { locked: true, userPreview: null };
    expect(hooks.locked()).toBe(true);
    hooks.onLiveMessage(m, 'bob@clinic.test');
    expect(shown).toHaveLength(3);
  });

  it("a patient's reply (issue 17) notifies under the same preview rules, titled as a patient", () => {
    let gate: NotificationGate = { locked: false, userPreview: 'sender' };
    const events = createEventBus(silentLogger);
    const shown: unknown[] = [];
    events.subscribe((name, payload) => shown.push({ name, payload }));
    const hooks = messagingHooks(() => gate, {
      policy: { notificationPreview: 'full', urgentBypassesDnd: true },
      store: {} as Store,
      events,
    });
    const reply = { conversationId: 'patient:+15550100001', patientName: 'Ana Silva', body: 'Thank you!' };
    hooks.onPatientReply(reply);
    gate = { locked: false, userPreview: 'full' };
    hooks.onPatientReply(reply);
    gate = { locked: false, userPreview: 'none' };
    hooks.onPatientReply(reply);
    expect(shown).toEqual([
      {
        name: 'notification:shown',
        payload: { conversationId: reply.conversationId, title: 'Ana Silva (patient)', body: '' },
      },
      {
        name: 'notification:shown',
        payload: { conversationId: reply.conversationId, title: 'Ana Silva (patient)', body: 'Thank you!' },
      },
      { name: 'notification:shown', payload: { conversationId: reply.conversationId, title: 'New message', body: '' } },
    ]);
    // Muted, under Do not disturb, or locked: nothing.
    gate = { locked: false, userPreview: 'full', muted: (id) => id === reply.conversationId };
    hooks.onPatientReply(reply);
    gate = { locked: false, userPreview: 'full', dnd: true };
    hooks.onPatientReply(reply);
    gate = { locked: true, userPreview: 'full' };
    hooks.onPatientReply(reply);
    expect(shown).toHaveLength(3);
  });
});

// Issue 12 §7: Do not disturb, muted conversations and Urgent messages, within policy.
describe('notification decision under Do not disturb, mute and Urgent', () => {
  const base = {
    policyPreview: 'sender' as const,
    userPreview: null,
    locked: false,
    senderName: () => 'Dr. Bob',
    body: 'x',
  };

  it('a normal message does not notify under Do not disturb or in a muted conversation', () => {
    expect(notificationFor({ ...base, dnd: true })).toBeNull();
    expect(notificationFor({ ...base, conversationMuted: true })).toBeNull();
    expect(notificationFor({ ...base, dnd: false, conversationMuted: false })).toEqual({ title: 'Dr. Bob', body: '' });
  });

  it('an urgent one still notifies, marked urgent, unless the policy says it must not', () => {
    for (const quiet of [{ dnd: true }, { conversationMuted: true }, { dnd: true, conversationMuted: true }]) {
      expect(notificationFor({ ...base, ...quiet, urgent: true })).toEqual({
        title: 'Dr. Bob',
        body: '',
        urgent: true,
      });
      expect(notificationFor({ ...base, ...quiet, urgent: true, urgentBypassesDnd: true })).toMatchObject({
        urgent: true,
      });
      expect(notificationFor({ ...base, ...quiet, urgent: true, urgentBypassesDnd: false })).toBeNull();
    }
    // Not quiet: urgent notifies whatever the policy says, and the policy's preview level still holds.
    expect(notificationFor({ ...base, urgent: true, urgentBypassesDnd: false, policyPreview: 'none' })).toEqual({
      title: 'New urgent message',
      body: '',
      urgent: true,
    });
  });

  it('never shows anything while locked, urgent or not', () => {
    expect(notificationFor({ ...base, locked: true, urgent: true, dnd: true })).toBeNull();
    expect(notificationFor({ ...base, locked: true, urgent: true })).toBeNull();
  });

  it('is silent when the person turned sounds off', () => {
    expect(notificationFor({ ...base, sound: false })).toEqual({ title: 'Dr. Bob', body: '', silent: true });
    expect(notificationFor({ ...base, sound: true })).toEqual({ title: 'Dr. Bob', body: '' });
  });

  it('messagingHooks reads Do not disturb, the muted list and the urgent flag when a message arrives', () => {
    let gate: NotificationGate = { locked: false, userPreview: 'sender', dnd: true, muted: () => false };
    const events = createEventBus(silentLogger);
    const shown: unknown[] = [];
    events.subscribe((name, payload) => {
      if (name === 'notification:shown') shown.push(payload);
    });
    const store = {
      contacts: { get: () => ({ displayName: 'Dr. Bob' }) },
      attachments: { byMessage: () => undefined },
    } as unknown as Store;
    const hooks = messagingHooks(() => gate, {
      policy: { notificationPreview: 'full', urgentBypassesDnd: true },
      store,
      events,
    });
    const normal = { conversationId: 'c1', body: 'b' } as Message;
    const urgent = { ...normal, urgent: true } as Message;
    hooks.onLiveMessage(normal, 'bob@clinic.test');
    hooks.onLiveMessage(urgent, 'bob@clinic.test');
    gate = { locked: false, userPreview: 'sender', dnd: false, muted: (id) => id === 'c1' };
    hooks.onLiveMessage(normal, 'bob@clinic.test');
    hooks.onLiveMessage({ ...normal, conversationId: 'c2' }, 'bob@clinic.test');
    expect(shown).toEqual([
      { conversationId: 'c1', title: 'Dr. Bob', body: '', urgent: true },
      { conversationId: 'c2', title: 'Dr. Bob', body: '' },
    ]);
  });
});

describe('a care-team room message that mentions us (issue 18 §4)', () => {
  const BODY = 'Mrs Lee in room 2 needs her INR checked';
  const mention = (policyPreview: NotificationPreview, o: Partial<Parameters<typeof notificationFor>[0]> = {}) =>
    notificationFor({
      policyPreview,
      userPreview: null,
      locked: false,
      senderName: () => 'Dr. Bob',
      roomName: () => 'Ward 3 care team',
      body: BODY,
      mention: true,
      ...o,
    });

  it('says no more than the preview policy allows: no text below full, no name at none', () => {
    expect(mention('none')).toEqual({ title: 'New mention', body: '', mention: true });
    expect(mention('sender')).toEqual({ title: 'Dr. Bob', body: 'Mentioned you', mention: true });
    expect(mention('full')).toEqual({ title: 'Dr. Bob in Ward 3 care team', body: BODY, mention: true });
    // The person's own stricter setting wins, as for every message.
    expect(mention('full', { userPreview: 'none' })).toEqual({ title: 'New mention', body: '', mention: true });
    for (const level of ['none', 'sender'] as const) {
      const n = mention(level)!;
      expect(`${n.title} ${n.body}`).not.toContain('INR');
      expect(`${n.title} ${n.body}`).not.toContain('Ward 3');
    }
  });

  it('a file whose caption mentions us says so where the sender is shown, the text only at full', () => {
    const withFile = { hasAttachment: () => true };
    expect(mention('none', withFile)).toEqual({ title: 'New mention', body: '', mention: true });
    expect(mention('sender', withFile)).toEqual({
      title: 'Dr. Bob',
      body: 'Mentioned you with an attachment',
      mention: true,
    });
    expect(mention('full', withFile)).toEqual({
      title: 'Dr. Bob in Ward 3 care team',
      body: `Sent an attachment: ${BODY}`,
      mention: true,
    });
  });

  it('notifies in a muted room, never under Do not disturb or while locked', () => {
    expect(mention('sender', { conversationMuted: true })).toEqual({
      title: 'Dr. Bob',
      body: 'Mentioned you',
      mention: true,
    });
    expect(mention('sender', { conversationMuted: true, mention: false })).toBeNull();
    expect(mention('sender', { dnd: true })).toBeNull();
    expect(mention('full', { locked: true })).toBeNull();
  });

  it('messagingHooks titles a room message by its real sender, never the room, and reads the mention', () => {
    const events = createEventBus(silentLogger);
    const shown: unknown[] = [];
    events.subscribe((name, payload) => {
      if (name === 'notification:shown') shown.push(payload);
    });
    const names: Record<string, string> = { 'bob@clinic.test': 'Dr. Bob' };
    const store = {
      contacts: { get: (jid: string) => (names[jid] ? { displayName: names[jid] } : undefined) },
      rooms: { get: () => ({ name: 'Ward 3 care team' }) },
      attachments: { byMessage: () => undefined },
    } as unknown as Store;
    const hooks = messagingHooks(() => ({ locked: false, userPreview: null, muted: (id) => id === 'room' }), {
      policy: { notificationPreview: 'sender', urgentBypassesDnd: true },
      store,
      events,
    });
    const inRoom = { conversationId: 'room', body: BODY, senderJid: 'bob@clinic.test' } as Message;
    hooks.onLiveMessage(inRoom, 'ward3@rooms.clinic.test'); // muted, no mention: nothing
    hooks.onLiveMessage({ ...inRoom, mentionsMe: true }, 'ward3@rooms.clinic.test');
    expect(shown).toEqual([{ conversationId: 'room', title: 'Dr. Bob', body: 'Mentioned you', mention: true }]);
  });

  it('a patient reply to the conversation in view is read at once with no notification; elsewhere it notifies', () => {
    // Issue 17: conversations:view covers patient conversations as it does chats.
    expect(replyOutcome({ locked: false, inView: true })).toBe('read');
    expect(replyOutcome({ locked: false, inView: false })).toBe('notify');
    // Locked: it waits unread, and nothing is shown (inView is false while locked anyway).
    expect(replyOutcome({ locked: true, inView: false })).toBe('quiet');
    expect(replyOutcome({ locked: true, inView: true })).toBe('quiet');
  });
});
