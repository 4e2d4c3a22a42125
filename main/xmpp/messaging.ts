/**
 * Composition of the messaging service: connection → (fresh session) carbons, roster, presence,
 * key publication, catch-up, outbox; (resumed session) outbox only. See index.ts for the map.
 */
import { availableParallelism } from 'node:os';
import { xml, type XmlElement } from '@xmpp/client';
import type { Contact, Message } from '../../common/contract/domain';
import { AppError } from '../../common/result';
import { backoffMs } from '../backoff';
import { every, systemClock } from '../clock';
import { errorName } from '../log';
import { createDecryptPool, openSigncrypt, SigncryptRejectedError, type DecryptJob, type DecryptPool, type Identity, type OpenedSigncrypt } from '../crypto';
import { createAccountKey } from './account-key';
import { capsElement, discoInfo, keyListNoticeFrom, NS_DISCO_INFO, NS_PUBSUB_EVENT } from './caps';
import { createCatchUp } from './catch-up';
import { createConnection, type XmppConnection } from './connection';
import { notificationFor } from '../session/notifications';
import type { MessagingContext } from './context';
import { createDirectory } from './directory';
import { createInbound } from './inbound';
import { createReceiver } from './receive';
import { createOutbox } from './outbox';
import { announcedKeys } from './pep-keys';
import { bare, displayedMarker, NS } from './stanzas';
import { createTrust } from './trust';
import type { Messaging, MessagingOptions, StartOptions } from './types';

export function createMessaging(opts: MessagingOptions): Messaging {
  const { store, audit, events, logger, clock, policy } = opts;
  const ownJid = bare(opts.account.jid);
  // Federation is off (deploy/): colleagues are on the policy's server domain, else on ours.
  const allowedDomain = (policy.server?.domain ?? ownJid.slice(ownJid.indexOf('@') + 1)).toLowerCase();
  const accountKey = createAccountKey({ store, audit, ownJid });
  let conn: XmppConnection | null = null;
  let pool: Promise<DecryptPool> | null = null;
  let stopped = false;
  const net = opts.transportClock ?? systemClock;
  let startTimer: unknown = null;
  let stopOutboxTimer: (() => void) | null = null;
  let inboundChain: Promise<void> = Promise.resolve();
  /** The current fresh session's setup (carbons, roster, key publication, catch-up). */
  let sessionSetup: Promise<void> = Promise.resolve();
  /** First run: how to settle the account key (start options), and why it could not be settled. */
  let firstRun: StartOptions | null = null;
  let identityError: AppError | null = null;

  const ctx: MessagingContext = {
    opts,
    net,
    ownJid,
    trust: null as unknown as MessagingContext['trust'],
    conn: () => conn,
    identity: () => accountKey.current(),
    emitMessage: (m: Message, isNew: boolean) => {
      if (!quiet()) events.emit(isNew ? 'message:received' : 'message:updated', m);
    },
    notify: (m, peer) => notify(m, peer),
    decrypt: (job) => decryptOne(job),
    peerAllowed: (jid: string) => jid.slice(jid.indexOf('@') + 1) === allowedDomain,
    emitConversation(id: string) {
      if (quiet()) return;
      const s = store.conversations.summary(id);
      if (s) events.emit('conversation:updated', { ...s, presence: directory.presenceOf(s.peerJid) });
    },
  };
  const directory = createDirectory(ctx);
  ctx.trust = createTrust({ store, audit, events, logger, clock, conn: () => conn, presenceOf: (j) => directory.presenceOf(j) });
  const receiver = createReceiver(ctx);
  const inbound = createInbound(ctx, receiver);
  const outbox = createOutbox(ctx);
  const decryptPool = (): Promise<DecryptPool> => {
    const id = accountKey.current();
    if (!id) return Promise.reject(new Error('no identity'));
    pool ??= Promise.resolve().then(() => {
      try {
        return createDecryptPool({ identity: id, size: availableParallelism() });
      } catch (err) {
        logger.warn('xmpp: decrypt worker pool unavailable; decrypting on this thread', { error: errorName(err) });
        return createDecryptPool({ identity: id, mode: 'inline' });
      }
    });
    return pool;
  };
  const catchUp = createCatchUp({ ctx, receiver });
  /** Live and catch-up alike: on the worker pool once it exists, else (or if it fails) on this thread. */
  async function decryptOne(job: DecryptJob): Promise<OpenedSigncrypt> {
    const id = accountKey.current();
    if (!id) throw new SigncryptRejectedError('decrypt-failed', 'no identity loaded');
    await opts.inspect?.beforeDecrypt?.(job);
    const ready = pool ? await pool.catch(() => null) : null;
    if (ready) {
      try {
        return await ready.open(job);
      } catch (err) {
        if (err instanceof SigncryptRejectedError) throw err;
        logger.warn('xmpp: decrypt pool failed; decrypting on this thread', { error: errorName(err) });
      }
    }
    return openSigncrypt({ identity: id, ...job });
  }

  /**
   * Once the session locks (or we stop), messages still on their way in are stored — nothing is
   * lost — but neither they nor previews reach the renderer: it holds no PHI while locked.
   */
  function quiet(): boolean {
    return stopped || (opts.notificationGate?.().locked ?? false);
  }

  function notify(m: Message, peer: string) {
    // The decision is main/session/notifications.ts: stricter of policy and user, nothing once locked.
    const gate = opts.notificationGate?.() ?? { locked: false, userPreview: null };
    const shown = notificationFor({
      locked: stopped || gate.locked,
      userPreview: gate.userPreview,
      policyPreview: policy.notificationPreview,
      senderName: () => store.contacts.get(peer)?.displayName ?? peer,
      body: m.body ?? '',
    });
    if (shown) events.emit('notification:shown', { conversationId: m.conversationId, ...shown });
  }

  /**
   * A colleague published a public-key list (caps.ts). Re-fetch only when it does not announce
   * exactly the key we pinned — the server also replays the newest list when we come online.
   */
  function onKeyListNotice(jid: string, el: XmlElement) {
    const c = store.contacts.get(jid);
    if (!c?.fingerprint) return; // nothing pinned yet: pinned on first use, as before
    const announced = (el.getChild('event', NS_PUBSUB_EVENT)?.getChild('items')?.getChildren('item') ?? []).flatMap((i) =>
      announcedKeys(i.getChild('public-keys-list', NS.ox)).map((k) => k.fpr),
    );
    const unchanged = announced.length === 1 && announced[0] === c.fingerprint && (c.trust === 'pinned' || c.trust === 'verified');
    if (!unchanged) void ctx.trust.refresh(jid);
  }

  function onStanza(el: XmlElement) {
    if (el.name === 'presence') return directory.handlePresence(el);
    const notice = keyListNoticeFrom(el, ownJid);
    if (notice) return onKeyListNotice(notice, el);
    if (el.name !== 'message' || catchUp.accept(el)) return;
    // Decryption starts at once (several in flight); storing runs one at a time in arrival order,
    // so dedup and replay detection see every earlier message.
    let step: () => Promise<void>;
    try {
      step = inbound.handleMessage(el);
    } catch (err) {
      logger.error('xmpp: inbound message failed', { error: errorName(err) });
      return;
    }
    inboundChain = inboundChain
      .then(step)
      .catch((err: unknown) => logger.error('xmpp: inbound message failed', { error: errorName(err) }));
  }

  async function freshSession(c: XmppConnection) {
    let id: Identity;
    try {
      id = firstRun ? await accountKey.settle(c, firstRun) : await accountKey.ensure();
    } catch (err) {
      if (firstRun && err instanceof AppError) identityError = err;
      throw err;
    }
    // XEP-0280 §4: copies of our conversations on every device.
    await c.iq(xml('iq', { type: 'set' }, xml('enable', { xmlns: NS.carbons }))).catch(() => logger.warn('xmpp: carbons not enabled'));
    await directory.loadRoster().catch(() => logger.warn('xmpp: roster not loaded'));
    await accountKey.publish(c, id, new Date(clock.now()));
    await accountKey.publishBackup(c, id).catch((err: unknown) =>
      logger.warn('xmpp: key backup not published', { error: errorName(err) }),
    );
    // The decrypt workers (a first run has only now settled the key they load).
    await decryptPool().catch(() => undefined);
    // Archive first, presence second: a session that queried MAM does not get the offline flood
    // pushed (Prosody mod_mam), so the same messages are not received, decrypted and deduplicated twice.
    await catchUp.run();
    // With our capabilities (caps.ts): the server then pushes colleagues' key-list changes.
    await c.send(xml('presence', {}, capsElement()));
    await outbox.flush(true);
    // Whatever was archived between the catch-up and our presence (it went to offline storage).
    await catchUp.run();
    // Keys of people we talk to may have changed while we were away.
    for (const contact of store.contacts.list()) if (contact.fingerprint) void ctx.trust.refresh(contact.jid);
  }

  function onReady(resumed: boolean) {
    const c = conn;
    if (!c) return;
    if (resumed) {
      void outbox.flush(true);
      return;
    }
    sessionSetup = freshSession(c).catch((err: unknown) => {
      logger.warn('xmpp: session setup incomplete', { code: err instanceof AppError ? err.code : errorName(err) });
      events.emit('sync:progress', { done: 0, total: null, finished: true });
    });
  }

  function makeConnection(): XmppConnection {
    const { account } = opts;
    const c = createConnection({
      jid: ownJid,
      password: account.password,
      host: account.server.host,
      port: account.server.port,
      tls: account.server.tls,
      caPems: [policy.trustedCaPem, opts.tls?.ca],
      resource: opts.resource,
      logger,
      reconnect: opts.reconnect,
      clock: net,
      onState: (state, detail) => {
        if (state !== 'online') directory.clearPresence();
        events.emit('connection:state', { state, detail });
      },
      onStanza,
      onReady,
    });
    c.client.iqCallee.set(NS.roster, 'query', ({ stanza }) => directory.handleRosterPush(stanza));
    // XEP-0115 §6.2: the server asks what `<node>#<ver>` means before it sends +notify events.
    c.client.iqCallee.get(NS_DISCO_INFO, 'query', ({ element }) => discoInfo(element.attrs.node) ?? xml('error', { type: 'cancel' }, xml('item-not-found', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' })));
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
      const delay = backoffMs(attempt, { baseMs: opts.reconnect?.baseMs ?? 1_000, maxMs: 60_000, maxExponent: 6, jitter: 'equal' });
      startTimer = net.setTimeout(() => void connectLoop(false, attempt + 1).catch(() => undefined), delay);
    }
  }

  const contactOrThrow = (jid: string): Contact => {
    const c = store.contacts.get(bare(jid));
    if (!c) throw new AppError('NOT_FOUND', 'No such colleague in the directory.');
    return ctx.trust.toContact(c);
  };

  return {
    async start(o) {
      stopped = false;
      firstRun = o?.firstRun ? o : null;
      identityError = null;
      // A first run settles the key once connected (accountKey.settle); otherwise it is the stored one.
      if (!firstRun) await accountKey.ensure();
      // Start the decrypt workers while TLS + SCRAM run: catch-up should not wait for them.
      void decryptPool().catch(() => undefined);
      stopOutboxTimer ??= every(net, 2_000, () => void outbox.flush());
      await connectLoop(o?.firstRun === true, 0);
      // First sign-in: the key must be published before colleagues can write to us.
      if (o?.firstRun) {
        await sessionSetup;
        firstRun = null;
        if (identityError) throw identityError;
      }
    },
    async stop() {
      stopped = true;
      if (startTimer !== null) net.clearTimeout(startTimer);
      stopOutboxTimer?.();
      startTimer = stopOutboxTimer = null;
      const c = conn;
      conn = null;
      await c?.stop();
      await inboundChain;
      const p = pool;
      pool = null;
      if (p) await (await p.catch(() => null))?.close();
    },
    connection: () => conn?.state() ?? { state: 'offline', detail: null },
    async send(conversationId, body) {
      const conv = store.conversations.get(conversationId);
      if (!conv) throw new AppError('NOT_FOUND', 'No such conversation.');
      // Refused here, not only in the UI: federation is off, and a PHI message has one place to go.
      if (!ctx.peerAllowed(conv.peerJid)) throw new AppError('FORBIDDEN', "Messages can only go to colleagues on the clinic's own server.", { jid: conv.peerJid });
      const c = store.contacts.get(conv.peerJid);
      if (c?.trust === 'changed') {
        throw new AppError('KEY_CHANGED', "This colleague's encryption key changed. Compare the new fingerprint, then accept it to send again.", { jid: conv.peerJid });
      }
      // Without a pinned key we must be able to fetch one now; otherwise refuse (never plaintext).
      if (!c?.fingerprint && conn?.isReady()) await ctx.trust.keyForSending(conv.peerJid);
      return outbox.enqueue(conversationId, body);
    },
    async retry(messageId) {
      return outbox.retry(messageId);
    },
    async markDisplayed(conversationId) {
      const conv = store.conversations.get(conversationId);
      if (!conv || !conn?.isReady()) return;
      const newest = store.messages.newestInbound(conversationId);
      if (newest?.originId) await conn.send(displayedMarker(conv.peerJid, newest.originId)).catch(() => undefined);
    },
    presenceOf: (jid) => directory.presenceOf(bare(jid)),
    ownFingerprint: () => accountKey.fingerprint(),
    directory: () => store.contacts.list().map((c) => ctx.trust.toContact(c)),
    contact: contactOrThrow,
    verifyContact: (jid, fpr) => ctx.trust.verify(bare(jid), fpr),
    acceptKeyChange: (jid, fpr) => ctx.trust.acceptChange(bare(jid), fpr),
    keyBackup: () => accountKey.backup(),
    // Test / benchmark hooks (not part of the IPC surface).
    ...({ outboxIdle: (ms: number) => outbox.idle(ms), settled: () => sessionSetup } as object),
  };
}
