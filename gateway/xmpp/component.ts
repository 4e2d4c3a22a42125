/**
 * The gateway as an XMPP component of the clinic's server (XEP-0114, issue 17 item 1): it connects
 * to Prosody's component port with the shared secret, answers the app's <send/> IQs (only from
 * accounts of the staff domain) and disco#info, and sends state changes to the staff account.
 * @xmpp/component reconnects on its own after a drop.
 */
import { component, xml, type Component } from '@xmpp/component';
import { randomUUID } from 'node:crypto';
import type { GatewayConfig } from '../config';
import { errorName, type Logger } from '../log';
import type { GatewayService, StateChange } from '../service';
import { NS, parseSend, refusalError, sentElement, stateMessage } from './protocol';

const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';

export interface GatewayComponent {
  /** Resolves once the handshake succeeded. */
  start(): Promise<void>;
  stop(): Promise<void>;
  notify(change: StateChange): void;
}

export function createGatewayComponent(
  config: GatewayConfig['xmpp'],
  service: () => GatewayService,
  log: Logger,
): GatewayComponent {
  const xmpp: Component = component({
    service: `xmpp://${config.host}:${config.port}`,
    domain: config.domain,
    password: config.secret,
  });
  xmpp.on('error', (err: unknown) => log('warn', 'xmpp-error', { error: errorName(err) }));
  xmpp.on('online', () => log('info', 'xmpp-online', {}));
  xmpp.on('offline', () => log('info', 'xmpp-offline', {}));

  xmpp.iqCallee.get(NS_DISCO_INFO, 'query', () =>
    xml(
      'query',
      { xmlns: NS_DISCO_INFO },
      xml('identity', { category: 'gateway', type: 'sms', name: 'Clinic patient gateway' }),
      xml('feature', { var: NS }),
      xml('feature', { var: NS_DISCO_INFO }),
    ),
  );

  xmpp.iqCallee.set(NS, 'send', async ({ element, from }) => {
    const staff = from.bare();
    if (staff.domain !== config.staffDomain || !staff.local) {
      log('warn', 'send-forbidden', {});
      return refusalError('forbidden', 'only clinic staff accounts may send through the gateway');
    }
    const req = parseSend(element, staff.toString());
    if ('problem' in req) return refusalError('bad-request', req.problem);
    const out = await service().send(req);
    if (!out.ok) return refusalError(out.reason, out.detail, out.id);
    return sentElement({ ...out, patientJid: `${out.patient}@${config.domain}` });
  });

  let pending: Promise<unknown> = Promise.resolve();
  return {
    async start() {
      await xmpp.start();
    },
    async stop() {
      await pending;
      xmpp.reconnect.stop();
      await xmpp.stop();
    },
    notify(change) {
      // In order, one after another; a failure is logged (the app can also ask again later).
      pending = pending
        .then(() => xmpp.send(stateMessage(change, config.domain, randomUUID())))
        .catch((err: unknown) => log('warn', 'notify-failed', { id: change.id, error: errorName(err) }));
    },
  };
}
