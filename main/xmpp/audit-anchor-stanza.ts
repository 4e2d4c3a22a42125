/**
 * Audit anchoring on the wire (issue 15 item 4; docs/protocol.md "Audit anchoring"). A workstation
 * sends each sealed batch (main/crypto/audit-anchor.ts) to the compliance account like an admin
 * command (admin-commands.ts): a `normal` message with no <body/>, a store hint so the compliance
 * account's archive (XEP-0313) keeps it until clinic-admin report reads it:
 *
 *   <message type='normal' to='compliance@clinic.example' id='anchor-…'>
 *     <audit-anchor xmlns='urn:clinic-messenger:audit-anchor:0'>-----BEGIN PGP MESSAGE-----…</audit-anchor>
 *     <store xmlns='urn:xmpp:hints'/>
 *   </message>
 *
 * Nothing in the clear says which workstation or batch it is: that is inside, signed.
 * clinic-admin imports this file (eslint.config.js: admin's paths) to read the archive.
 */
import { randomBytes } from 'node:crypto';
import { xml, type XmlElement } from '@xmpp/client';
import { MAX_ANCHOR_ARMOR_CHARS } from '../crypto/audit-anchor';
import type { XmppConnection } from './transport/connection';
import { bare, fromOwnAccount, mamQuery, NS } from './stanzas';

export const NS_AUDIT_ANCHOR = 'urn:clinic-messenger:audit-anchor:0';

export function auditAnchorStanza(to: string, armored: string): XmlElement {
  return xml(
    'message',
    { type: 'normal', to: bare(to), id: `anchor-${randomBytes(9).toString('base64url')}` },
    xml('audit-anchor', { xmlns: NS_AUDIT_ANCHOR }, armored),
    xml('store', { xmlns: NS.hints }),
  );
}

/** One archived batch as the compliance account's archive holds it. */
export interface ArchivedAnchor {
  /** The archive's id (XEP-0359 stanza-id of the result). */
  id: string;
  /** The sending account's bare JID, as the server stamped it. */
  from: string;
  /** The server's archive time (ISO), when it gives one. */
  stamp: string | null;
  armored: string;
}

/** The batch in an archive result (XEP-0313 <result/>), or null (other messages, oversized text). */
export function archivedAnchor(result: XmlElement): ArchivedAnchor | null {
  const forwarded = result.getChild('forwarded', NS.forward);
  const m = forwarded?.getChild('message');
  const el = m?.getChild('audit-anchor', NS_AUDIT_ANCHOR);
  if (!m || !el || m.attrs.type === 'error') return null;
  const armored = el.getText();
  if (armored.length > MAX_ANCHOR_ARMOR_CHARS) return null;
  return {
    id: String(result.attrs.id ?? ''),
    from: bare(String(m.attrs.from ?? '')),
    stamp: forwarded?.getChild('delay', NS.delay)?.attrs.stamp ?? null,
    armored,
  };
}

const PAGE = 100;

/**
 * Every batch in the account's archive, oldest first, paged (XEP-0059 `after`). Archive results come
 * as messages on the same connection: the caller's onStanza passes each to `collect`. Rejects on a
 * server error; stops after `maxPages` so a runaway archive cannot hold the CLI forever.
 */
export function fetchArchivedAnchors(
  conn: Pick<XmppConnection, 'iq'>,
  ownJid: string,
  opts: { maxPages?: number; timeoutMs?: number } = {},
): { collect: (el: XmlElement) => boolean; done: Promise<ArchivedAnchor[]> } {
  const found: ArchivedAnchor[] = [];
  let queryId = '';
  const collect = (el: XmlElement): boolean => {
    const result = el.getChild('result', NS.mam);
    if (!result || result.attrs.queryid !== queryId) return false;
    if (!fromOwnAccount(el.attrs.from, ownJid)) return true; // XEP-0313 §5: only our own server's results
    const a = archivedAnchor(result);
    if (a) found.push(a);
    return true;
  };
  const run = async (): Promise<ArchivedAnchor[]> => {
    let after: string | null = null;
    for (let page = 0; page < (opts.maxPages ?? 10_000); page++) {
      queryId = randomBytes(8).toString('hex');
      const res = await conn.iq(mamQuery(queryId, after, PAGE), opts.timeoutMs);
      const fin = res.getChild('fin', NS.mam);
      const last = fin?.getChild('set', NS.rsm)?.getChildText('last') ?? null;
      if (fin?.attrs.complete === 'true' || !last) return found;
      after = last;
    }
    return found;
  };
  return { collect, done: run() };
}
