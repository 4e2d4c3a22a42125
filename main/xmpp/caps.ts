/**
 * Live key-change notices (XEP-0373 §4.4 via XEP-0163 "+notify"): we advertise
 * `urn:xmpp:openpgp:0:public-keys+notify` in our entity capabilities (XEP-0115), so the server
 * pushes a colleague's public-key list to us whenever they publish a new one — and the newest one
 * when we come online. Without it a changed key was seen only on connect or after a bad signature.
 *
 * A notice is only a hint: trust.refresh() fetches the key from PEP itself, validates it and runs
 * the usual pin / key-changed flow. So a forged or stale notice can at most cause a re-fetch.
 */
import { createHash } from 'node:crypto';
import { xml, type XmlElement } from '@xmpp/client';
import { MDS_NS } from '../crypto/read-sync';
import { KEYS_LIST_NODE } from './pep-keys';
import { bare, NS } from './stanzas';

const NS_CAPS = 'http://jabber.org/protocol/caps';
export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
export const NS_PUBSUB_EVENT = 'http://jabber.org/protocol/pubsub#event';
/** XEP-0115 §4: a URI that names this software. */
export const CAPS_NODE = 'https://clinic-messenger.invalid/caps';

const IDENTITY = { category: 'client', type: 'pc', name: 'Clinic Messenger' } as const;
/** What this client understands (disco#info), sorted as XEP-0115 §5.1 requires for the hash. */
export const FEATURES: readonly string[] = [
  NS_CAPS,
  NS_DISCO_INFO,
  NS.carbons,
  NS.eme,
  NS.hints,
  NS.markers,
  NS.ox,
  `${KEYS_LIST_NODE}+notify`,
  // XEP-0490 §5: our other workstations' read state, live (read-sync.ts).
  `${MDS_NS}+notify`,
  NS.receipts,
  NS.sid,
  'urn:xmpp:ping',
].sort();

/** XEP-0115 §5.1 for one identity without xml:lang and no extended forms: SHA-1, base64. */
export function capsHash(
  identity: { category: string; type: string; name: string },
  features: readonly string[],
): string {
  const s = `${identity.category}/${identity.type}//${identity.name}<${[...features]
    .sort()
    .map((f) => `${f}<`)
    .join('')}`;
  return createHash('sha1').update(s, 'utf8').digest('base64');
}

export const capsVer = (): string => capsHash(IDENTITY, FEATURES);

/** The <c/> element for our presence. */
export function capsElement(): XmlElement {
  return xml('c', { xmlns: NS_CAPS, hash: 'sha-1', node: CAPS_NODE, ver: capsVer() });
}

/** The disco#info answer (XEP-0030 §3.1), for our bare query and for `<node>#<ver>` (XEP-0115 §6.2). */
export function discoInfo(queriedNode: string | undefined): XmlElement | null {
  if (queriedNode !== undefined && queriedNode !== `${CAPS_NODE}#${capsVer()}`) return null;
  return xml(
    'query',
    { xmlns: NS_DISCO_INFO, ...(queriedNode ? { node: queriedNode } : {}) },
    xml('identity', { ...IDENTITY }),
    ...FEATURES.map((f) => xml('feature', { var: f })),
  );
}

/**
 * The colleague whose public-key list a PEP notice announces, or null when `el` is not such a
 * notice. Only the bare JID the server stamped on it is used (a sender can only speak for itself).
 */
export function keyListNoticeFrom(el: XmlElement, ownJid: string): string | null {
  if (el.name !== 'message') return null;
  const items = el.getChild('event', NS_PUBSUB_EVENT)?.getChild('items');
  if (items?.attrs.node !== KEYS_LIST_NODE) return null;
  const from = bare(el.attrs.from);
  if (!from || from === ownJid || !from.includes('@')) return null;
  return from;
}
