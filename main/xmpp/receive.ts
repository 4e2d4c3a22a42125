/**
 * The one receive path (issue 10 §2; PROTOCOL.md "Receiving: reject unless all hold"). Live
 * messages, carbons and archive catch-up all turn an OX item into a stored row here:
 *
 *   item (parsed by inbound.ts / catch-up.ts) → prepare: dedup on origin-id / stanza-id, start the
 *   decrypt job → commit: verify outcome, time of receipt, then a transaction with the durable
 *   replay guard, the row and its audit entry (a catch-up page: slices of COMMIT_SLICE items, the
 *   archive pointer in the last slice's transaction).
 *
 * The same transaction means a process killed at any point leaves either the message with its
 * audit entry and replay row, or none of them (issue 10 §11); a pointer never passes an item that
 * is not stored, and one stored before the pointer moved is skipped as a duplicate next time. An
 * item whose decryption failed for an internal reason (the decrypt pool died) is not stored at
 * all: it stays in the server archive and catch-up retries it, because the archive pointer never
 * moves past it.
 */
import type { XmlElement } from '@xmpp/client';
import type { Message } from '../../common/contract/domain';
import { identityAsContact, SigncryptRejectedError, type ContactKey, type OpenedSigncrypt } from '../crypto';
import type { AuditLog } from '../audit';
import { recordedChanges, type AffiliationChange } from '../crypto/room-membership';
import type { NewMessage } from '../store';
import { recordReceived } from './attachments';
import type { MessagingContext } from './context';
import type { LiveStage } from './types';
import { applyReceivedChange, emitChanged } from './message-change';
import { receivedMentions } from './room-mentions';
import { NS, receiptFor } from './stanzas';

export interface OxItem {
  peer: string;
  direction: 'in' | 'out';
  base64: string;
  originId: string | null;
  stanzaId: string | null;
  /**
   * Our own server's delay stamp (offline storage, archive), already clamped to now; undefined for
   * a message that arrived live. Anything else a stanza claims about time is not trusted.
   */
  serverStamp: Date | undefined;
  /** Arrived on the live stream (not carbon/archive): worth a notification. */
  live?: boolean;
  /**
   * A care-team room message (issue 18, rooms.ts): `peer` is the room, `sender` the occupant's
   * real bare JID as the room announced it; `refused` a reason found before decrypting (not a
   * member at the time, anonymous occupant). The inner <to/> must name the room and nothing else.
   */
  room?: { sender: string | null; refused: string | null };
  /**
   * Catch-up: the archive result before this one in the same conversation. Stored, this one is
   * never ordered before it: an archive stamp has whole seconds, a live receipt milliseconds, so a
   * message the live stream stored first would otherwise sort after a later one of the same second.
   */
  follows?: Pick<OxItem, 'originId' | 'stanzaId'>;
  /** Where a delivery receipt for it goes (XEP-0184), when one may be owed: see receiptAsked. */
  receipt?: ReceiptTo;
}

/** The sending device and its stanza id: a delivery receipt's address (XEP-0184 §5.4). */
export interface ReceiptTo {
  to: string;
  id: string;
}

/**
 * XEP-0184 §5.4, for live messages and catch-up alike: a message sent to us by a colleague's
 * device that asked for a receipt gets one at that device, and only once we stored it verified
 * (see acknowledge): a receipt for a rejected one would tell the sender it arrived. Carbons are
 * not asked here: the device they were delivered to acknowledges them.
 */
export function receiptAsked(m: XmlElement, direction: 'in' | 'out'): ReceiptTo | undefined {
  const { from, id } = m.attrs;
  if (direction !== 'in' || !from || !id || !m.getChild('request', NS.receipts)) return undefined;
  return { to: String(from), id: String(id) };
}

/**
 * Sends the receipts owed for items stored verified, in order. Not retried: the message is stored
 * either way, and a lost receipt only leaves it "Sent" at its sender; nothing to report.
 */
export function acknowledge(ctx: MessagingContext, verified: Pick<OxItem, 'receipt'>[]): Promise<void> {
  const conn = ctx.conn();
  let chain = Promise.resolve();
  if (!conn) return chain;
  for (const { receipt } of verified) {
    if (!receipt) continue;
    // Lost: the message stays "Sent" at its sender until read; nothing to retry or report.
    chain = chain.then(() => conn.send(receiptFor(receipt.to, receipt.id)).catch(() => undefined));
  }
  return chain;
}

/** What decrypting an item gave: the opened signcrypt, a rejection, or an internal failure (retry later). */
export type ReceiveOutcome =
  { ok: true; value: OpenedSigncrypt } | { ok: false; reason: string } | { ok: false; internal: true };

export interface Pending {
  it: OxItem;
  conversationId: string;
  outcome: Promise<ReceiveOutcome>;
}

export interface Received {
  it: OxItem;
  messageId: string;
  conversationId: string;
  /** Why it was rejected; null for a verified message. */
  reason: string | null;
  /** Stored read: an inbound message to the conversation in view. */
  read: boolean;
}

export interface CommitResult {
  received: Received[];
  /** Index (into the committed list) of the first item that failed for an internal reason; null if none. */
  firstInternal: number | null;
}

/**
 * Items per write transaction. A whole catch-up page (up to 250) in one transaction is 10 ms at
 * the median and 30 ms at worst on the 2-core bench machine; 100 items are 5 ms and 15 ms, at
 * about 10% more main-thread time in all (20,000 200-character messages into an encrypted store
 * with its worker checkpointing: slices of 50 / 100 / 250: 1,388 / 1,100 / 1,008 ms, longest
 * 33 / 15 / 30 ms). Between slices the loop runs whatever else waits (a live message, the
 * renderer's calls, the next page's results): issue 13's "no stall of 50 ms".
 */
export const COMMIT_SLICE = 100;

/** One turn of the event loop (not a timer: nothing waits for time here). */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Replay key part: the opened content's digest as bytes. */
const digestBytes = (hex: string) => Buffer.from(hex, 'hex');

export interface ReceiverOptions {
  /** Looks up the key to verify an item with (catch-up caches it per sender per run). */
  senderKey?: (it: OxItem) => Promise<ContactKey | null>;
}

/**
 * The row for a committed item. `now` is the time of receipt for a live item. A live inbound
 * message to the conversation the person is following (`inView`) is stored read (`readAt`): it
 * appears at once where they are looking. Catch-up items never are, nor live ones the server held
 * (a delay stamp: offline storage, e.g. ejabberd's flood after the archive): they arrived while the
 * person was away and are read once the renderer says they were on screen (conversations:markRead,
 * issue 12 §1).
 */
function rowFor(
  p: Pending,
  o: ReceiveOutcome,
  replayed: boolean,
  now: number,
  inView: boolean,
): { row: NewMessage; reason: string | null } {
  const { it } = p;
  const received = it.serverStamp?.getTime() ?? now;
  const readAt = it.direction === 'in' && it.live === true && it.serverStamp === undefined && inView ? now : null;
  const base = {
    conversationId: p.conversationId,
    ...(it.room?.sender ? { senderJid: it.room.sender } : {}),
    direction: it.direction,
    originId: it.originId,
    stanzaId: it.stanzaId,
    receivedAt: received,
    readAt,
  };
  if (o.ok && !replayed) {
    // Ordered by receipt (issue 10 §4, common/message-time.ts): the claim is kept and shown when sane.
    const state = it.direction === 'in' ? 'delivered' : 'sent';
    return {
      row: {
        ...base,
        state,
        body: o.value.body,
        sentAt: received,
        claimedAt: o.value.timestamp.getTime(),
        // Resolved only within this conversation when read (message-rows.ts toMessageWithReply).
        replyToOriginId: o.value.replyTo?.id ?? null,
        // Only from the signed payload (issue 12 §7): nothing in the clear can mark a message urgent.
        urgent: o.value.urgent,
        // Its later edit or deletion must be signed by the same key (message-change.ts).
        signer: o.value.senderFingerprint,
      },
      reason: null,
    };
  }
  const reason = replayed ? 'replayed' : 'reason' in o ? o.reason : 'internal';
  return { row: { ...base, state: 'unverified', body: null, sentAt: received, claimedAt: null }, reason };
}

function audited(audit: AuditLog, m: NewMessage, id: string, peer: string, reason: string | null) {
  if (m.senderJid) return auditedInRoom(audit, m, id, peer, reason);
  if (reason) audit.append('message-rejected', { messageId: id, peer, direction: m.direction, reason });
  else if (m.direction === 'in') audit.append('message-received', { messageId: id, from: peer });
  else audit.append('message-sent', { messageId: id, to: peer, device: 'other' });
}

/** A room message's entry names the room and its real sender (issue 18). */
function auditedInRoom(audit: AuditLog, m: NewMessage, id: string, room: string, reason: string | null) {
  const from = m.senderJid ?? null;
  if (reason) audit.append('message-rejected', { messageId: id, peer: room, from, direction: m.direction, reason });
  else if (m.direction === 'in') audit.append('message-received', { messageId: id, from, room });
  else audit.append('message-sent', { messageId: id, to: room, device: 'other' });
}

type Store = MessagingContext['opts']['store'];
type Metrics = MessagingContext['opts']['metrics'];

/** A live message's stage, for the benchmarks' breakdown of its delivery (MessagingMetrics.live). */
export function markLive(metrics: Metrics, stage: LiveStage, it: OxItem): void {
  if (metrics?.live && it.live && it.originId) metrics.live(stage, it.originId, performance.now());
}

/** Appends the audit entry; with commit metrics (benchmarks), adds the time it took to `spent.ms`. */
function auditTimed(metrics: Metrics, spent: { ms: number }, ...args: Parameters<typeof audited>): void {
  if (!metrics?.commit) return audited(...args);
  const t0 = performance.now();
  audited(...args);
  spent.ms += performance.now() - t0;
}

/** The stored copy: a message is identified by its origin-id when it has one, else by its stanza-id. */
function existingIn(store: Store, conversationId: string, it: Pick<OxItem, 'originId' | 'stanzaId'>) {
  if (it.originId) return store.messages.findByOriginId(conversationId, it.originId);
  return it.stanzaId ? store.messages.findByStanzaId(conversationId, it.stanzaId) : undefined;
}

/** Same message: the key existingIn looks it up by. */
const sameKey = (a: Pick<OxItem, 'originId' | 'stanzaId'>, b: Pick<OxItem, 'originId' | 'stanzaId'>) =>
  a.originId ? a.originId === b.originId : a.stanzaId !== null && a.stanzaId === b.stanzaId;

/**
 * The archive's order over the stamps' (OxItem.follows): a row not before the stored message it
 * follows. `inserted` holds the last row this transaction stored per conversation, so a page
 * looks up the store only where its chain meets a message stored earlier (live, or a prior page).
 */
function orderAfter(
  store: Store,
  p: Pending,
  row: NewMessage,
  inserted: Map<string, { it: OxItem; sentAt: number }>,
): void {
  const { follows } = p.it;
  if (!follows) return;
  const last = inserted.get(p.conversationId);
  const prior = last && sameKey(follows, last.it) ? last.sentAt : existingIn(store, p.conversationId, follows)?.sentAt;
  if (prior !== undefined && prior > row.sentAt) row.sentAt = prior;
}

/** true when the item is already stored; records the archive id on our own sent copy. */
function duplicateIn(store: Store, conversationId: string, it: OxItem): boolean {
  const dup = existingIn(store, conversationId, it);
  if (dup && it.stanzaId && dup.direction === 'out') store.messages.setStanzaId(dup.id, it.stanzaId);
  return dup !== undefined;
}

/** Written with a verified row, in its transaction: its replay guard entry, and its file's row (issue 16). */
function withVerified(
  ctx: MessagingContext,
  messageId: string,
  direction: 'in' | 'out',
  value: OpenedSigncrypt,
  guard: { signer: string | null; digest: Buffer | null },
): void {
  if (guard.signer && guard.digest) ctx.opts.store.replay.add(guard.signer, guard.digest);
  if (value.attachment) recordReceived(ctx.opts, messageId, direction, value.attachment);
}

/** The key to verify an item with: ours for our own sent copies, else the colleague's. */
async function senderKeyOf(ctx: MessagingContext, it: OxItem): Promise<ContactKey | null> {
  const identity = ctx.identity();
  if (it.direction === 'out') return identity ? identityAsContact(identity) : null;
  // A room message is checked against its real sender's key (issue 18).
  const signer = it.room ? it.room.sender : it.peer;
  // No key to verify with: stored as unverified with 'no-sender-key' and audited (decrypt below).
  return signer ? ctx.trust.keyForReceiving(signer).catch(() => null) : null;
}

/** Decrypts and verifies one item (on the pool when it runs); a rejection is an outcome, not a throw. */
async function decryptItem(
  ctx: MessagingContext,
  it: OxItem,
  key: Promise<ContactKey | null>,
): Promise<ReceiveOutcome> {
  const { clock, metrics } = ctx.opts;
  const mark = (stage: LiveStage, item: OxItem) => markLive(metrics, stage, item);
  if (!ctx.identity()) return { ok: false, reason: 'no-identity' };
  if (it.room?.refused) return { ok: false, reason: it.room.refused };
  const k = await key;
  if (!k) return { ok: false, reason: 'no-sender-key' };
  mark('decrypt-start', it);
  try {
    const value = await ctx.decrypt({
      senderKey: k,
      base64: it.base64,
      // Inner <to/> must name the outer recipient: us for received, the peer for our own sent copies.
      // A room message names the room (rooms.ts): received and our own reflected copies alike.
      ourJid: it.direction === 'in' && !it.room ? ctx.ownJid : it.peer,
      // The <time/> check's reference: our server's stamp when it stored the message, else now.
      ...(it.serverStamp ? { delayStamp: it.serverStamp } : {}),
      now: new Date(clock.now()),
      // Ahead of a catch-up's queued jobs in the pool.
      ...(it.live ? { live: true } : {}),
    });
    mark('decrypted', it);
    // A room message is never also addressed elsewhere (docs/protocol.md "Care-team rooms").
    if (it.room && value.to.some((j) => j !== it.peer)) return { ok: false, reason: 'bad-recipient' };
    return { ok: true, value };
  } catch (err) {
    mark('decrypted', it);
    if (!(err instanceof SigncryptRejectedError)) return { ok: false, internal: true };
    const signer = it.room ? it.room.sender : it.peer;
    // refresh() never rejects; a changed key shows up in the store.
    if (err.reason === 'wrong-signer' && it.direction === 'in' && signer) void ctx.trust.refresh(signer);
    return { ok: false, reason: err.reason };
  }
}

/** How many of catch-up's newest stored messages may still see their live copy announced. */
const ARCHIVED_FIRST_KEPT = 1_000;

/**
 * Verified inbound messages catch-up stored (the newest ARCHIVED_FIRST_KEPT; a live copy comes
 * within moments), whose live copy may still come. When the archive stored one first, while its
 * live copy was on its way (a fresh session's catch-up after our presence, a reconnect), the live
 * copy announces it, once: it did arrive live, and whether it notifies must not depend on which
 * path stored it first. A copy the server held (a delay stamp) is not live news.
 */
function archivedFirst(ctx: MessagingContext) {
  const ids = new Set<string>();
  return {
    stored(r: Received): void {
      if (r.it.direction !== 'in' || r.reason) return;
      ids.add(r.messageId);
      if (ids.size > ARCHIVED_FIRST_KEPT) ids.delete(ids.values().next().value as string);
    },
    liveCopy(conversationId: string, it: OxItem): void {
      if (!it.live || it.direction !== 'in' || it.serverStamp) return;
      const stored = existingIn(ctx.opts.store, conversationId, it);
      if (stored && ids.delete(stored.id)) ctx.announceLive(stored, it.peer);
    },
  };
}

/**
 * One commit's items, stored one by one inside the caller's transactions: what was received, what
 * an edit or deletion changed, and the order within each conversation across slices.
 */
function commitBatch(ctx: MessagingContext, duplicate: (conversationId: string, it: OxItem) => boolean) {
  const { store, audit, clock, metrics } = ctx.opts;
  const changed: Message[] = [];
  // A room's member changes, read once per batch (and only for a message with mentions).
  const changesOf = new Map<string, AffiliationChange[]>();
  const roomChanges = (room: string): AffiliationChange[] => {
    let c = changesOf.get(room);
    if (!c) changesOf.set(room, (c = recordedChanges(store.rooms.changes(room))));
    return c;
  };
  const received: Received[] = [];
  const inserted = new Map<string, { it: OxItem; sentAt: number }>();
  const storeOne = (p: Pending, o: ReceiveOutcome, auditSpent: { ms: number }): void => {
    if (!o.ok && 'internal' in o) return;
    if (duplicate(p.conversationId, p.it)) return; // it arrived another way while we decrypted
    // The durable replay guard: the same signed content under a fresh origin-id is refused,
    // whichever path brought it first, and however long ago (migration 0006).
    const signer = o.ok ? o.value.senderFingerprint : null;
    const digest = o.ok ? digestBytes(o.value.contentDigest) : null;
    const replayed = signer !== null && digest !== null && store.replay.seen(signer, digest);
    if (o.ok && o.value.change) {
      // An edit or deletion (issue 12 §6) changes the message it names: no row of its own.
      // Seen before (the live copy, then the archive's): already applied, nothing to do.
      const m = replayed ? null : applyReceivedChange(ctx, p, { ...o.value, change: o.value.change });
      if (m) changed.push(m);
      return;
    }
    const { row, reason } = rowFor(p, o, replayed, clock.now(), ctx.inView(p.conversationId));
    // A room message's @mentions (issue 18 §4): of members at the time only; whether one is us.
    if (!reason && o.ok && p.it.room)
      Object.assign(
        row,
        receivedMentions(() => roomChanges(p.it.peer), ctx.ownJid, row.sentAt, row.direction, o.value.mentions),
      );
    orderAfter(store, p, row, inserted);
    const ins = store.messages.insert(row);
    if (!ins.inserted) return;
    inserted.set(p.conversationId, { it: p.it, sentAt: row.sentAt });
    if (!reason && o.ok) withVerified(ctx, ins.id, row.direction, o.value, { signer, digest });
    auditTimed(metrics, auditSpent, audit, row, ins.id, p.it.peer, reason);
    received.push({ it: p.it, messageId: ins.id, conversationId: p.conversationId, reason, read: row.readAt != null });
  };
  return { storeOne, received, changed };
}

export function createReceiver(ctx: MessagingContext) {
  const { store, logger, clock, metrics } = ctx.opts;
  const existing = (conversationId: string, it: Pick<OxItem, 'originId' | 'stanzaId'>): Message | undefined =>
    existingIn(store, conversationId, it);
  const duplicate = (conversationId: string, it: OxItem) => duplicateIn(store, conversationId, it);

  const senderKey = (it: OxItem) => senderKeyOf(ctx, it);
  const archived = archivedFirst(ctx);

  const decrypt = (it: OxItem, key: Promise<ContactKey | null>) => decryptItem(ctx, it, key);

  /**
   * Dedup, then start decrypting at once (the pool queues beyond its in-flight limit). null: the
   * item is already stored.
   */
  function prepare(it: OxItem, opts: ReceiverOptions = {}): Pending | null {
    // Read first: getOrCreate always writes (INSERT OR IGNORE), a write transaction per message.
    const conv = store.conversations.byPeer(it.peer) ?? store.conversations.getOrCreate(it.peer, clock.now());
    if (duplicate(conv.id, it)) return null;
    const outcome = decrypt(it, (opts.senderKey ?? senderKey)(it));
    // commit() awaits it; until then a rejection must not count as unhandled.
    outcome.catch(() => undefined);
    return { it, conversationId: conv.id, outcome };
  }

  /**
   * Stores what decrypted (or was rejected), in item order, in ONE transaction together with the
   * replay guard rows, the audit entries and whatever `within` writes (the archive pointer).
   * Items that failed internally are skipped; the caller decides how far the pointer may move.
   */
  async function commit(pending: Pending[], within?: (firstInternal: number | null) => void): Promise<CommitResult> {
    const outcomes = await Promise.all(pending.map((p) => p.outcome));
    const found = outcomes.findIndex((o) => !o.ok && 'internal' in o);
    const firstInternal = found < 0 ? null : found;
    const { storeOne, received, changed } = commitBatch(ctx, duplicate);
    // Slices of COMMIT_SLICE items, a turn of the event loop between them; `within` (the archive
    // pointer) goes with the last one. An empty list still runs `within` once.
    const kept = { received: 0, changed: 0 };
    try {
      for (let start = 0; start === 0 || start < pending.length; start += COMMIT_SLICE) {
        const end = Math.min(pending.length, start + COMMIT_SLICE);
        const last = end === pending.length;
        const t0 = metrics?.commit ? performance.now() : 0;
        const auditSpent = { ms: 0 };
        store.transaction(() => {
          for (let i = start; i < end; i++) storeOne(pending[i]!, outcomes[i]!, auditSpent);
          if (last) within?.(firstInternal);
        });
        Object.assign(kept, { received: received.length, changed: changed.length });
        metrics?.commit?.(end - start, performance.now() - t0, auditSpent.ms);
        if (!last) await nextTurn();
      }
    } catch (err) {
      // A later slice failed: the earlier ones are stored (and catch-up skips them next time as
      // duplicates), so their conversations hear of it now, or the list would miss them.
      for (const c of new Set(received.slice(0, kept.received).map((r) => r.conversationId))) ctx.emitConversation(c);
      emitChanged(ctx, changed.slice(0, kept.changed));
      throw err;
    }
    for (const r of received)
      if (r.reason) logger.warn('xmpp: message rejected', { messageId: r.messageId, reason: r.reason });
    emitChanged(ctx, changed);
    return { received, firstInternal };
  }

  /**
   * Events for stored messages: the UI hears of each once (live) or of each touched conversation
   * (catch-up, `perMessage` false: no event storm to the renderer); a live, verified one is
   * announced to the session (notification). Messages stored read were seen: the sender hears so.
   */
  function announce(received: Received[], perMessage = true): void {
    const t0 = metrics?.events ? performance.now() : 0;
    const touched = new Set<string>();
    const read = new Set<string>();
    for (const r of received) {
      touched.add(r.conversationId);
      if (r.read) read.add(r.conversationId);
      if (!perMessage) archived.stored(r);
      const live = r.it.live && r.it.direction === 'in' && !r.reason;
      // Read back only what an event carries: a catch-up page announces its conversations alone.
      const message = perMessage || live ? store.messages.get(r.messageId) : undefined;
      if (!message) continue;
      if (perMessage) ctx.emitMessage(message, true);
      if (live) ctx.announceLive(message, r.it.peer);
    }
    for (const c of touched) ctx.emitConversation(c);
    for (const c of read) ctx.readOnArrival(c);
    metrics?.events?.(performance.now() - t0);
  }

  /** A live item found already stored: announced if the archive stored it first (archivedFirst). */
  const announceLiveCopy = (conversationId: string, it: OxItem) => archived.liveCopy(conversationId, it);

  return { prepare, commit, announce, announceLiveCopy, existing, senderKey };
}

export type Receiver = ReturnType<typeof createReceiver>;
