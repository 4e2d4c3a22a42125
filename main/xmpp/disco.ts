/**
 * Finding a service of the clinic's server by service discovery (XEP-0030): the domain's items,
 * then each item's info, until one is what the caller looks for (the HTTP upload service,
 * upload-slot.ts; the patient gateway, patient-gateway.ts). An item that answers its info query
 * with an error is not it; a server with more items than MAX_ITEMS is not searched further.
 */
import { xml, type XmlElement } from '@xmpp/client';

export const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';
export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const MAX_ITEMS = 32;

export type IqCall = (el: XmlElement) => Promise<XmlElement>;

const condition = (err: unknown): unknown => (err as { condition?: unknown } | null)?.condition;

/** The first item of `domain` whose disco#info <query/> `pick` turns into a result, or null. */
export async function findService<T>(
  iq: IqCall,
  domain: string,
  pick: (jid: string, info: XmlElement) => T | null,
): Promise<T | null> {
  const res = await iq(xml('iq', { type: 'get', to: domain }, xml('query', { xmlns: NS_DISCO_ITEMS })));
  const items = (res.getChild('query', NS_DISCO_ITEMS)?.getChildren('item') ?? [])
    .map((i) => i.attrs.jid)
    .filter((j): j is string => typeof j === 'string' && j.length > 0)
    .slice(0, MAX_ITEMS);
  for (const jid of items) {
    let info: XmlElement;
    try {
      info = await iq(xml('iq', { type: 'get', to: jid }, xml('query', { xmlns: NS_DISCO_INFO })));
    } catch (err) {
      if (typeof condition(err) === 'string') continue; // an item without info for us
      throw err;
    }
    const query = info.getChild('query', NS_DISCO_INFO);
    const found = query ? pick(jid, query) : null;
    if (found !== null) return found;
  }
  return null;
}
