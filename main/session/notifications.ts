/**
 * What an OS notification for a new message may say (issue 12; ARCHITECTURE.md §7). PHI policy,
 * not XMPP: the messaging service only reports that a verified live message arrived
 * (MessagingOptions.onLiveMessage); the session supplies the lock state and the user's own setting.
 *  - The effective preview is the stricter of the clinic policy and the user's setting
 *    (none < sender < full): a user can show less than the policy allows, never more.
 *  - Locked (from 'session:locked' on, or a session that is no longer the open one): nothing at all.
 *    A notification is PHI on the screen of a workstation someone walked away from.
 *  - Quiet (issue 12 §7): under Do not disturb ('With a patient' too) or in a muted conversation,
 *    nothing — except a message the sender marked Urgent, when policy.urgentBypassesDnd (default).
 *  - Sound is the person's choice; the notification says `silent` when it is off.
 *  - A message that carries a file (issue 16) says "Sent an attachment" where the sender may be
 *    shown (with its text after it at 'full'); never the file's name, type or content.
 */
import type { Message } from '../../common/contract/domain';
import type { NotificationPreview } from '../../common/ipc-contract';
import type { EventBus } from '../events';
import type { Policy } from '../policy/schema';
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
  /** Our own presence is Do not disturb or With a patient. */
  dnd?: boolean;
  /** Conversations the person muted. */
  muted?: (conversationId: string) => boolean;
  /** Notification sounds; default on. */
  sound?: boolean;
}

export interface NotificationRequest extends NotificationGate {
  policyPreview: NotificationPreview;
  /** Read only when the sender is shown (a locked session's store must not be touched). */
  senderName: () => string;
  body: string;
  /** Whether the message carries a file; read only when the level shows more than "New message". */
  hasAttachment?: () => boolean;
  /** The sender marked it Urgent (inside the signed payload). */
  urgent?: boolean;
  /** The conversation is muted. */
  conversationMuted?: boolean;
  /** policy.urgentBypassesDnd; default true, as in the policy schema. */
  urgentBypassesDnd?: boolean;
}

export interface Notification {
  title: string;
  body: string;
  urgent?: true;
  silent?: true;
}

export function notificationFor(r: NotificationRequest): Notification | null {
  if (r.locked) return null;
  const urgent = r.urgent === true;
  const quiet = r.dnd === true || r.conversationMuted === true;
  if (quiet && !(urgent && r.urgentBypassesDnd !== false)) return null;
  const level = r.userPreview === null ? r.policyPreview : stricterPreview(r.policyPreview, r.userPreview);
  const text = level === 'full' ? r.body : '';
  const file = level !== 'none' && (r.hasAttachment?.() ?? false);
  return {
    title: level === 'none' ? (urgent ? 'New urgent message' : 'New message') : r.senderName(),
    body: file ? (text ? `Sent an attachment: ${text}` : 'Sent an attachment') : text,
    ...(urgent ? { urgent: true as const } : {}),
    ...(r.sound === false ? { silent: true as const } : {}),
  };
}

export interface MessagingHookDeps {
  /**
   * Read when each message arrives, not when the hooks are built: the session hands the live
   * policy view (main/policy/live.ts), so a stricter preview applies to the next notification.
   */
  policy: Pick<Policy, 'notificationPreview' | 'urgentBypassesDnd'>;
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
      const g = gate();
      const shown = notificationFor({
        ...g,
        urgent: m.urgent === true,
        conversationMuted: g.muted?.(m.conversationId) ?? false,
        urgentBypassesDnd: d.policy.urgentBypassesDnd,
        policyPreview: d.policy.notificationPreview,
        senderName: () => d.store.contacts.get(peer)?.displayName ?? peer,
        body: m.body ?? '',
        // The row is written in the message's own transaction (receive.ts), before it is announced.
        hasAttachment: () => d.store.attachments.byMessage(m.id) !== undefined,
      });
      if (shown) d.events.emit('notification:shown', { conversationId: m.conversationId, ...shown });
    },
  };
}
