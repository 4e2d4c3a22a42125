/**
 * Receiving (PROTOCOL.md "Receiving: reject unless all hold", XEP-0374 §2.2): every OX message
 * is decrypted and verified against the sender's pinned key; anything that fails is stored as
 * 'unverified' with no body and audited with the reason. Duplicates (live, carbon, offline,
 * archive) are recognised by origin-id / stanza-id before any decryption.
 */
import { createHash } from 'node:crypto';
import type { XmlElement } from '@xmpp/client';
import type { Message } from '../../common/contract/domain';
import { identityAsContact, SigncryptRejectedError, type ContactKey } from '../crypto';
import type { NewMessage } from '../store';
import type { MessagingContext } from './context';
import { bare, delayOf, NS, originIdOf, receiptFor, stanzaIdOf } from './stanzas';

export interface OxItem {
  peer: string;
  direction: 'in' | 'out';
  base64: string;
  originId: string | null;
  stanzaId: string | null;
  delay: Date | undefined;
  /** Arrived on the live stream (not carbon/archive): worth a notification. */
  live?: boolean;
}

/** Reasons beyond the crypto layer's own: no pinned key, a replayed ciphertext, a bad envelope. */
export type InboundRejectReason = string;

const MAX_SEEN = 20_000;

export function createInbound(ctx: MessagingContext) {
  const { store, audit, logger, clock } = ctx.opts;
  // Ciphertext digests seen this session: a replay under a fresh origin-id is refused. Older replays
  // fail the <time/> window check (crypto defaultOxLimits.maxPastMs).
  const seen = new Set<string>();
  const digest = (b64: string) => createHash('sha256').update(b64).digest('base64');
  const remember = (d: string) => {
    seen.add(d);
    if (seen.size > MAX_SEEN) seen.delete(seen.values().next().value as string);
  };

  /** The stored copy: a message is identified by its origin-id when it has one, else by its stanza-id. */
  function existing(conversationId: string, it: Pick<OxItem, 'originId' | 'stanzaId'>): Message | undefined {
    if (it.originId) return store.messages.findByOriginId(conversationId, it.originId);
    return it.stanzaId ? store.messages.findByStanzaId(conversationId, it.stanzaId) : undefined;
  }

  function rejected(conversationId: string, it: OxItem, _reason: InboundRejectReason): NewMessage {
    return {
      conversationId,
      direction: it.direction,
      state: 'unverified',
      body: null,
      originId: it.originId,
      stanzaId: it.stanzaId,
      sentAt: it.delay?.getTime() ?? clock.now(),
      receivedAt: clock.now(),
    };
  }

  function audited(m: NewMessage, id: string, peer: string, reason: string | null) {
    if (reason) audit.append('message-rejected', { messageId: id, peer, direction: m.direction, reason });
    else if (m.direction === 'in') audit.append('message-received', { messageId: id, from: peer });
    else audit.append('message-sent', { messageId: id, to: peer, device: 'other' });
  }

  /** Decrypts + verifies one item and returns the row to insert (never throws for bad input). */
  async function open(it: OxItem, conversationId: string, key: ContactKey | null): Promise<{ row: NewMessage; reason: string | null; digest: string }> {
    const d = digest(it.base64);
    const identity = ctx.identity();
    if (!identity) return { row: rejected(conversationId, it, 'no-identity'), reason: 'no-identity', digest: d };
    if (!key) return { row: rejected(conversationId, it, 'no-sender-key'), reason: 'no-sender-key', digest: d };
    try {
      const opened = await ctx.decrypt({
        senderKey: key,
        base64: it.base64,
        // Inner <to/> must name the outer recipient: us for received, the peer for our own sent copies.
        ourJid: it.direction === 'in' ? ctx.ownJid : it.peer,
        delayStamp: it.delay,
        now: new Date(clock.now()),
      });
      const row: NewMessage = {
        conversationId,
        direction: it.direction,
        state: it.direction === 'in' ? 'delivered' : 'sent',
        body: opened.body,
        originId: it.originId,
        stanzaId: it.stanzaId,
        sentAt: opened.timestamp.getTime(),
        receivedAt: clock.now(),
      };
      return { row, reason: null, digest: d };
    } catch (err) {
      const reason = err instanceof SigncryptRejectedError ? err.reason : 'malformed';
      if (reason === 'wrong-signer' && it.direction === 'in') void ctx.trust.refresh(it.peer); // a changed key shows up
      return { row: rejected(conversationId, it, reason), reason, digest: d };
    }
  }

  async function senderKey(it: OxItem): Promise<ContactKey | null> {
    const identity = ctx.identity();
    if (it.direction === 'out') return identity ? identityAsContact(identity) : null;
    return ctx.trust.keyForReceiving(it.peer).catch(() => null);
  }

  type Step = () => Promise<void>;
  const nothing: Step = async () => undefined;

  /**
   * One OX item, live or carbon. Decryption starts now (in parallel with earlier messages still
   * being decrypted); the returned step inserts, audits and emits, and is run in arrival order
   * so dedup and replay detection see every earlier message.
   */
  function begin(it: OxItem): Step {
    const conv = store.conversations.byPeer(it.peer) ?? store.conversations.getOrCreate(it.peer, clock.now());
    if (existing(conv.id, it)) return async () => void commitDuplicate(conv.id, it);
    const opened = senderKey(it).then((key) => open(it, conv.id, key));
    opened.catch(() => undefined);
    return async () => {
      const res = await opened;
      if (commitDuplicate(conv.id, it)) return; // it arrived another way while we decrypted
      if (!res.reason && seen.has(res.digest)) {
        res.row = rejected(conv.id, it, 'replayed');
        res.reason = 'replayed';
      }
      const ins = store.messages.insert(res.row);
      if (!ins.inserted) return;
      remember(res.digest);
      audited(res.row, ins.id, it.peer, res.reason);
      if (res.reason) logger.warn('xmpp: message rejected', { messageId: ins.id, reason: res.reason });
      const msg = store.messages.get(ins.id);
      if (msg) ctx.emitMessage(msg, true);
      if (msg && it.live && it.direction === 'in' && !res.reason) ctx.notify(msg, it.peer);
      ctx.emitConversation(conv.id);
    };
  }

  /** true when the item is already stored; records the archive id on our own sent copy. */
  function commitDuplicate(conversationId: string, it: OxItem): boolean {
    const dup = existing(conversationId, it);
    if (dup && it.stanzaId && dup.direction === 'out') store.messages.setStanzaId(dup.id, it.stanzaId);
    return dup !== undefined;
  }

  /**
   * A top-level <message/> from the live stream (including offline delivery and carbons). Called
   * in arrival order; returns the step that completes it, to be run in that same order.
   */
  function handleMessage(el: XmlElement): Step {
    const from = bare(el.attrs.from);
    const own = ctx.ownJid;
    // XEP-0280 §11: carbons are only genuine when they come from our own bare JID.
    const carbon = el.getChild('received', NS.carbons) ?? el.getChild('sent', NS.carbons);
    if (carbon) {
      if (from !== own) {
        return async () => audit.append('message-rejected', { peer: from, reason: 'forged-carbon', messageId: null, direction: 'in' });
      }
      const inner = carbon.getChild('forwarded', NS.forward)?.getChild('message');
      if (!inner) return nothing;
      const sent = carbon.name === 'sent';
      return handleChat(inner, sent ? 'out' : 'in', sent ? bare(inner.attrs.to) : bare(inner.attrs.from), false, delayOf(el) ?? delayOf(inner));
    }
    if (el.getChild('result', NS.mam)) return nothing; // archive results go to catch-up
    if (!from || from === own) return nothing;
    return handleChat(el, 'in', from, true, delayOf(el));
  }

  function handleChat(m: XmlElement, direction: 'in' | 'out', peer: string, live: boolean, delay: Date | undefined): Step {
    if (!peer || peer === ctx.ownJid || !peer.includes('@')) return nothing;
    const ox = m.getChild('openpgp', NS.ox);
    const step = ox
      ? begin({ peer, direction, base64: ox.getText(), originId: originIdOf(m), stanzaId: live ? stanzaIdOf(m, ctx.ownJid) : null, delay, live })
      : nothing;
    return async () => {
      // XEP-0184 receipt and XEP-0333 displayed marker for a message of ours.
      const receipt = m.getChild('received', NS.receipts)?.attrs.id;
      const displayed = m.getChild('displayed', NS.markers)?.attrs.id;
      if (direction === 'in' && (receipt || displayed)) {
        const conv = store.conversations.byPeer(peer);
        const id = (receipt ?? displayed) as string;
        const updated = conv && store.messages.updateStateByOriginId(conv.id, id, displayed ? 'read' : 'delivered', clock.now());
        if (updated) {
          ctx.emitMessage(updated, false);
          ctx.emitConversation(updated.conversationId);
        }
      }
      await step();
      // XEP-0184 §5.4: acknowledge receipt to the sending device (only for messages sent to us, live).
      if (ox && live && direction === 'in' && m.getChild('request', NS.receipts) && m.attrs.id) {
        await ctx.conn()?.send(receiptFor(m.attrs.from ?? peer, m.attrs.id)).catch(() => undefined);
      }
    };
  }

  return { handleMessage, open, existing, audited, remember, senderKey, seenDigest: (b64: string) => seen.has(digest(b64)) };
}

export type Inbound = ReturnType<typeof createInbound>;
