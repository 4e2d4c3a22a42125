/**
 * One short connection for a check at unlock (remote-wipe commands, admin-check.ts; the offline
 * lease, lease-storage.ts): sign in without presence within the check's limits, do one thing,
 * close. Never throws: a server that refused the account (isAccountRefusal) is told apart from
 * one that was not reached.
 */
import type { XmlElement } from '@xmpp/client';
import type { ServerConfig } from '../../../common/contract/domain';
import { AppError } from '../../../common/result';
import type { Clock } from '../../clock';
import { errorName, type Logger } from '../../log';
import { isAccountRefusal } from './classify-error';
import { createConnection, type XmppConnection } from './connection';

/** A server that answers at all answers within this; one that does not must not hold the unlock longer. */
export const SHORT_CONNECTION_LIMITS = { idleMs: 5_000, ceilingMs: 8_000, queryMs: 8_000 } as const;

export interface ShortConnectionOptions {
  account: { jid: string; password: string; server: ServerConfig };
  /** CA PEMs beside the system store: the policy's and the session's, as messaging uses. */
  caPems: (string | null | undefined)[];
  logger: Logger;
  /** The network's timers (default: the system clock), as MessagingOptions.transportClock. */
  clock?: Clock;
  /** Tests: a fixed resource name. */
  resource?: string;
}

export type ShortConnectionResult<T> =
  | { reached: true; value: T }
  /** `refused`: the server itself said no to the account; anything else is the network or the server failing. */
  | { reached: false; code: string; refused: boolean };

/**
 * Signs in, runs `use`, closes. `onStanza` receives every inbound stanza while connected. `what`
 * names the check in the one log line a failure writes (never the account or anything it read).
 */
export async function withShortConnection<T>(
  opts: ShortConnectionOptions,
  what: string,
  use: (conn: XmppConnection) => Promise<T>,
  onStanza: (el: XmlElement) => void = () => undefined,
): Promise<ShortConnectionResult<T>> {
  const conn = createConnection({
    jid: opts.account.jid,
    password: opts.account.password,
    ...opts.account.server,
    caPems: opts.caPems,
    resource: opts.resource,
    logger: opts.logger,
    clock: opts.clock,
    negotiation: { idleMs: SHORT_CONNECTION_LIMITS.idleMs, ceilingMs: SHORT_CONNECTION_LIMITS.ceilingMs },
    onState: () => undefined,
    onStanza,
    onReady: () => undefined,
  });
  try {
    await conn.start();
    return { reached: true, value: await use(conn) };
  } catch (err) {
    const code = err instanceof AppError ? err.code : errorName(err);
    const refused = isAccountRefusal(err);
    opts.logger.warn(`${what}: server not reached`, { code, refused });
    return { reached: false, code, refused };
  } finally {
    // A close that fails leaves nothing open worth reporting: the check's outcome is what counts.
    await conn.stop().catch(() => undefined);
  }
}
