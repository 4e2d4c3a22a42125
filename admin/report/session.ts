/**
 * One short signed-in session of the compliance account for `clinic-admin report` and
 * `publish-key`: the app's hardened transport (TLS required, the clinic CA, SCRAM only), no
 * presence (the server routes no messages here, only answers), closed when `work` ends.
 */
import type { XmlElement } from '@xmpp/client';
import type { XmppConnection } from '../../main/xmpp/transport/connection';
import { openAdminSession, type SendTarget } from '../send';

export async function withSession<T>(
  as: string,
  password: string,
  target: SendTarget,
  work: (conn: XmppConnection, via: string, onStanza: (f: (el: XmlElement) => void) => void) => Promise<T>,
  /** What did not happen when the sign-in fails, e.g. "no report was written". */
  nothing = 'nothing was done',
): Promise<T> {
  let handler: (el: XmlElement) => void = () => undefined;
  const { conn, via } = await openAdminSession(as, password, target, (el) => handler(el), nothing);
  try {
    return await work(conn, via, (f) => {
      handler = f;
    });
  } finally {
    await conn.stop();
  }
}
