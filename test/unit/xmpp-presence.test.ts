// Issue 12 §7: the presence a person sets, on the wire (RFC 6121 <show/> and <status/>), and how a
// colleague's presence is read. The mapping is documented in docs/protocol.md.
import { xml } from '@xmpp/client';
import { describe, expect, it } from 'vitest';
import { STATUS_TEXT_MAX } from '../../common/contract/domain';
import { NS_DISCO_INFO } from '../../main/xmpp/caps';
import { cleanStatus, ownPresenceStanza, readPresence, WITH_A_PATIENT } from '../../main/xmpp/own-presence';

const shown = (p: Parameters<typeof ownPresenceStanza>[0]) => {
  const el = ownPresenceStanza(p);
  return { show: el.getChildText('show'), status: el.getChildText('status'), caps: el.getChild('c') !== undefined };
};

describe('our presence stanza', () => {
  it('maps each choice to show and status, always with our capabilities', () => {
    expect(shown({ show: 'available', status: '' })).toEqual({ show: null, status: null, caps: true });
    expect(shown({ show: 'available', status: 'Front desk' })).toEqual({
      show: null,
      status: 'Front desk',
      caps: true,
    });
    expect(shown({ show: 'patient', status: 'ignored' })).toEqual({ show: 'dnd', status: WITH_A_PATIENT, caps: true });
    expect(shown({ show: 'dnd', status: '' })).toEqual({ show: 'dnd', status: null, caps: true });
    expect(shown({ show: 'away', status: 'Back at 2 pm' })).toEqual({
      show: 'away',
      status: 'Back at 2 pm',
      caps: true,
    });
    expect(ownPresenceStanza({ show: 'away', status: '' }).attrs.type).toBeUndefined();
  });

  it('caps the status text and strips control characters', () => {
    expect(cleanStatus('a'.repeat(200))).toHaveLength(STATUS_TEXT_MAX);
    expect(cleanStatus(' Lunch\u0000\u0007 break\n ')).toBe('Lunch   break');
  });
});

describe("a colleague's presence", () => {
  const p = (...children: ReturnType<typeof xml>[]) => xml('presence', { from: 'bob@clinic.test/pc' }, ...children);

  it('reads dnd, away and xa, and everything else as available', () => {
    expect(readPresence(p())).toEqual({ presence: 'available', status: null });
    expect(readPresence(p(xml('show', {}, 'dnd'), xml('status', {}, WITH_A_PATIENT)))).toEqual({
      presence: 'dnd',
      status: WITH_A_PATIENT,
    });
    expect(readPresence(p(xml('show', {}, 'away')))).toEqual({ presence: 'away', status: null });
    expect(readPresence(p(xml('show', {}, 'xa'), xml('status', {}, 'Gone home')))).toEqual({
      presence: 'away',
      status: 'Gone home',
    });
    expect(readPresence(p(xml('show', {}, 'chat')))).toEqual({ presence: 'available', status: null });
    expect(readPresence(p(xml('query', { xmlns: NS_DISCO_INFO })))).toEqual({ presence: 'available', status: null });
  });

  it('caps a long status from the network', () => {
    expect(readPresence(p(xml('status', {}, 'x'.repeat(5000)))).status).toHaveLength(STATUS_TEXT_MAX);
  });
});
