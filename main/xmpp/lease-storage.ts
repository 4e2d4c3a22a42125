/**
 * The offline lease on the server (issue 15 item 3, PROTOCOL: docs/protocol.md "Offline lease"):
 * 32 random bytes kept in the account's private XML storage (XEP-0049),
 *   <query xmlns='jabber:iq:private'><lease xmlns='urn:clinic-messenger:lease:0'>BASE64</lease></query>
 * Only a session the server accepts can read it, so a disabled account gets no new lease. The
 * workstation creates it when the policy first asks for a lease and the account has none;
 * `clinic-admin lease revoke` removes it on the server.
 *
 * fetchLeaseOnce is the unlock's short connection when the cached lease has expired: like the
 * admin check (admin-check.ts) it sends no presence, so no message reaches this process before
 * the profile is open, and it never throws.
 */
import { xml } from '@xmpp/client';
import { withShortConnection, type ShortConnectionOptions } from './transport/short-connection';
import { bare } from './stanzas';
import type { XmppConnection } from './transport/connection';

export const NS_PRIVATE = 'jabber:iq:private';
export const NS_LEASE = 'urn:clinic-messenger:lease:0';
export const LEASE_BYTES = 32;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The element's bytes, or null when it is empty or not 32 bytes of base64 (a revoked or foreign value). */
export function parseLease(text: string): Buffer | null {
  const t = text.trim();
  if (!BASE64.test(t)) return null;
  const b = Buffer.from(t, 'base64');
  if (b.length === LEASE_BYTES) return b;
  b.fill(0);
  return null;
}

/** The account's lease secret, or null when it has none. Rejects when the server refuses the query. */
export async function readLease(conn: XmppConnection): Promise<Buffer | null> {
  // XEP-0049 §2.2: no `to`, the server answers for our own account.
  const res = await conn.iq(
    xml('iq', { type: 'get' }, xml('query', { xmlns: NS_PRIVATE }, xml('lease', { xmlns: NS_LEASE }))),
  );
  const el = res.getChild('query', NS_PRIVATE)?.getChild('lease', NS_LEASE);
  return el ? parseLease(el.getText()) : null;
}

/** Stores `lease` as the account's lease secret (replacing any). */
export async function writeLease(conn: XmppConnection, lease: Buffer): Promise<void> {
  await conn.iq(
    xml(
      'iq',
      { type: 'set' },
      xml('query', { xmlns: NS_PRIVATE }, xml('lease', { xmlns: NS_LEASE }, lease.toString('base64'))),
    ),
  );
}

export type LeaseFetchOptions = ShortConnectionOptions;

export type LeaseFetchResult =
  | { reached: true; lease: Buffer | null }
  /** `refused`: the server said no to the account (isAccountRefusal); anything else is the network. */
  | { reached: false; code: string; refused: boolean };

/** One short connection: sign in, read the lease, close. Never throws. */
export async function fetchLeaseOnce(opts: LeaseFetchOptions): Promise<LeaseFetchResult> {
  const r = await withShortConnection(
    { ...opts, account: { ...opts.account, jid: bare(opts.account.jid) } },
    'offline lease',
    readLease,
  );
  return r.reached ? { reached: true, lease: r.value } : r;
}
