import { xml } from '@xmpp/client';
import { describe, expect, it } from 'vitest';
import {
  CAPS_NODE,
  capsElement,
  capsHash,
  capsVer,
  discoInfo,
  FEATURES,
  keyListNoticeFrom,
  NS_PUBSUB_EVENT,
} from '../../main/xmpp/caps';

describe('entity capabilities (XEP-0115) and key-list notices', () => {
  it('computes the verification hash of XEP-0115 §5.2 (simple example)', () => {
    const features = [
      'http://jabber.org/protocol/muc',
      'http://jabber.org/protocol/disco#info',
      'http://jabber.org/protocol/caps',
      'http://jabber.org/protocol/disco#items',
    ];
    expect(capsHash({ category: 'client', type: 'pc', name: 'Exodus 0.9.1' }, features)).toBe(
      'QgayPKawpkPSDYmwT/WM94uAlu0=',
    );
  });

  it('advertises +notify for public-key lists, and answers disco#info only for its own node', () => {
    expect(FEATURES).toContain('urn:xmpp:openpgp:0:public-keys+notify');
    expect(capsElement().attrs).toMatchObject({ hash: 'sha-1', node: CAPS_NODE, ver: capsVer() });
    const node = `${CAPS_NODE}#${capsVer()}`;
    const answer = discoInfo(node)!;
    expect(answer.attrs.node).toBe(node);
    expect(answer.getChildren('feature').map((f) => f.attrs.var)).toEqual([...FEATURES]);
    expect(discoInfo(undefined)?.attrs.node).toBeUndefined();
    expect(discoInfo(`${CAPS_NODE}#forged`)).toBeNull();
  });

  const notice = (from: string | undefined, node = 'urn:xmpp:openpgp:0:public-keys') =>
    xml(
      'message',
      { ...(from ? { from } : {}), type: 'headline' },
      xml('event', { xmlns: NS_PUBSUB_EVENT }, xml('items', { node }, xml('item', { id: 'current' }))),
    );

  it('takes a notice only for the public-key list node, from another account, by its bare JID', () => {
    expect(keyListNoticeFrom(notice('Bob@Clinic.test/desk'), 'alice@clinic.test')).toBe('bob@clinic.test');
    expect(keyListNoticeFrom(notice('alice@clinic.test'), 'alice@clinic.test')).toBeNull(); // our own list
    expect(keyListNoticeFrom(notice('bob@clinic.test', 'urn:xmpp:avatar:metadata'), 'alice@clinic.test')).toBeNull();
    expect(keyListNoticeFrom(notice('clinic.test'), 'alice@clinic.test')).toBeNull(); // the server, not a person
    expect(keyListNoticeFrom(notice(undefined), 'alice@clinic.test')).toBeNull();
    expect(
      keyListNoticeFrom(xml('message', { from: 'bob@clinic.test' }, xml('body', {}, 'x')), 'alice@clinic.test'),
    ).toBeNull();
  });
});
