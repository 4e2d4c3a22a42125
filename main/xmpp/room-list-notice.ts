/**
 * "Your room list changed" (issue 18 §1): deploy/prosody's mod_muc_clinic_policy sends a headline
 * from a room's bare JID, carrying <x xmlns='urn:clinic-messenger:rooms:0'/>, to an account put on
 * that room's list or taken off it (clinic-admin rooms create / sync, an owner). A signed-in
 * workstation then asks the room service for its rooms again (rooms.ts `connected`: the
 * MY_ROOMS_NODE answer, the member lists, joins and leaves), so a new room appears without a new
 * sign-in. The notice is only a cue: it names nothing we act on, and it is taken only from an
 * address of one of our server's own services (`room@<sub>.<our domain>`; federation is off, so no
 * one else can send from there). Notices that arrive while a refresh runs make one more refresh.
 */
import type { XmlElement } from '@xmpp/client';
import { errorName } from '../log';
import type { MessagingContext } from './context';
import type { Rooms } from './rooms';
import { bare } from './stanzas';

export const NS_ROOM_LIST_NOTICE = 'urn:clinic-messenger:rooms:0';

/** The notice, from a room of a service under our own domain. */
export function isRoomListNotice(el: XmlElement, ownJid: string): boolean {
  if (!el.is('message') || el.attrs.type !== 'headline' || !el.getChild('x', NS_ROOM_LIST_NOTICE)) return false;
  const from = bare(el.attrs.from);
  const at = from.indexOf('@');
  const domain = ownJid.slice(ownJid.indexOf('@') + 1);
  return at > 0 && from.slice(at + 1).endsWith(`.${domain}`);
}

export function createRoomListWatch(ctx: MessagingContext, rooms: Pick<Rooms, 'connected'>) {
  let running = false;
  let again = false;
  const refresh = (): void => {
    const c = ctx.conn();
    if (!c?.isReady()) return; // the next sign-in asks anyway
    if (running) {
      again = true;
      return;
    }
    running = true;
    // A failure is logged in the chain below; the next notice or sign-in asks again.
    void rooms
      .connected(c)
      .catch((err: unknown) => ctx.opts.logger.warn('xmpp: room list not read again', { error: errorName(err) }))
      .finally(() => {
        running = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  };
  return {
    /** True when `el` was the notice (then a refresh is under way). */
    onStanza(el: XmlElement): boolean {
      if (!isRoomListNotice(el, ctx.ownJid)) return false;
      refresh();
      return true;
    },
  };
}
