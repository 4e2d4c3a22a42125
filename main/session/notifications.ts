/**
 * What an OS notification for a new message may say (issue 12; ARCHITECTURE.md §7). PHI policy,
 * not XMPP: the messaging service only reports that a verified live message arrived
 * (MessagingOptions.onLiveMessage); the session supplies the lock state and the user's own setting.
 *  - The effective preview is the stricter of the clinic policy and the user's setting
 *    (none < sender < full): a user can show less than the policy allows, never more.
 *  - Locked (from 'session:locked' on, or a session that is no longer the open one): nothing at all.
 *    A notification is PHI on the screen of a workstation someone walked away from.
 */
import type { Message } from '../../common/contract/domain';
import type { NotificationPreview } from '../../common/ipc-contract';
import type { EventBus } from '../events';
import type { Store } from '../store';
import type { MessagingOptions } from '../xmpp/types';

export const PREVIEW_ORDER: Readonly<Record<NotificationPreview, number>> = { none: 0, sender: 1, full: 2 };

export const stricterPreview = (a: NotificationPreview, b: NotificationPreview): NotificationPreview =>
  PREVIEW_ORDER[a] <= PREVIEW_ORDER[b] ? a : b;

/** What the session knows when a message arrives. */
export interface NotificationGate {
  locked: boolean;
  /** The user's own setting; null when the session has none to give (the policy's level applies). */
  userPreview: NotificationPreview | null;
}

export interface NotificationRequest extends NotificationGate {
  policyPreview: NotificationPreview;
  /** Read only when the sender is shown (a locked session's store must not be touched). */
  senderName: () => string;
  body: string;
}

export function notificationFor(r: NotificationRequest): { title: string; body: string } | null {
  if (r.locked) return null;
  const level = r.userPreview === null ? r.policyPreview : stricterPreview(r.policyPreview, r.userPreview);
  return {
    title: level === 'none' ? 'New message' : r.senderName(),
    body: level === 'full' ? r.body : '',
  };
}

export interface MessagingHookDeps {
  policyPreview: NotificationPreview;
  store: Store;
  events: EventBus;
}

/**
 * What the session hands each messaging service it opens, from that unlock's gate: whether the
 * session is locked (then nothing reaches the renderer), and the notification a new live message
 * shows — the decision above, with the gate read when the message arrives.
 */
export function messagingHooks(
  gate: () => NotificationGate,
  d: MessagingHookDeps,
): Required<Pick<MessagingOptions, 'locked' | 'onLiveMessage'>> {
  return {
    locked: () => gate().locked,
    onLiveMessage(m: Message, peer: string) {
      const shown = notificationFor({
        ...gate(),
        policyPreview: d.policyPreview,
        senderName: () => d.store.contacts.get(peer)?.displayName ?? peer,
        body: m.body ?? '',
      });
      if (shown) d.events.emit('notification:shown', { conversationId: m.conversationId, ...shown });
    },
  };
}
