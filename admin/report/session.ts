/**
 * One short signed-in session of the compliance account for `clinic-admin report` and
 * `publish-key`: the app's hardened transport (TLS required, the clinic CA, SCRAM only), no
 * presence (the server routes no messages here, only answers), closed when `work` ends.
 */
import { randomBytes } from 'node:crypto';
import type { XmlElement } from '@xmpp/client';
import { createConnection, type XmppConnection } from '../../main/xmpp/transport/connection';
import { CliError } from '../errors';
import { signInFailure, type SendTarget } from '../send';

export async function withSession<T>(
  as: string,
  password: string,
  target: SendTarget,
  work: (conn: XmppConnection, via: string, onStanza: (f: (el: XmlElement) => void) => void) => Promise<T>,
  /** What did not happen when the sign-in fails, e.g. "no report was written". */
  nothing = 'nothing was done',
): Promise<T> {
  const domain = as.split('@')[1] ?? '';
  const host = target.host ?? domain;
  const port = target.port ?? (target.tls === 'direct' ? 5223 : 5222);
  const via = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  let handler: (el: XmlElement) => void = () => undefined;
  const conn = createConnection({
    jid: as,
    password,
    host,
    port,
    tls: target.tls,
    caPems: target.caPems,
    resource: `clinic-admin-${randomBytes(4).toString('hex')}`,
    // The transport logs metadata only; the CLI reports outcomes itself.
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    onState: () => {},
    onStanza: (el) => handler(el),
    onReady: () => {},
  });
  try {
    try {
      await conn.start();
    } catch (err) {
      throw new CliError(signInFailure(err, as, via).message.replace('nothing was sent', nothing));
    }
    return await work(conn, via, (f) => {
      handler = f;
    });
  } finally {
    await conn.stop();
  }
}
