/**
 * The server's offline storage during a fresh session's setup (issue 13 item 4, PROTOCOL.md
 * "Connecting"). Our presence goes out as soon as the archive catch-up has its first page, so a
 * colleague's new message arrives live while the rest of the catch-up runs. Presence would also
 * release the offline flood: every message stored while we were away, pushed again beside the
 * archive's copies.
 * - Prosody holds the flood back for a session that has queried the archive (mod_mam): nothing to do.
 * - ejabberd floods anyway. It offers flexible offline retrieval (XEP-0013): a disco#info query
 *   of our account's `offline` node before presence holds the flood back (§2.2). Once the
 *   catch-up is done we fetch what offline storage holds (§2.6: anything the archive did not keep
 *   arrives then, as the flood would have brought it; the rest are copies the receive path drops
 *   before decrypting) and purge it (§2.7), as the flood would have emptied it.
 */
import { xml, type XmlElement } from '@xmpp/client';
import { errorName } from '../log';
import type { MessagingContext } from './context';
import { NS_DISCO_INFO } from './disco';
import { NS } from './stanzas';
import type { XmppConnection } from './transport/connection';

/** XEP-0013 §2.2: disco#info of the account's `offline` node (the server's answer also counts what it holds). */
export function offlineInfoQuery(ownJid: string): XmlElement {
  return xml('iq', { type: 'get', to: ownJid }, xml('query', { xmlns: NS_DISCO_INFO, node: NS.offline }));
}

/**
 * Before presence: true when the server holds the offline flood back for this session (it answered
 * the `offline` node, XEP-0013 §2.2); false when it does not offer XEP-0013 (Prosody).
 */
export async function holdOfflineFlood(ctx: MessagingContext, c: XmppConnection): Promise<boolean> {
  try {
    const res = await c.iq(offlineInfoQuery(ctx.ownJid));
    const query = res.getChild('query', NS_DISCO_INFO);
    return query?.getChildren('feature').some((f) => f.attrs.var === NS.offline) ?? false;
  } catch {
    return false; // item-not-found / service-unavailable: no flexible offline retrieval
  }
}

/**
 * After the catch-up, on a server that held the flood back: what offline storage holds comes now
 * (§2.6), then it is emptied (§2.7). Failures are logged; the next session does the same.
 */
export async function releaseOfflineStorage(ctx: MessagingContext, c: XmppConnection): Promise<void> {
  const offline = (type: 'get' | 'set', what: 'fetch' | 'purge') =>
    c.iq(xml('iq', { type, to: ctx.ownJid }, xml('offline', { xmlns: NS.offline }, xml(what))));
  try {
    await offline('get', 'fetch');
    await offline('set', 'purge');
  } catch (err) {
    ctx.opts.logger.warn('xmpp: offline storage not released', { error: errorName(err) });
  }
}
