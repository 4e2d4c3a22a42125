/**
 * Composition of the messaging service (see index.ts for the map): trust and the decrypt service
 * first, then the context the parts share, the receive paths (live: stanza-router → inbound,
 * archive: catch-up; both through receive.ts), the outbox, and the lifecycle (lifecycle.ts:
 * start, stop, reconnect; session-setup.ts: fresh session vs resumed). What a new live message
 * shows is the session's decision (MessagingOptions.onLiveMessage), not this service's.
 */
import type { Message } from '../../common/contract/domain';
import { AppError } from '../../common/result';
import { systemClock } from '../clock';
import type { Identity } from '../crypto';
import { anchoringStatus } from '../audit/anchor-batches';
import { createAccountKey } from './account-key';
import type { Attachments, OutgoingFile } from './attachments';
import { createAuditAnchoring, type AuditAnchoring } from './audit-anchoring';
import { createPatientTexts } from './patient-texts';
import { createCatchUp } from './catch-up';
import type { MessagingContext } from './context';
import { createDecryptService } from './decrypt';
import { createDirectory } from './directory';
import { createInbound } from './inbound';
import { createLifecycle } from './lifecycle';
import { sendChange } from './message-change';
import { createOutbox, type Outbox } from './outbox';
import { sendOwnPresence } from './own-presence';
import { createReadSync, type ReadSync } from './read-sync';
import { createReceiver } from './receive';
import { roomDisplayedMarker } from './room-markers';
import { mentionsToSend } from './room-mentions';
import { withReadBy } from './room-reads';
import { createRoomMaker } from './room-create';
import { createPatientPlainSms } from './patient-plain-sms';
import { createRooms } from './rooms';
import { createSessionSetup, type SessionSetup } from './session-setup';
import { createStanzaRouter } from './stanza-router';
import { phoneOfConversation } from '../store/repos/patient-conversations';
import { bare, displayedMarker } from './stanzas';
import { createTrust } from './trust';
import type { Messaging, MessagingOptions, MessagingProbe } from './types';

/**
 * Whether a message to `peer` may be accepted; throws why not. Refused here, not only in the UI:
 * federation is off, and a PHI message has one place to go; a changed key blocks until a person
 * accepts it. Without a pinned key one must be fetchable now (never plaintext) — unless the
 * colleague has published none yet: then the message waits in the outbox for their first key
 * (issue 12 §3, outbox-send.ts), which goes through the usual pin-on-first-use.
 */
async function checkRecipient(ctx: MessagingContext, peer: string): Promise<void> {
  if (ctx.rooms?.isRoom(peer)) return ctx.rooms.checkSendable(peer);
  if (!ctx.peerAllowed(peer))
    throw new AppError('FORBIDDEN', "Messages can only go to colleagues on the clinic's own server.", { jid: peer });
  const c = ctx.opts.store.contacts.get(peer);
  if (c?.trust === 'changed') {
    throw new AppError(
      'KEY_CHANGED',
      "This colleague's encryption key changed. Compare the new fingerprint, then accept it to send again.",
      { jid: peer },
    );
  }
  if (c?.fingerprint || !ctx.conn()?.isReady()) return;
  await ctx.trust.keyForSending(peer).catch((err: unknown) => {
    if (!(err instanceof AppError && err.code === 'KEY_UNAVAILABLE' && ctx.trust.keyStatus(peer) === 'none')) throw err;
  });
}

/** The decrypt service with the options' hooks: fault injection (tests), the pool's metrics (benchmarks). */
const decryptService = (opts: MessagingOptions, identity: () => Identity | null) =>
  createDecryptService({ identity, logger: opts.logger, inspect: opts.inspect, poolMetrics: opts.metrics?.pool });

export function createMessaging(opts: MessagingOptions): Messaging {
  const { store, audit, events, logger, clock, policy } = opts;
  const ownJid = bare(opts.account.jid);
  // Federation is off (deploy/): colleagues are on the policy's server domain, else on ours.
  const allowedDomain = (policy.server?.domain ?? ownJid.slice(ownJid.indexOf('@') + 1)).toLowerCase();
  // The network's timers default to the system clock, never the app's (MessagingOptions.transportClock).
  const net = opts.transportClock ?? systemClock;
  const accountKey = createAccountKey({ store, audit, ownJid, net });
  const conn = () => lifecycle.conn();
  const trust = createTrust({
    store,
    audit,
    events,
    logger,
    clock,
    conn,
    presenceOf: (j) => directory.presenceOf(j),
    statusOf: (j) => directory.statusOf(j),
    onKeyReady: (j) => outbox.release(j),
  });
  const decryption = decryptService(opts, () => accountKey.current());
  /** The conversation the user has in view (conversations:view); null: none, or the window is hidden. */
  let viewing: string | null = null;

  /**
   * Once the session locks (or we stop), messages still on their way in are stored — nothing is
   * lost — but neither they nor previews reach the renderer: it holds no PHI while locked.
   */
  const quiet = (): boolean => lifecycle.stopped() || (opts.locked?.() ?? false);

  const ctx: MessagingContext = {
    opts,
    net,
    ownJid,
    trust,
    conn,
    identity: () => accountKey.current(),
    emitMessage(m: Message, isNew: boolean) {
      // Our own message in a care-team room carries who read it (room-reads.ts).
      if (!quiet()) events.emit(isNew ? 'message:added' : 'message:updated', withReadBy(store, ownJid, [m])[0]!);
    },
    emitConversation(id: string) {
      if (quiet()) return;
      // A patient conversation (issue 17) is the texts and replies of one number, not a chat row.
      const phone = phoneOfConversation(id);
      const s = phone ? store.patientConversations.summary(phone) : store.conversations.summary(id);
      if (s) events.emit('conversation:updated', { ...s, presence: directory.presenceOf(s.peerJid) });
    },
    decrypt: (job) => decryption.decrypt(job),
    peerAllowed: (jid: string) => jid.slice(jid.indexOf('@') + 1) === allowedDomain,
    announceLive(m, peer) {
      if (!quiet()) opts.onLiveMessage?.(m, peer);
    },
    inView: (conversationId) => conversationId === viewing && !quiet(),
    // Best effort, as after conversations:markRead: markDisplayed never rejects.
    // A marker says "read up to here" (XEP-0333, and XEP-0490 to our other workstations). While an
    // earlier message is still unread (it came while locked and was never on screen), saying so
    // would mark that one read too: the renderer's markRead covers the new one once it is shown.
    readOnArrival: (conversationId) => {
      // markDisplayed never rejects (best effort, offline sends nothing): nothing to report here.
      if (store.conversations.summary(conversationId)?.unread === 0) void markDisplayed(conversationId);
    },
  };
  const directory = createDirectory(ctx);
  const receiver = createReceiver(ctx);
  const outbox = createOutbox(ctx);
  const catchUp = createCatchUp({ ctx, receiver });
  const readSync = createReadSync(ctx);
  const anchoring = createAuditAnchoring(ctx);
  const [patients, rooms] = [createPatientTexts(ctx), createRooms(ctx, receiver)];
  const parts = { ctx, accountKey, directory, decryption, catchUp, outbox, readSync, anchoring, patients, rooms };
  const roomMaker = createRoomMaker(ctx, rooms);
  // At a fresh session, a room whose creation was never undone goes before the room list is read (room-create.ts).
  const setup = createSessionSetup({
    ...parts,
    rooms: { ...rooms, connected: (c) => roomMaker.finishUndo(c).then(() => rooms.connected(c)) },
  });
  const stanzas = createStanzaRouter({ ...parts, roomMaker, inbound: createInbound(ctx, receiver) });
  const lifecycle = createLifecycle({ ctx, accountKey, directory, decryption, outbox, setup, stanzas });

  const markDisplayed = (conversationId: string, upTo?: string) => displayed(ctx, readSync, conversationId, upTo);

  return {
    start: (o) => lifecycle.start(o),
    stop: () => stopAll(outbox.attachments, lifecycle, anchoring),
    connection: () => conn()?.state() ?? { state: 'offline', detail: null },
    send: (conversationId, body, replyTo, urgent, mentions) =>
      sendText(ctx, outbox, conversationId, body, replyTo, urgent, mentions),
    ...attachmentMethods(ctx, outbox),
    // A refusal (NOT_FOUND, CONFLICT) rejects, as from the other async methods.
    retry: (messageId) => Promise.resolve().then(() => outbox.retry(messageId)),
    change: (messageId, change) => sendChange(ctx, messageId, change),
    markDisplayed,
    view(conversationId) {
      viewing = conversationId;
    },
    presenceOf: (jid) => directory.presenceOf(bare(jid)),
    setPresence: (p) => sendOwnPresence(conn(), p),
    ownFingerprint: () => accountKey.fingerprint(),
    ...contactMethods(store, trust),
    verifyContact: (jid, fpr) => trust.verify(bare(jid), fpr),
    acceptKeyChange: (jid, fpr) => trust.acceptChange(bare(jid), fpr),
    keyBackup: () => accountKey.backup(),
    anchoring: () => anchoringStatus(store, policy, clock.now()),
    patients: {
      send: (draft) => patients.send(draft),
      list: () => patients.list(),
      lists: patients.lists,
      segments: patients.segments,
      conversations: patients.conversations,
      plainSms: createPatientPlainSms(ctx),
    },
    directoryName: () => setup.directoryName(),
    createRoom: (o) => roomMaker.create(o),
    inspect: probe(outbox, setup, anchoring),
  };
}

/**
 * `replyTo`: a message of the same conversation this one answers (XEP-0461); it needs an origin-id.
 * `mentions`: @mentions of a care-team room's members (room-mentions.ts); ignored elsewhere.
 */
async function sendText(
  ctx: MessagingContext,
  outbox: Outbox,
  conversationId: string,
  body: string,
  replyTo?: string,
  urgent = false,
  mentions?: Parameters<typeof mentionsToSend>[4],
): Promise<Message> {
  const { store } = ctx.opts;
  const conv = store.conversations.get(conversationId);
  if (!conv) throw new AppError('NOT_FOUND', 'No such conversation.');
  const quoted = replyTo === undefined ? null : answered(store, conversationId, replyTo);
  await checkRecipient(ctx, conv.peerJid);
  const kept = mentionsToSend(store, ctx.ownJid, conv.peerJid, body, mentions);
  return outbox.enqueue(conversationId, body, quoted, urgent, undefined, kept);
}

/** The directory as the renderer sees it, with each colleague's key state (trust.ts). */
function contactMethods(store: MessagingOptions['store'], trust: MessagingContext['trust']) {
  return {
    directory() {
      const list = store.contacts.list();
      // In the background: whoever has never published a key shows "Not set up yet" (issue 12 §3).
      trust.probe(list.filter((c) => c.trust === 'unknown').map((c) => c.jid));
      return list.map((c) => trust.toContact(c));
    },
    contact(jid: string) {
      const c = store.contacts.get(bare(jid));
      if (!c) throw new AppError('NOT_FOUND', 'No such colleague in the directory.');
      if (c.trust === 'unknown') trust.probe([c.jid]);
      return trust.toContact(c);
    },
  };
}

/** Tests and benchmarks: what the service is doing (Messaging.inspect). */
function probe(outbox: Outbox, setup: SessionSetup, anchoring: AuditAnchoring): MessagingProbe {
  return {
    outboxIdle: (ms) => outbox.idle(ms),
    settled: () => setup.settled(),
    anchor: () => anchoring.run(),
  };
}

/**
 * XEP-0333 <displayed/> for the newest verified inbound message (at or before `upTo`, what the
 * person saw), and the same read state for our other workstations (XEP-0490, read-sync.ts).
 * Best effort: offline, nothing is sent.
 */
async function displayed(ctx: MessagingContext, readSync: ReadSync, conversationId: string, upTo?: string) {
  // publish() never rejects and runs on its own; the marker below does not wait for it.
  void readSync.publish(conversationId, upTo);
  const { store } = ctx.opts;
  const conv = store.conversations.get(conversationId);
  const c = ctx.conn();
  if (!conv || !c?.isReady()) return;
  if (ctx.rooms?.isRoom(conv.peerJid)) {
    if (store.rooms.get(conv.peerJid)?.leftAt !== null) return; // no longer in it: nothing to say
    // In a room (XEP-0333 §8.6) the marker names the room's own stanza-id and goes to every member.
    const read = store.messages.newestReadMarker(conversationId, upTo);
    // Not retried, as below: the next read's marker covers this one.
    if (read) await c.send(roomDisplayedMarker(conv.peerJid, read.stanzaId)).catch(() => undefined);
    return;
  }
  const newest = store.messages.newestInbound(conversationId, upTo);
  // Not retried: the next read sends a marker for a newer message, which covers this one (XEP-0333: a marker acknowledges every earlier message too).
  if (newest?.originId) await c.send(displayedMarker(conv.peerJid, newest.originId)).catch(() => undefined);
}

/** Cancels attachment transfers first (nothing partial is kept), then stops as before. */
async function stopAll(
  attachments: Attachments,
  lifecycle: { stop(): Promise<void> },
  anchoring: { stop(): unknown },
): Promise<void> {
  await attachments.stop();
  try {
    await lifecycle.stop();
  } finally {
    anchoring.stop();
  }
}

/** The attachment half of the Messaging interface (issue 16, attachments.ts). */
function attachmentMethods(
  ctx: MessagingContext,
  outbox: Outbox,
): Pick<
  Messaging,
  'sendAttachment' | 'attachments' | 'downloadAttachment' | 'cancelTransfer' | 'readAttachment' | 'openAttachment'
> {
  return {
    sendAttachment: (conversationId, file, o) => sendAttachment(ctx, outbox, conversationId, file, o),
    attachments: (conversationId) => outbox.attachments.list(conversationId),
    downloadAttachment: (id) => outbox.attachments.download(id),
    cancelTransfer: (id) => outbox.attachments.cancel(id),
    readAttachment: (id, view) => outbox.attachments.read(id, view),
    openAttachment: (id) => outbox.attachments.open(id),
  };
}

/** send() with a file (issue 16): stored encrypted first; a refusal after that removes it again. */
async function sendAttachment(
  ctx: MessagingContext,
  outbox: Outbox,
  conversationId: string,
  file: OutgoingFile,
  o: { body?: string; replyTo?: string; urgent?: boolean; mentions?: Parameters<typeof mentionsToSend>[4] } = {},
): Promise<Message> {
  const { attachments } = outbox;
  const { store } = ctx.opts;
  const conv = store.conversations.get(conversationId);
  if (!conv) throw new AppError('NOT_FOUND', 'No such conversation.');
  const quoted = o.replyTo === undefined ? null : answered(store, conversationId, o.replyTo);
  await checkRecipient(ctx, conv.peerJid);
  const body = o.body ?? '';
  // Its text's @mentions as for a message without a file (room-mentions.ts): signed with it.
  const kept = mentionsToSend(store, ctx.ownJid, conv.peerJid, body, o.mentions);
  const { row, release } = await attachments.prepareOutgoing(file);
  try {
    return outbox.enqueue(conversationId, body, quoted, o.urgent === true, row, kept);
  } catch (err) {
    await attachments.discard(row);
    throw err;
  } finally {
    release();
  }
}

/** The origin-id a reply names: only a shown message of the same conversation (issue 12 §6). */
function answered(store: MessagingOptions['store'], conversationId: string, messageId: string): string {
  const m = store.messages.get(messageId);
  if (m?.conversationId !== conversationId || !m.originId || m.body === null || m.state === 'unverified') {
    throw new AppError('NOT_FOUND', 'The message you are replying to is not in this conversation.');
  }
  return m.originId;
}
