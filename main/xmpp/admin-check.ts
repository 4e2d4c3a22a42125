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
import type { ServerConfig } from '../../common/contract/domain';
import { AppError } from '../../common/result';
import type { Clock } from '../clock';
import { errorName, type Logger } from '../log';
import { fetchAdminCommands, type AdminCommandText } from './admin-commands';
import { bare } from './stanzas';
import { isAccountRefusal } from './transport/classify-error';
import { createConnection } from './transport/connection';

/** A server that answers at all answers within this; one that does not must not hold the unlock longer. */
export const ADMIN_CHECK_LIMITS = { idleMs: 5_000, ceilingMs: 8_000, queryMs: 8_000 } as const;

export interface AdminCheckOptions {
  account: { jid: string; password: string; server: ServerConfig };
  /** CA PEMs beside the system store: the policy's and the session's, as messaging uses. */
  caPems: (string | null | undefined)[];
  /** Whose messages to look for; null: only sign in (does the server still accept the account?). */
  adminAccount: string | null;
  logger: Logger;
  /** The network's timers (default: the system clock), as MessagingOptions.transportClock. */
  clock?: Clock;
  /** Tests: a fixed resource name. */
  resource?: string;
}

export type AdminCheckResult =
  | { reached: true; commands: AdminCommandText[] }
  /** `refused`: the server itself said no to the account (below); anything else is the network or the server failing. */
  | { reached: false; code: string; refused: boolean };

export async function checkAdminCommands(opts: AdminCheckOptions): Promise<AdminCheckResult> {
  const ownJid = bare(opts.account.jid);
  let collect: ((el: XmlElement) => boolean) | null = null;
  const conn = createConnection({
    jid: ownJid,
    password: opts.account.password,
    ...opts.account.server,
    caPems: opts.caPems,
    resource: opts.resource,
    logger: opts.logger,
    clock: opts.clock,
    negotiation: { idleMs: ADMIN_CHECK_LIMITS.idleMs, ceilingMs: ADMIN_CHECK_LIMITS.ceilingMs },
    onState: () => undefined,
    onStanza: (el) => {
      collect?.(el);
    },
    onReady: () => undefined,
  });
  try {
    await conn.start();
    if (opts.adminAccount === null) return { reached: true, commands: [] };
    const query = fetchAdminCommands(conn, ownJid, {
      with: opts.adminAccount,
      timeoutMs: ADMIN_CHECK_LIMITS.queryMs,
    });
    collect = query.collect;
    return { reached: true, commands: await query.done };
  } catch (err) {
    const code = err instanceof AppError ? err.code : errorName(err);
    const refused = isAccountRefusal(err);
    opts.logger.warn('admin command check: server not reached', { code, refused });
    return { reached: false, code, refused };
  } finally {
    // A close that fails leaves nothing open worth reporting: the check's outcome is what counts.
    await conn.stop().catch(() => undefined);
  }
}
