/**
 * Our own name as the clinic directory has it (issue 12 §5), so colleagues, the lock screen and
 * the nav rail show the same name and first run need not ask for it. The shared roster names every
 * colleague but never the owner (Prosody's mod_groups leaves the account itself out of its roster),
 * so one's own name comes from the account's vCard FN, set by IT at provisioning (XEP-0054
 * vcard-temp, which Prosody's mod_vcard_legacy serves from the XEP-0292 vCard4 node).
 */
import { xml } from '@xmpp/client';
import type { XmppConnection } from './transport/connection';

const NS_VCARD = 'vcard-temp';
/** The contract's limit for a display name (vault:createProfile). */
const MAX_NAME = 100;

/** The vCard's FN, trimmed; null when the account has none (or the server refuses the query). */
export async function fetchOwnName(c: XmppConnection): Promise<string | null> {
  let res;
  try {
    // XEP-0054 §3.1: no `to`, so the server answers for our own account.
    res = await c.iq(xml('iq', { type: 'get' }, xml('vCard', { xmlns: NS_VCARD })));
  } catch {
    // item-not-found (no vCard yet) and a server without vCard support both mean: no name here.
    return null;
  }
  const fn = (res.getChild('vCard', NS_VCARD)?.getChildText('FN') ?? '').replace(/\s+/g, ' ').trim();
  return fn ? fn.slice(0, MAX_NAME) : null;
}
