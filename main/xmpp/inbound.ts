/**
 * The live stream's <message/> stanzas (including offline delivery and carbons): parsed into OX
 * items here and handed to the one receive path (receive.ts), plus delivery receipts (XEP-0184)
 * and displayed markers (XEP-0333) for messages of ours. Archive results go to catch-up.ts.
 */
import type { XmlElement } from '@xmpp/client';
import { errorName } from '../log';
import type { MessagingContext } from './context';
import { acknowledge, markLive, receiptAsked, type OxItem, type Receiver } from './receive';
import type { LiveStage } from './types';
import { bare, fromOwnAccount, NS, originIdOf, serverStampOf, stanzaIdOf } from './stanzas';

type Step = () => Promise<void>;
const nothing: Step = () => Promise.resolve();
/** A step with nothing to wait for (an audit entry): run when its turn in arrival order comes. */
const later =
  (fn: () => void): Step =>
  () =>
    Promise.resolve().then(fn);

export function createInbound(ctx: MessagingContext, receiver: Receiver) {
  const { store, audit, logger, clock, metrics } = ctx.opts;
  const mark = (stage: LiveStage, it: OxItem) => markLive(metrics, stage, it);

  /**
   * One OX item. Decryption starts now (in parallel with earlier messages still being decrypted);
   * the returned step stores and announces it, and is run in arrival order so dedup and the replay
   * guard see every earlier message. Resolves true when the message is stored verified (now, or
   * already: a sender's re-send after a lost ack still deserves its receipt).
   */
  function begin(it: OxItem): () => Promise<boolean> {
    mark('arrived', it);
    const pending = receiver.prepare(it);
    if (!pending) {
      const conv = store.conversations.byPeer(it.peer);
      const stored = conv && receiver.existing(conv.id, it);
      return () => {
        if (conv) receiver.announceLiveCopy(conv.id, it);
        return Promise.resolve(stored !== undefined && stored.state !== 'unverified');
      };
    }
    return async () => {
      const { received } = await receiver.commit([pending]);
      mark('stored', it);
      receiver.announce(received);
      // Stored by catch-up while it was decrypting: announced now if it was not yet.
      if (received.length === 0) receiver.announceLiveCopy(pending.conversationId, it);
      return received.some((r) => r.reason === null);
    };
  }

  /**
   * A top-level <message/> from the live stream. Called in arrival order; returns the step that
   * completes it, to be run in that same order.
   */
  function handleMessage(el: XmlElement): Step {
    const own = ctx.ownJid;
    const now = clock.now();
    const carbon = el.getChild('received', NS.carbons) ?? el.getChild('sent', NS.carbons);
    if (carbon) {
      // XEP-0280 §11: a carbon is genuine only from our bare JID (the server), not from another resource.
      if (!fromOwnAccount(el.attrs.from, own)) {
        const peer = bare(el.attrs.from);
        return later(() =>
          audit.append('message-rejected', { peer, reason: 'forged-carbon', messageId: null, direction: 'in' }),
        );
      }
      const fwd = carbon.getChild('forwarded', NS.forward);
      const inner = fwd?.getChild('message');
      if (!inner) return nothing;
      const sent = carbon.name === 'sent';
      const stamp = serverStampOf(fwd, { bare: own, now }) ?? serverStampOf(inner, { bare: own, now });
      return handleChat(inner, sent ? 'out' : 'in', sent ? bare(inner.attrs.to) : bare(inner.attrs.from), false, stamp);
    }
    if (el.getChild('result', NS.mam)) return nothing; // archive results go to catch-up
    const from = bare(el.attrs.from);
    if (!from || from === own) return nothing;
    return handleChat(el, 'in', from, true, serverStampOf(el, { bare: own, now }));
  }

  function handleChat(
    m: XmlElement,
    direction: 'in' | 'out',
    peer: string,
    live: boolean,
    serverStamp: Date | undefined,
  ): Step {
    if (!peer || peer === ctx.ownJid || !peer.includes('@')) return nothing;
    const ox = m.getChild('openpgp', NS.ox);
    if (ox && !ctx.peerAllowed(peer)) {
      // Federation is off on the clinic's server; a stanza naming another domain is refused here too.
      return later(() => {
        audit.append('message-rejected', { peer, reason: 'foreign-domain', messageId: null, direction });
        logger.warn('xmpp: message from outside the clinic domain refused', { direction });
      });
    }
    const owed = live ? receiptAsked(m, direction) : undefined;
    const step = ox
      ? begin({
          peer,
          direction,
          base64: ox.getText(),
          originId: originIdOf(m),
          stanzaId: live ? stanzaIdOf(m, ctx.ownJid) : null,
          serverStamp,
          live,
          ...(owed ? { receipt: owed } : {}),
        })
      : () => Promise.resolve(false);
    return async () => {
      // XEP-0184 receipt and XEP-0333 displayed marker for a message of ours.
      const receipt = m.getChild('received', NS.receipts)?.attrs.id;
      const displayed = m.getChild('displayed', NS.markers)?.attrs.id;
      if (direction === 'in' && (receipt || displayed))
        marks.add({ peer, originId: (receipt ?? displayed) as string, state: displayed ? 'read' : 'delivered' });
      // Stored verified, now or already (a sender's re-send after a lost ack still deserves its receipt).
      if ((await step()) && owed) await acknowledge(ctx, [{ receipt: owed }]);
    };
  }

  const marks = createMarkBatch(ctx);
  /** Resolves once every receipt and marker handled so far is applied (the router's drained()). */
  const settled = () => marks.settled();

  return { handleMessage, settled };
}

export type Inbound = ReturnType<typeof createInbound>;

/** Receipts and markers applied in one transaction, at most this many at a time. */
const MARKS_PER_TRANSACTION = 200;

interface Mark {
  peer: string;
  originId: string;
  state: 'delivered' | 'read';
}

/**
 * Delivery receipts and displayed markers for messages of ours, applied together once per turn of
 * the event loop instead of one write transaction and two events each. A colleague's catch-up
 * acknowledges a whole archive page at once, and one by one they ran back to back in the stanza
 * chain's microtasks, with no turn of the loop between them (issue 13: no stall of 50 ms). Now one
 * transaction per batch, each changed message announced once, and each conversation once: in the
 * catch-up bench (10,000 receipts) the main thread's active time fell from 7.0 to 6.0 s. The
 * ladder (allowedMove) keeps a later receipt from moving a message back, so applying a batch after
 * the turn changes nothing about the outcome.
 */
function createMarkBatch(ctx: MessagingContext) {
  const { store, logger, clock } = ctx.opts;
  let queued: Mark[] = [];
  let done: Promise<void> = Promise.resolve();

  function apply(): void {
    const batch = queued.slice(0, MARKS_PER_TRANSACTION);
    queued = queued.slice(batch.length);
    const at = clock.now();
    const updated = store.transaction(() =>
      batch.flatMap(({ peer, originId, state }) => {
        const conv = store.conversations.byPeer(peer);
        const was = conv && store.messages.findByOriginId(conv.id, originId);
        const m = was && store.messages.updateStateByOriginId(conv.id, originId, state, at);
        // A second receipt for the same message (ejabberd's offline copy and the archive's are
        // acknowledged apart), or a receipt after the read marker, changes nothing: no event.
        return m && m.state !== was.state ? [m] : [];
      }),
    );
    for (const m of updated) ctx.emitMessage(m, false);
    for (const c of new Set(updated.map((m) => m.conversationId))) ctx.emitConversation(c);
  }

  /** Applies what is queued, a batch per turn; never rejects (a failure is logged, as a step's was). */
  const drain = () =>
    new Promise<void>((resolve) => {
      const turn = () => {
        try {
          apply();
        } catch (err) {
          queued = [];
          logger.error('xmpp: receipts could not be applied', { error: errorName(err) });
        }
        if (queued.length > 0) setImmediate(turn);
        else resolve();
      };
      setImmediate(turn);
    });

  return {
    add(mark: Mark): void {
      if (queued.push(mark) === 1) done = drain();
    },
    settled: (): Promise<void> => done,
  };
}
