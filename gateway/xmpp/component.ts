/**
 * The gateway as an XMPP component of the clinic's server (XEP-0114, issue 17 item 1): it connects
 * to Prosody's component port with the shared secret, answers the app's <send/> IQs (only from
 * accounts of the staff domain) and disco#info, and sends state changes to the staff account.
 * Sends are handled side by side, but one at a time per phone number and per request id
 * (one-at-a-time.ts): the frequency cap and the "request seen before" answer hold under a burst.
 * @xmpp/component reconnects on its own after a drop.
 */
import { component, xml, type Component } from '@xmpp/component';
import { randomUUID } from 'node:crypto';
import type { GatewayConfig } from '../config';
import { keyedQueue } from '../one-at-a-time';
import { errorName, type Logger } from '../log';
import type { GatewayService, ReplyDelivery, StateChange } from '../service';
import { NS, parsePlainSend, parseSend, refusalError, replyMessage, sentElement, stateMessage } from './protocol';

const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';

export interface GatewayComponent {
  /** Resolves once the handshake succeeded. */
  start(): Promise<void>;
  stop(): Promise<void>;
  notify(change: StateChange): void;
  /** Sends a patient's reply; resolves once it is written to the server. */
  deliverReply(reply: ReplyDelivery): Promise<void>;
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
  xmpp.on('online', () => {
    log('info', 'xmpp-online', {});
    // Replies stored while the connection was down go now; a failure stays stored for the next time.
    void service()
      .redeliverReplies()
      .catch((err: unknown) => log('warn', 'reply-redelivery-failed', { error: errorName(err) }));
  });
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

  const serial = keyedQueue();
  xmpp.iqCallee.set(NS, 'send', async ({ element, from }) => {
    const staff = from.bare();
    if (staff.domain !== config.staffDomain || !staff.local) {
      log('warn', 'send-forbidden', {});
      return refusalError('forbidden', 'only clinic staff accounts may send through the gateway');
    }
    if (element.attrs.mode === 'plain-sms') {
      const plain = parsePlainSend(element, staff.toString());
      if ('problem' in plain) return refusalError('bad-request', plain.problem);
      const out = await serial([`phone ${plain.phone}`, `request ${plain.staffJid} ${plain.requestId}`], () =>
        service().sendPlain(plain),
      );
      if (!out.ok) return refusalError(out.reason, out.detail, out.id);
      return sentElement({ ...out, patientJid: `${out.patient}@${config.domain}` });
    }
    const req = parseSend(element, staff.toString());
    if ('problem' in req) return refusalError('bad-request', req.problem);
    const out = await serial([`phone ${req.phone}`, `request ${req.staffJid} ${req.requestId}`], () =>
      service().send(req),
    );
    if (!out.ok) return refusalError(out.reason, out.detail, out.id);
    return sentElement({ ...out, patientJid: `${out.patient}@${config.domain}` });
  });

  let pending: Promise<unknown> = Promise.resolve();
  return {
    async start() {
      // @xmpp reconnects forever on its own; at start a refusal (wrong secret, no component port)
      // must instead fail the start, so the CLI exits and says why.
      let onError: (err: unknown) => void = () => {};
      const refused = new Promise<never>((_, reject) => {
        onError = (err) => reject(new Error(startFailure(err, config)));
        xmpp.on('error', onError);
      });
      try {
        await Promise.race([xmpp.start(), refused]);
      } catch (err) {
        xmpp.reconnect.stop();
        // Best effort: the connection is already refused or closed; the start failure is what matters.
        await xmpp.stop().catch(() => undefined);
        throw err;
      } finally {
        xmpp.off('error', onError);
      }
    },
    async stop() {
      await pending;
      xmpp.reconnect.stop();
      await xmpp.stop();
    },
    deliverReply(reply) {
      const sent = pending.then(() => xmpp.send(replyMessage(reply, config.domain)));
      // The chain goes on whatever happened to this one; the caller gets the failure.
      pending = sent.catch(() => undefined);
      return sent;
    },
    notify(change) {
      // In order, one after another; a failure is logged (the app can also ask again later).
      pending = pending
        .then(() => xmpp.send(stateMessage(change, config.domain, randomUUID())))
        .catch((err: unknown) => log('warn', 'notify-failed', { id: change.id, error: errorName(err) }));
    },
  };
}

/** Why the component could not come online, in words (never the secret). */
function startFailure(err: unknown, config: GatewayConfig['xmpp']): string {
  const where = `${config.host}:${config.port}`;
  const condition = (err as { condition?: unknown }).condition;
  if (condition === 'not-authorized')
    return `the XMPP server at ${where} refused the component ${config.domain}: xmpp.secret differs from Prosody's component_secret`;
  if (typeof condition === 'string')
    return `the XMPP server at ${where} refused the component ${config.domain} (${condition})`;
  const code = (err as NodeJS.ErrnoException).code;
  return `cannot reach the XMPP server's component port at ${where} (${code ?? errorName(err)})`;
}
