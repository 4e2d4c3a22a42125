/** Stanza shapes we send and the small readers for what we receive (namespaces cited per XEP). */
import { xml, type XmlElement } from '@xmpp/client';
import { OX_NS, parseXmppDateTime } from '../crypto';

export const NS = {
  ox: OX_NS,
  hints: 'urn:xmpp:hints', // XEP-0334
  eme: 'urn:xmpp:eme:0', // XEP-0380
  sid: 'urn:xmpp:sid:0', // XEP-0359
  receipts: 'urn:xmpp:receipts', // XEP-0184
  markers: 'urn:xmpp:chat-markers:0', // XEP-0333
  carbons: 'urn:xmpp:carbons:2', // XEP-0280
  forward: 'urn:xmpp:forward:0', // XEP-0297
  delay: 'urn:xmpp:delay', // XEP-0203
  mam: 'urn:xmpp:mam:2', // XEP-0313
  rsm: 'http://jabber.org/protocol/rsm', // XEP-0059
  roster: 'jabber:iq:roster',
  offline: 'http://jabber.org/protocol/offline', // XEP-0013
} as const;

export const FALLBACK_BODY = 'This message is encrypted (OpenPGP for XMPP).';

/** XEP-0374 §2.1 + PROTOCOL.md "A message": store hint, EME and fallback body make Prosody archive it. */
export function oxMessage(to: string, originId: string, base64: string): XmlElement {
  return xml(
    'message',
    { to, type: 'chat', id: originId },
    xml('openpgp', { xmlns: NS.ox }, base64),
    xml('store', { xmlns: NS.hints }),
    xml('encryption', { xmlns: NS.eme, namespace: NS.ox }),
    xml('body', {}, FALLBACK_BODY),
    xml('origin-id', { xmlns: NS.sid, id: originId }),
    xml('request', { xmlns: NS.receipts }),
    xml('markable', { xmlns: NS.markers }),
  );
}

export const receiptFor = (to: string, id: string) =>
  xml(
    'message',
    { to, type: 'chat' },
    xml('received', { xmlns: NS.receipts, id }),
    xml('no-store', { xmlns: NS.hints }),
  );

export const displayedMarker = (to: string, id: string) =>
  xml('message', { to, type: 'chat' }, xml('displayed', { xmlns: NS.markers, id }), xml('store', { xmlns: NS.hints }));

export const bare = (jid: string | undefined): string => (jid ?? '').split('/')[0]!.toLowerCase();

export function originIdOf(m: XmlElement): string | null {
  const id = m.getChild('origin-id', NS.sid)?.attrs.id ?? m.attrs.id ?? null;
  return id && id.length <= 128 ? id : null;
}

/** The archive's id, only when our own server (`by` = our bare JID) stamped it (XEP-0359 §3.1). */
export function stanzaIdOf(m: XmlElement, ownBare: string): string | null {
  for (const s of m.getChildren('stanza-id', NS.sid)) if (bare(s.attrs.by) === ownBare && s.attrs.id) return s.attrs.id;
  return null;
}

/**
 * "From our own account" (RFC 6121 §2.1.6 roster pushes, XEP-0280 §11 carbons, XEP-0313 §5
 * archive results): no `from` at all, or exactly our bare JID. Another resource of the same
 * account is a client like any other and is not the server speaking for us.
 */
export function fromOwnAccount(from: string | undefined, ownBare: string): boolean {
  return from === undefined || from === '' || from.toLowerCase() === ownBare;
}

/**
 * XEP-0203 delay stamp, trusted only when our own server wrote it (issue 10 §4): `from` our domain
 * (offline storage) or our bare JID, or — for the `<forwarded/>` of an archive result, which only
 * our server sends us — no `from`. Clamped to `now`: the server never stores a message in the
 * future, and a peer that forged a stamp can move its message back, never ahead.
 */
export function serverStampOf(
  el: XmlElement | undefined,
  own: { bare: string; now: number; allowNoFrom?: boolean },
): Date | undefined {
  const domain = own.bare.slice(own.bare.indexOf('@') + 1);
  for (const d of el?.getChildren('delay', NS.delay) ?? []) {
    const from = (d.attrs.from ?? '').toLowerCase();
    const trusted = from === '' ? own.allowNoFrom === true : from === domain || from === own.bare;
    if (!trusted || !d.attrs.stamp) continue;
    // XEP-0203 §3: an XEP-0082 UTC DateTime. `new Date()` would also take '2026-11-28' or a
    // stamp without a zone, read in the workstation's local time.
    const stamp = parseXmppDateTime(d.attrs.stamp);
    if (!stamp) continue;
    return new Date(Math.min(stamp.getTime(), own.now));
  }
  return undefined;
}

/**
 * A MAM query (XEP-0313 §4) for `max` results after `after`. `start` (§4.1.1, an XEP-0082
 * DateTime) only for catch-up's count query, never its pages. `with` (§4.1.1): one
 * correspondent's messages; `lastPage`: the newest `max` (RSM §2.5, an empty <before/>) instead of
 * the oldest (admin-commands.ts).
 */
export function mamQuery(
  queryId: string,
  after: string | null,
  max: number,
  start?: string,
  filter: { with?: string; lastPage?: boolean } = {},
): XmlElement {
  const field = (name: string, value: string) => xml('field', { var: name }, xml('value', {}, value));
  return xml(
    'iq',
    { type: 'set' },
    xml(
      'query',
      { xmlns: NS.mam, queryid: queryId },
      xml(
        'x',
        { xmlns: 'jabber:x:data', type: 'submit' },
        xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS.mam)),
        filter.with ? field('with', filter.with) : null,
        start ? field('start', start) : null,
      ),
      xml(
        'set',
        { xmlns: NS.rsm },
        xml('max', {}, String(max)),
        after ? xml('after', {}, after) : null,
        filter.lastPage ? xml('before') : null,
      ),
    ),
  );
}
