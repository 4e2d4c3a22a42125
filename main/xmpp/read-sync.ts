/**
 * Read state synced across a person's workstations (XEP-0490 Message Displayed Synchronization,
 * issue 12 §6; docs/protocol.md "Read state across workstations"). One private PEP node on our own
 * account, one item per conversation (item id = the colleague's bare JID) holding an <openpgp/>
 * whose signed payload names the archive's stanza-id of the newest message read
 * (main/crypto/read-sync.ts).
 *
 * - Publish: when this workstation marks a conversation read from what was on screen (next to the
 *   XEP-0333 marker, messaging.ts markDisplayed). Best effort: offline or refused, nothing is retried;
 *   the next read publishes a newer mark.
 * - Apply: live from the +notify event (caps.ts), and by reading the whole node after catch-up
 *   (session-setup.ts), so a workstation that was off, or heard a mark before catch-up stored its
 *   message, catches up. No pending state: a mark naming a message not stored yet is ignored and
 *   found again by that re-read. Applying only marks read up to an UNREAD message here: it never
 *   moves read state backwards, never marks newer messages read, and sends no XEP-0333 marker (the
 *   colleague heard it from the workstation where it was read).
 */
import { xml, type XmlElement } from '@xmpp/client';
import { SigncryptRejectedError, type RejectReason } from '../crypto/errors';
import { MDS_NS, openReadMark, sealReadMark } from '../crypto/read-sync';
import { errorName } from '../log';
import { NS_PUBSUB_EVENT } from './caps';
import type { MessagingContext } from './context';
import { publishWith } from './pep-keys';
import { NS } from './stanzas';
import type { XmppConnection } from './transport/connection';

/** XEP-0490 §4: the node is named after the payload's namespace. */
export const MDS_NODE = MDS_NS;
const PUBSUB = 'http://jabber.org/protocol/pubsub';
/**
 * XEP-0490 §5 publish-options. whitelist: only our own account reads it (owners always may; no
 * one else is on the list). max_items 'max': Prosody 0.12 maps it to pep_max_items (default 256
 * conversations; docs/deployment.md). 'never': the node is read on connect, not pushed on presence.
 */
export const MDS_OPTIONS = {
  'pubsub#persist_items': 'true',
  'pubsub#max_items': 'max',
  'pubsub#send_last_published_item': 'never',
  'pubsub#access_model': 'whitelist',
};
/** Per colleague, the stanza-id last applied here: re-reading the node must not undo "Mark as unread". */
const APPLIED_SETTING = 'xmpp:readSyncApplied';

/** What became of an item: a code, logged (never the item's content or JID). */
type Outcome =
  | 'applied'
  | 'already-applied'
  | 'not-unread'
  | 'not-encrypted'
  | 'wrong-item'
  | 'no-conversation'
  | 'no-identity'
  | 'internal'
  | RejectReason;

export function createReadSync(ctx: MessagingContext) {
  const { store, logger, clock } = ctx.opts;
  /** This session's last published stanza-id per colleague: the same mark is not published twice. */
  const published = new Map<string, string>();
  let publishing: Promise<void> = Promise.resolve();

  async function publishNow(conversationId: string, upTo: string | undefined): Promise<void> {
    const conv = store.conversations.get(conversationId);
    const c = ctx.conn();
    const identity = ctx.identity();
    if (!conv || !c?.isReady() || !identity) return;
    // The newest message read that our archive named; one stored without a stanza-id is covered by it.
    const mark = store.messages.newestReadMarker(conversationId, upTo);
    if (!mark || published.get(conv.peerJid) === mark.stanzaId) return;
    const base64 = await sealReadMark(identity, { peer: conv.peerJid, stanzaId: mark.stanzaId }, new Date(clock.now()));
    // A clustered server's momentary refusal (pep-keys.ts isTransientRefusal) is tried again.
    await publishWith(c, MDS_NODE, conv.peerJid, xml('openpgp', { xmlns: NS.ox }, base64), MDS_OPTIONS, {
      clock: ctx.net,
    });
    published.set(conv.peerJid, mark.stanzaId);
  }

  /** Best effort, one at a time: never rejects, never blocks the caller. */
  function publish(conversationId: string, upTo?: string): Promise<void> {
    publishing = publishing
      .then(() => publishNow(conversationId, upTo))
      .catch((err: unknown) => logger.warn('xmpp: read state not published', { error: errorName(err) }));
    return publishing;
  }

  /** One item of the node (live or fetched): applied only when it is ours and names an unread message. */
  async function apply(item: XmlElement): Promise<Outcome> {
    const identity = ctx.identity();
    if (!identity) return 'no-identity';
    const payload = item.getChildElements();
    const ox = payload.length === 1 ? payload[0] : undefined;
    if (!ox || ox.name !== 'openpgp' || ox.attrs.xmlns !== NS.ox) return 'not-encrypted';
    // No conversation with them here (e.g. older than the archive): nothing to mark, nothing to decrypt.
    const conv = store.conversations.byPeer((item.attrs.id ?? '').toLowerCase());
    if (!conv) return 'no-conversation';
    let mark;
    try {
      mark = await openReadMark(identity, ox.getText(), new Date(clock.now()));
    } catch (err) {
      return err instanceof SigncryptRejectedError ? err.reason : 'internal';
    }
    // The item id is not signed: the signed conversation must be the item's.
    if (mark.peer !== conv.peerJid) return 'wrong-item';
    const applied = store.getSetting<Record<string, string>>(APPLIED_SETTING) ?? {};
    if (applied[mark.peer] === mark.stanzaId) return 'already-applied';
    // Unknown here (not caught up yet: the re-read after catch-up finds it), or already read: nothing changes.
    const upTo = store.messages.unreadByStanzaId(conv.id, mark.stanzaId);
    if (!upTo) return 'not-unread';
    const changed = store.transaction(() => {
      store.setSetting(APPLIED_SETTING, { ...applied, [mark.peer]: mark.stanzaId });
      return store.conversations.markReadAsMarked(conv.id, clock.now(), upTo);
    });
    // The inbox row and the open conversation refresh from this (as after conversations:markRead).
    if (changed > 0) ctx.emitConversation(conv.id);
    return 'applied';
  }

  async function applyAll(items: XmlElement[], via: 'notice' | 'fetch'): Promise<void> {
    for (const item of items) {
      const outcome = await apply(item).catch((err: unknown): Outcome => {
        logger.warn('xmpp: read-state item failed', { error: errorName(err) });
        return 'internal';
      });
      // Never the item's content or JID: the outcome is a code.
      if (outcome === 'applied') logger.info('xmpp: read state applied from another workstation', { via });
      else if (outcome === 'not-unread' || outcome === 'no-conversation')
        logger.info('xmpp: read-state item changes nothing here', { via, reason: outcome });
      else if (outcome === 'already-applied') logger.debug('xmpp: read-state item already applied', { via });
      else logger.warn('xmpp: read-state item ignored', { via, reason: outcome });
    }
  }

  /**
   * A live PEP event of our node, as a step for the stanza chain (arrival order); null when `el`
   * is not one. Only our own account's PEP service (from = our bare JID) speaks for the node.
   */
  function notice(el: XmlElement): (() => Promise<void>) | null {
    if (el.name !== 'message') return null;
    const items = el.getChild('event', NS_PUBSUB_EVENT)?.getChild('items');
    if (items?.attrs.node !== MDS_NODE) return null;
    if ((el.attrs.from ?? '').toLowerCase() !== ctx.ownJid) {
      return () => Promise.resolve(logger.warn('xmpp: read-state item ignored', { via: 'notice', reason: 'foreign' }));
    }
    return () => applyAll(items.getChildren('item'), 'notice');
  }

  /** The whole node, after catch-up stored what its marks name. Best effort; never rejects. */
  async function catchUp(c: XmppConnection): Promise<void> {
    let res: XmlElement;
    try {
      res = await c.iq(
        xml('iq', { type: 'get', to: ctx.ownJid }, xml('pubsub', { xmlns: PUBSUB }, xml('items', { node: MDS_NODE }))),
      );
    } catch (err) {
      // No node yet: nothing was ever read on another workstation.
      if ((err as { condition?: string } | null)?.condition !== 'item-not-found')
        logger.warn('xmpp: read state not fetched', { error: errorName(err) });
      return;
    }
    await applyAll(res.getChild('pubsub', PUBSUB)?.getChild('items')?.getChildren('item') ?? [], 'fetch');
  }

  return { publish, notice, catchUp };
}

export type ReadSync = ReturnType<typeof createReadSync>;
