/**
 * Admin commands on the wire (issue 15 item 2; docs/protocol.md "Admin commands"). The signed
 * command file (main/crypto/admin-command.ts) travels as the text of one element in a message
 * from the policy's admin account to the person's bare JID:
 *
 *   <message type='normal' to='alice@clinic.example' id='…'>
 *     <admin-command xmlns='urn:clinic-messenger:admin:0'>-----BEGIN PGP PUBLIC KEY BLOCK…</admin-command>
 *     <store xmlns='urn:xmpp:hints'/>
 *   </message>
 *
 * The store hint (XEP-0334) puts it in the person's archive (XEP-0313), so every workstation of
 * the account finds it: live when connected, in catch-up after a gap, and at unlock through
 * fetchAdminCommands (a query of the archive WITH the admin account, so a weekend of messages is
 * not fetched before the inbox shows). No <body/>: clients that are not ours show nothing.
 *
 * This file only carries text. Whether it is genuine and meant for this workstation is decided
 * by main/session/remote-wipe.ts, which never trusts the sender's address alone.
 */
import { randomUUID } from 'node:crypto';
import { xml, type XmlElement } from '@xmpp/client';
import { MAX_ADMIN_COMMAND_CHARS } from '../crypto/admin-command';
import type { XmppConnection } from './transport/connection';
import { bare, fromOwnAccount, mamQuery, NS } from './stanzas';

export const NS_ADMIN = 'urn:clinic-messenger:admin:0';

/** Where a command was found: live stream (or a carbon), catch-up's archive pages, or the unlock check. */
export type AdminCommandVia = 'live' | 'archive' | 'unlock';

/** An admin command as found in a stanza: its text (unverified) and the sender's bare JID. */
export interface AdminCommandText {
  text: string;
  from: string;
}

/** The stanza clinic-admin sends (`id` defaults to a random UUID). */
export function adminCommandStanza(to: string, text: string, id: string = randomUUID()): XmlElement {
  return xml(
    'message',
    { type: 'normal', to: bare(to), id },
    xml('admin-command', { xmlns: NS_ADMIN }, text),
    xml('store', { xmlns: NS.hints }),
  );
}

/** The command in a <message/> itself (not in a wrapper), or null. Oversized text is cut short, never copied whole. */
export function adminCommandIn(m: XmlElement | undefined): AdminCommandText | null {
  if (m?.name !== 'message' || m.attrs.type === 'error' || m.attrs.type === 'groupchat') return null;
  const el = m.getChild('admin-command', NS_ADMIN);
  if (!el) return null;
  const text = el.getText();
  // Over the limit: verification refuses it as malformed without reading it (a few bytes more say so).
  return {
    text: text.length > MAX_ADMIN_COMMAND_CHARS ? text.slice(0, MAX_ADMIN_COMMAND_CHARS + 1) : text,
    from: bare(m.attrs.from),
  };
}

/**
 * A command in a live stanza: the message itself, or the message a genuine carbon (XEP-0280,
 * `received`, from our own bare JID) forwards. A carbon from anyone else is ignored here; inbound.ts
 * audits it as a forged carbon.
 */
export function liveAdminCommand(el: XmlElement, ownJid: string): AdminCommandText | null {
  const carbon = el.getChild('received', NS.carbons);
  if (carbon) {
    if (!fromOwnAccount(el.attrs.from, ownJid)) return null;
    return adminCommandIn(carbon.getChild('forwarded', NS.forward)?.getChild('message'));
  }
  return adminCommandIn(el);
}

/** The command in an archive result (XEP-0313 <result/>), or null. */
export function archivedAdminCommand(result: XmlElement): AdminCommandText | null {
  return adminCommandIn(result.getChild('forwarded', NS.forward)?.getChild('message'));
}

/** At most this many archived commands are read at unlock: a flood cannot hold the unlock. */
const MAX_FETCHED = 50;

/**
 * The admin account's newest messages in the person's archive, oldest first: one MAM query
 * (XEP-0313 §4.1.1 `with`) for the last page (XEP-0059 §2.5, an empty <before/>) of at most
 * MAX_FETCHED results. No `start`: the archive's times are the server's and the profile's are this
 * PC's, and the two clocks need not agree; every expired command is refused by its own signed
 * expiry anyway. Archive results come as
 * messages on the same connection: the caller's onStanza passes each to `collect` (it returns
 * true for ours). Rejects on a server error or timeout; the caller decides what offline means.
 */
export function fetchAdminCommands(
  conn: Pick<XmppConnection, 'iq'>,
  ownJid: string,
  query: { with: string; timeoutMs?: number },
): { collect: (el: XmlElement) => boolean; done: Promise<AdminCommandText[]> } {
  const queryId = randomUUID();
  const found: AdminCommandText[] = [];
  const collect = (el: XmlElement): boolean => {
    const result = el.getChild('result', NS.mam);
    if (!result || result.attrs.queryid !== queryId) return false;
    // XEP-0313 §5: results come from our own server (our bare JID, or no from at all).
    if (!fromOwnAccount(el.attrs.from, ownJid)) return true;
    const cmd = archivedAdminCommand(result);
    if (cmd && found.length < MAX_FETCHED) found.push(cmd);
    return true;
  };
  const iq = mamQuery(queryId, null, MAX_FETCHED, undefined, { with: bare(query.with), lastPage: true });
  // The <fin/> comes after every result of the page (XEP-0313 §4.2): what was collected is complete.
  const done = conn.iq(iq, query.timeoutMs).then(() => found);
  return { collect, done };
}
