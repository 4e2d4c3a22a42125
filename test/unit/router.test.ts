/**
 * The IPC router (ARCHITECTURE.md §3): every channel refuses malformed input with BAD_INPUT
 * before any handler runs; unknown channels, the lock, handler errors and bad handler output
 * all come back as typed errors.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { channelNames, channels, type ChannelName } from '../../common/ipc-contract';
import { AppError } from '../../common/result';
import { createRouter, inspectPayload, type HandlerMap } from '../../main/ipc/router';
import { silentLogger } from '../../main/log';

const jid = 'alice@clinic.example';
const fpr = 'A'.repeat(40);
const profileId = 'abcdef12-3456';

/** One valid input per channel: the positive control that makes each BAD_INPUT meaningful. Add one with every new channel. */
const validInputs: Record<string, unknown> = {
  'app:info': null,
  'app:activity': null,
  'app:connection': null,
  'app:updateStatus': null,
  'vault:status': null,
  'vault:listProfiles': null,
  'vault:createProfile': {
    jid,
    displayName: 'Alice',
    xmppPassword: 'pw',
    passphrase: 'correct horse battery',
    server: {},
    policyAcknowledged: true,
  },
  'vault:unlock': { profileId, passphrase: 'correct horse battery' },
  'vault:lock': { reason: 'manual' },
  'vault:switchUser': null,
  'vault:removeProfile': { profileId },
  'vault:changePassphrase': { current: 'a', next: 'b' },
  'account:me': null,
  'account:keyBackup': { passphrase: 'correct horse battery' },
  'conversations:list': { cursor: null, limit: 10 },
  'conversations:open': { peerJid: jid },
  'conversations:markRead': { conversationId: 'c1', upTo: 'm1' },
  'conversations:markUnread': { conversationId: 'c1', from: 'm1' },
  'conversations:view': { conversationId: 'c1' },
  'rooms:create': { name: 'Ward 3', members: ['bob@clinic.example'] },
  'messages:page': { conversationId: 'c1', before: null, limit: 10 },
  'messages:around': { conversationId: 'c1', messageId: 'm1', limit: 10 },
  'messages:send': { conversationId: 'c1', body: 'hello' },
  'messages:retry': { messageId: 'm1' },
  'messages:edit': { messageId: 'm1', body: 'corrected' },
  'messages:delete': { messageId: 'm1' },
  'attachments:send': {
    conversationId: 'c1',
    body: 'the scan',
    file: { name: 'scan.pdf', mediaType: 'application/pdf', data: new Uint8Array([0x25, 0x50]) },
  },
  'attachments:list': { conversationId: 'c1' },
  'attachments:download': { attachmentId: 'a1' },
  'attachments:cancel': { attachmentId: 'a1' },
  'attachments:read': { attachmentId: 'a1' },
  'attachments:export': { attachmentId: 'a1' },
  'attachments:openExternally': { attachmentId: 'a1' },
  'attachments:dragOut': { attachmentId: 'a1' },
  'drafts:get': { conversationId: 'c1' },
  'drafts:set': { conversationId: 'c1', text: 'half a sentence' },
  'patients:send': {
    patientName: 'Maria Lopez',
    phone: '+15551230000',
    dob: '1984-02-29',
    text: 'Your results are in.',
    smsTemplate: 'Your clinic sent you a secure message: {link}',
  },
  'patients:list': null,
  'patients:thread': { phone: '+15551230000' },
  'patients:markRead': { phone: '+15551230000' },
  'patients:sendInThread': {
    phone: '+15551230000',
    text: 'Your results are normal.',
    smsTemplate: 'Your clinic sent you a secure message: {link}',
  },
  'patients:import': { csv: new TextEncoder().encode('first name,last name,phone,dob\n'), skipRefused: false },
  'patients:directory': null,
  'patients:templates': null,
  'patients:saveTemplate': {
    id: null,
    name: 'Recall',
    body: 'Hello {firstName}',
    smsText: 'Your clinic sent you a secure message: {link}',
  },
  'patients:deleteTemplate': { id: 't1' },
  'patients:plainSmsRequests': null,
  'patients:recordPlainSmsRequest': { patientId: 'p1', reference: 'Signed form in the chart' },
  'patients:withdrawPlainSmsRequest': { patientId: 'p1' },
  'patients:sendPlainSms': { patientId: 'p1', text: 'Your results are normal.', warningConfirmed: true },
  'patients:sendSegment': { templateId: 't1', patientIds: ['p1'], clinicName: 'Northside Clinic' },
  'patients:segments': null,
  'messages:search': { query: 'x', cursor: null },
  'contacts:directory': null,
  'contacts:get': { jid },
  'contacts:verify': { jid, fingerprint: fpr },
  'contacts:acceptKeyChange': { jid, fingerprint: fpr },
  'contacts:safetyNumber': { jid, fingerprint: fpr },
  'settings:get': null,
  'settings:update': { theme: 'dark' },
  'policy:get': null,
  'audit:list': { before: null },
  'audit:verify': null,
  'audit:exportCsv': null,
  'audit:anchoring': null,
};

const HUGE = 'x'.repeat(2_000_000);

/** Malformed variants of a channel's input; each must be refused. */
function malformed(channel: ChannelName): [string, () => unknown][] {
  const valid = validInputs[channel];
  const out: [string, () => unknown][] = [
    ['a number', () => 42],
    ['a huge string', () => HUGE],
    ['a function-like string', () => 'constructor'],
    ['an array', () => [valid]],
    [
      'prototype pollution (__proto__)',
      () =>
        JSON.parse(
          `{"__proto__": {"polluted": true}${valid && typeof valid === 'object' ? `, ${JSON.stringify(valid).slice(1, -1)}` : ''}}`,
        ),
    ],
    [
      'prototype pollution (constructor.prototype)',
      () => ({ ...(valid as object), constructor: { prototype: { polluted: true } } }),
    ],
    ['deep nesting', () => JSON.parse('{"a":'.repeat(64) + '1' + '}'.repeat(64))],
  ];
  if (valid === null) {
    out.push(['an object instead of null', () => ({})], ['undefined (missing)', () => undefined]);
  } else {
    out.push(
      ['null instead of an object', () => null],
      ['a string instead of an object', () => 'hello'],
      ['an extra huge string field', () => ({ ...(valid as object), extra: HUGE })],
    );
    if (!channels[channel].input.safeParse({}).success) out.push(['missing fields', () => ({})]);
    // Every string field, one at a time: wrong type, and far over any limit.
    for (const [key, value] of Object.entries(valid as object)) {
      if (typeof value === 'string') {
        out.push([`${key} as a number`, () => ({ ...(valid as object), [key]: 7 })]);
        out.push([`${key} as a huge string`, () => ({ ...(valid as object), [key]: 'y'.repeat(100_000) })]);
      }
    }
  }
  return out;
}

function spyHandlers(): { handlers: HandlerMap; spies: Map<string, ReturnType<typeof vi.fn>> } {
  const spies = new Map<string, ReturnType<typeof vi.fn>>();
  const handlers: Record<string, unknown> = {};
  for (const name of channelNames) {
    const spy = vi.fn(() => null);
    spies.set(name, spy);
    handlers[name] = spy;
  }
  return { handlers: handlers as HandlerMap, spies };
}

let locked = false;
let spies: Map<string, ReturnType<typeof vi.fn>>;
let router: ReturnType<typeof createRouter>;
beforeEach(() => {
  locked = false;
  const made = spyHandlers();
  spies = made.spies;
  router = createRouter({ handlers: made.handlers, isLocked: () => locked, logger: silentLogger });
});

describe('valid inputs (positive control)', () => {
  it('has a valid sample for every contract channel', () => {
    expect(Object.keys(validInputs).sort()).toEqual([...channelNames].sort());
  });

  for (const channel of channelNames) {
    it(`${channel} passes its valid sample to its own handler only`, async () => {
      await router.dispatch(channel, validInputs[channel]);
      expect(spies.get(channel)).toHaveBeenCalledTimes(1);
      for (const [name, spy] of spies) if (name !== channel) expect(spy).not.toHaveBeenCalled();
    });
  }
});

describe('malformed input is refused on every channel', () => {
  for (const channel of channelNames) {
    it(`${channel}: BAD_INPUT and no handler runs`, async () => {
      for (const [label, make] of malformed(channel)) {
        const answer = await router.dispatch(channel, make());
        expect(answer, `${channel} with ${label}`).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
        // The error never echoes the payload.
        if (!answer.ok) expect(answer.error.message.length, label).toBeLessThan(2000);
      }
      for (const spy of spies.values()) expect(spy).not.toHaveBeenCalled();
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  }
});

describe('dispatch errors', () => {
  it('answers UNKNOWN_CHANNEL for names outside the contract, including Object.prototype members', async () => {
    for (const name of [
      'nope:nope',
      'app:',
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      'APP:INFO',
      42,
      null,
      undefined,
      { name: 'app:info' },
    ]) {
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- the label names the hostile value, objects too
      expect(await router.dispatch(name, null), String(name)).toMatchObject({
        ok: false,
        error: { code: 'UNKNOWN_CHANNEL' },
      });
    }
    for (const spy of spies.values()) expect(spy).not.toHaveBeenCalled();
  });

  it('answers LOCKED on every channel not marked whileLocked, and lets the others through', async () => {
    locked = true;
    for (const channel of channelNames) {
      const answer = await router.dispatch(channel, validInputs[channel]);
      const whileLocked = 'whileLocked' in channels[channel] && channels[channel].whileLocked === true;
      if (whileLocked) expect(spies.get(channel), channel).toHaveBeenCalled();
      else {
        expect(answer, channel).toMatchObject({ ok: false, error: { code: 'LOCKED' } });
        expect(spies.get(channel), channel).not.toHaveBeenCalled();
      }
    }
    expect(channels['vault:unlock'].whileLocked).toBe(true);
    expect('whileLocked' in channels['messages:send']).toBe(false);
  });

  it("returns a thrown AppError's code, message and details", async () => {
    spies.get('vault:unlock')!.mockImplementation(() => {
      throw new AppError('THROTTLED', 'Wait before trying again.', { retryAfterMs: 4000 });
    });
    expect(await router.dispatch('vault:unlock', validInputs['vault:unlock'])).toEqual({
      ok: false,
      error: { code: 'THROTTLED', message: 'Wait before trying again.', details: { retryAfterMs: 4000 } },
    });
    spies.get('messages:send')!.mockRejectedValue(new AppError('KEY_CHANGED', 'Key changed.'));
    expect(await router.dispatch('messages:send', validInputs['messages:send'])).toMatchObject({
      ok: false,
      error: { code: 'KEY_CHANGED' },
    });
  });

  it('hides other errors behind INTERNAL without leaking their message', async () => {
    spies.get('account:me')!.mockImplementation(() => {
      throw new Error('secret detail /home/alice/profile');
    });
    const answer = await router.dispatch('account:me', null);
    expect(answer).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    expect(JSON.stringify(answer)).not.toContain('secret detail');
  });

  it('validates handler output: a wrong shape is INTERNAL, a right one is returned parsed', async () => {
    spies.get('app:info')!.mockReturnValue({ name: 'x' });
    expect(await router.dispatch('app:info', null)).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    spies
      .get('app:info')!
      .mockReturnValue({ name: 'Clinic Messenger', version: '1', platform: 'linux', harness: false, leaked: 'x' });
    expect(await router.dispatch('app:info', null)).toEqual({
      ok: true,
      value: { name: 'Clinic Messenger', version: '1', platform: 'linux', harness: false },
    });
    spies.get('app:activity')!.mockReturnValue(undefined);
    expect(await router.dispatch('app:activity', null)).toEqual({ ok: true, value: null });
  });

  it('passes parsed input (defaults applied) to the handler', async () => {
    await router.dispatch('conversations:list', { cursor: null });
    expect(spies.get('conversations:list')).toHaveBeenCalledWith({ cursor: null, limit: 50 });
  });

  it('refuses to build a router with a channel left unhandled', () => {
    const { handlers } = spyHandlers();
    delete (handlers as Partial<HandlerMap>)['audit:verify'];
    expect(() => createRouter({ handlers, isLocked: () => false, logger: silentLogger })).toThrow(/audit:verify/);
  });
});

describe('inspectPayload', () => {
  it('accepts ordinary payloads, including the largest legitimate message', () => {
    expect(inspectPayload(null)).toBeNull();
    expect(inspectPayload({ conversationId: 'c', body: 'z'.repeat(8000) })).toBeNull();
  });
  it('names what is wrong without echoing the value', () => {
    expect(inspectPayload(JSON.parse('{"a":{"__proto__":{}}}'))).toBe('forbidden key __proto__');
    expect(inspectPayload({ prototype: 1 })).toBe('forbidden key prototype');
    expect(inspectPayload(['q'.repeat(300_000)])).toBe('input is too large');
  });
  it('counts bytes like text, unless the channel allows a file of them (attachments:send)', () => {
    const file = { data: new Uint8Array(300_000) };
    expect(inspectPayload(file)).toBe('input is too large');
    expect(inspectPayload(file, 300_000)).toBeNull();
    expect(inspectPayload(file, 299_999)).toBe('input is too large');
    expect(inspectPayload({ body: 'q'.repeat(300_000), file }, 1_000_000)).toBe('input is too large');
  });
});
