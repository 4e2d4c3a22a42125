/**
 * Where each stanza of the live stream goes: presence to the directory, a colleague's key-list
 * notice (caps.ts) to trust, our own read-state events (read-sync.ts) to read sync, archive results to
 * catch-up, an admin command (admin-commands.ts) to the session, every other <message/> to inbound.ts.
 * Inbound messages start decrypting at once (several in flight) and are stored one at a time in
 * arrival order, so dedup and replay detection see every earlier message.
 */
import type { XmlElement } from '@xmpp/client';
import { errorName } from '../log';
import { liveAdminCommand } from './admin-commands';
import { keyListNoticeFrom, NS_PUBSUB_EVENT } from './caps';
import type { CatchUp } from './catch-up';
import type { MessagingContext } from './context';
import type { Directory } from './directory';
import type { Inbound } from './inbound';
import type { PatientTexts } from './patient-texts';
import { announcedKeys } from './pep-keys';
import type { ReadSync } from './read-sync';
import { createRoomListWatch } from './room-list-notice';
import type { RoomMaker } from './room-create';
import type { Rooms } from './rooms';
import { NS } from './stanzas';

export interface StanzaRouterDeps {
  ctx: MessagingContext;
  directory: Directory;
  catchUp: CatchUp;
  inbound: Inbound;
  readSync: ReadSync;
  patients: Pick<PatientTexts, 'onStanza'>;
  /** Care-team rooms (issue 18): their presences and messages; `connected` when our room list changed. */
  rooms?: Pick<Rooms, 'onPresence' | 'onMessage' | 'acceptArchive' | 'connected'>;
  /** A room this workstation is creating (room-create.ts): its presences until it is made. */
  roomMaker?: Pick<RoomMaker, 'onPresence'>;
}

export function createStanzaRouter(deps: StanzaRouterDeps) {
  const { ctx, directory, catchUp, inbound, readSync, patients, rooms, roomMaker } = deps;
  const { store, logger } = ctx.opts;
  let chain: Promise<void> = Promise.resolve();
  const roomList = rooms ? createRoomListWatch(ctx, rooms) : null;

  /**
   * A colleague published a public-key list (caps.ts). Re-fetch only when it does not announce
   * exactly the key we pinned — the server also replays the newest list when we come online.
   */
  function onKeyListNotice(jid: string, el: XmlElement) {
    const c = store.contacts.get(jid);
    // Nothing pinned yet: pinned on first use, as before — unless messages wait for their first
    // key (issue 12 §3): a colleague who had none has just signed in.
    if (!c?.fingerprint) return ctx.trust.recheck(jid);
    const announced = (el.getChild('event', NS_PUBSUB_EVENT)?.getChild('items')?.getChildren('item') ?? []).flatMap(
      (i) => announcedKeys(i.getChild('public-keys-list', NS.ox)).map((k) => k.fpr),
    );
    const unchanged =
      announced.length === 1 && announced[0] === c.fingerprint && (c.trust === 'pinned' || c.trust === 'verified');
    // refresh() never rejects: its outcome is recorded in the store (trust.ts).
    if (!unchanged) void ctx.trust.refresh(jid);
  }

  function onStanza(el: XmlElement) {
    if (el.name === 'presence')
      return roomMaker?.onPresence(el) || rooms?.onPresence(el) ? undefined : directory.handlePresence(el);
    const notice = keyListNoticeFrom(el, ctx.ownJid);
    if (notice) return onKeyListNotice(notice, el);
    // In the same chain as messages: a mark is applied after the messages that arrived before it.
    const sync = readSync.notice(el);
    if (sync) {
      chain = chain
        .then(sync)
        .catch((err: unknown) => logger.error('xmpp: read-state event failed', { error: errorName(err) }));
      return;
    }
    // A room's archive results (issue 18) are the room's catch-up's, not the account's.
    if (el.name !== 'message' || rooms?.acceptArchive(el) || catchUp.accept(el)) return;
    // We were put on a room's list or taken off it (room-list-notice.ts): ask for our rooms again.
    if (roomList?.onStanza(el)) return;
    const admin = liveAdminCommand(el, ctx.ownJid);
    if (admin) return ctx.opts.onAdminCommand?.(admin, 'live');
    // The patient gateway's state changes (issue 17): not OX, never to inbound.ts.
    if (patients.onStanza(el)) return;
    let step: () => Promise<void>;
    try {
      // A room's messages (issue 18) never reach inbound.ts: they are not one-to-one.
      step = rooms?.onMessage(el) ?? inbound.handleMessage(el);
    } catch (err) {
      logger.error('xmpp: inbound message failed', { error: errorName(err) });
      return;
    }
    chain = chain
      .then(step)
      .catch((err: unknown) => logger.error('xmpp: inbound message failed', { error: errorName(err) }));
  }

  return {
    onStanza,
    /** Resolves once every inbound message received so far is stored (or failed). */
    drained: (): Promise<void> => chain.then(() => inbound.settled()),
  };
}

export type StanzaRouter = ReturnType<typeof createStanzaRouter>;
