/**
 * The messaging service's lifecycle: start (our key, the decrypt workers, the outbox timer, the
 * connection), reconnect with backoff while the server cannot be reached, and stop — reconnecting
 * stops first (PROTOCOL.md), then the stream closes, inbound messages finish storing and the
 * decrypt workers close. A first run fails instead of retrying: the person at the form is told why.
 */
import { xml } from '@xmpp/client';
import { AppError } from '../../common/result';
import { backoffMs } from '../backoff';
import { every } from '../clock';
import type { AccountKey } from './account-key';
import { discoInfo, NS_DISCO_INFO } from './caps';
import type { MessagingContext } from './context';
import type { DecryptService } from './decrypt';
import type { Directory } from './directory';
import type { Outbox } from './outbox';
import type { SessionSetup } from './session-setup';
import type { StanzaRouter } from './stanza-router';
import { NS } from './stanzas';
import { isAccountRefusal } from './transport/classify-error';
import { createConnection, type XmppConnection } from './transport/connection';
import type { StartOptions } from './types';

export interface LifecycleDeps {
  ctx: MessagingContext;
  accountKey: AccountKey;
  directory: Directory;
  decryption: DecryptService;
  outbox: Outbox;
  setup: SessionSetup;
  stanzas: StanzaRouter;
}

export function createLifecycle({ ctx, accountKey, directory, decryption, outbox, setup, stanzas }: LifecycleDeps) {
  const { opts, net } = ctx;
  const { events, logger, policy } = opts;
  let conn: XmppConnection | null = null;
  let stopped = false;
  let startTimer: unknown = null;
  let stopOutboxTimer: (() => void) | null = null;

  function makeConnection(): XmppConnection {
    const { account, metrics } = opts;
    const c = createConnection({
      jid: ctx.ownJid,
      password: account.password,
      host: account.server.host,
      port: account.server.port,
      tls: account.server.tls,
      alternates: account.server.alternates,
      caPems: [policy.trustedCaPem, opts.tls?.ca],
      resource: opts.resource,
      logger,
      reconnect: opts.reconnect,
      clock: net,
      onState: (state, detail, error) => {
        if (state !== 'online') directory.clearPresence();
        events.emit('connection:state', { state, detail });
        // The server refused this account (it signed in before): the session's decision (wipeOnAccountDisabled).
        if (error && isAccountRefusal(error)) opts.onAccountRefused?.();
      },
      onStanza: stanzas.onStanza,
      onReady: (resumed) => {
        if (!conn) return;
        setup.ready(conn, resumed);
        // Every connection, fresh or resumed: the session renews the offline lease (issue 15 item 3).
        opts.onConnected?.(conn);
      },
      ...(metrics?.inboundData ? { onInboundData: metrics.inboundData.bind(metrics) } : {}),
    });
    c.client.iqCallee.set(NS.roster, 'query', ({ stanza }) => directory.handleRosterPush(stanza));
    // XEP-0115 §6.2: the server asks what `<node>#<ver>` means before it sends +notify events.
    c.client.iqCallee.get(
      NS_DISCO_INFO,
      'query',
      ({ element }) =>
        discoInfo(element.attrs.node) ??
        xml('error', { type: 'cancel' }, xml('item-not-found', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' })),
    );
    return c;
  }

  async function connectLoop(firstRun: boolean, attempt: number): Promise<void> {
    if (stopped) return;
    conn ??= makeConnection();
    try {
      await conn.start();
    } catch (err) {
      const e = err instanceof AppError ? err : new AppError('NOT_CONNECTED', 'Cannot reach the messaging server.');
      if (firstRun || e.code !== 'NOT_CONNECTED' || stopped) throw e;
      const delay = backoffMs(attempt, {
        baseMs: opts.reconnect?.baseMs ?? 1_000,
        maxMs: 60_000,
        maxExponent: 6,
        jitter: 'equal',
      });
      // Each attempt schedules the next; one that throws (stopped, or not a network error) ends the retries.
      startTimer = net.setTimeout(() => void connectLoop(false, attempt + 1).catch(() => undefined), delay);
    }
  }

  return {
    conn: (): XmppConnection | null => conn,
    /** True from stop() on: nothing more reaches the renderer. */
    stopped: (): boolean => stopped,
    async start(o?: StartOptions): Promise<void> {
      stopped = false;
      setup.begin(o);
      // A first run settles the key once connected (accountKey.settle); otherwise it is the stored one.
      if (!o?.firstRun) await accountKey.ensure();
      // Start the decrypt workers while TLS + SCRAM run: catch-up should not wait for them. Without
      // them decryption runs on this thread (decrypt.ts), and the session setup asks again.
      void decryption.start().catch(() => undefined);
      // flush() logs its own failures; the next tick tries again.
      stopOutboxTimer ??= every(net, 2_000, () => void outbox.flush());
      await connectLoop(o?.firstRun === true, 0);
      if (o?.firstRun) await setup.finishFirstRun();
    },
    async stop(): Promise<void> {
      stopped = true;
      if (startTimer !== null) net.clearTimeout(startTimer);
      stopOutboxTimer?.();
      startTimer = stopOutboxTimer = null;
      outbox.stopped();
      const c = conn;
      conn = null;
      await c?.stop();
      await stanzas.drained();
      await decryption.close();
    },
  };
}
