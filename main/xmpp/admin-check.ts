/**
 * The unlock check (issue 15 item 2): after the passphrase is checked and before the inbox shows,
 * one short connection of its own asks the person's archive for the admin account's messages
 * (admin-commands.ts fetchAdminCommands) and closes. Its own connection, not messaging's: messaging
 * starts only once the session is unlocked, and this connection sends no presence, so the server
 * routes no messages to it — nothing with PHI reaches this process before the check is done.
 *
 * Never throws: a server that cannot be reached (or answers too slowly) is 'unreachable' and the
 * unlock goes on — a laptop that stays offline is the offline lease's case (issue 15 item 3).
 */
import type { XmlElement } from '@xmpp/client';
import { fetchAdminCommands, type AdminCommandText } from './admin-commands';
import { bare } from './stanzas';
import {
  SHORT_CONNECTION_LIMITS,
  withShortConnection,
  type ShortConnectionOptions,
} from './transport/short-connection';

/** The check's limits (the short connection's; `queryMs` bounds the archive query). */
export const ADMIN_CHECK_LIMITS = SHORT_CONNECTION_LIMITS;

export interface AdminCheckOptions extends ShortConnectionOptions {
  /** Whose messages to look for; null: only sign in (does the server still accept the account?). */
  adminAccount: string | null;
}

export type AdminCheckResult =
  | { reached: true; commands: AdminCommandText[] }
  /** `refused`: the server itself said no to the account (below); anything else is the network or the server failing. */
  | { reached: false; code: string; refused: boolean };

export async function checkAdminCommands(opts: AdminCheckOptions): Promise<AdminCheckResult> {
  const ownJid = bare(opts.account.jid);
  let collect: ((el: XmlElement) => boolean) | null = null;
  const r = await withShortConnection(
    { ...opts, account: { ...opts.account, jid: ownJid } },
    'admin command check',
    async (conn) => {
      if (opts.adminAccount === null) return [];
      const query = fetchAdminCommands(conn, ownJid, {
        with: opts.adminAccount,
        timeoutMs: ADMIN_CHECK_LIMITS.queryMs,
      });
      collect = query.collect;
      return query.done;
    },
    (el) => {
      collect?.(el);
    },
  );
  return r.reached ? { reached: true, commands: r.value } : r;
}
