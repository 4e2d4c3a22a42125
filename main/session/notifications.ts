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
 *  - A care-team room message (issue 18 §4) is titled by its real sender, never the room's address;
 *    the room's name only at 'full' (a room may be named after a patient). One that mentions us
 *    notifies in a muted room (not under Do not disturb) and says only what the level allows:
 *    "New mention" at 'none', "Mentioned you" under the sender's name at 'sender' ("Mentioned you
 *    with an attachment" for a file's caption), the text at 'full'.
 *  - A patient's reply through the patient gateway (issue 17) is titled "<name> (patient)", its
 *    text only at 'full'.
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
  /** A room message that mentions us (inside the signed payload, by a member): passes a muted room. */
  mention?: boolean;
  /** A care-team room's name; read only at 'full' (it may name a patient). */
  roomName?: () => string | null;
  /** The conversation is muted. */
  conversationMuted?: boolean;
  /** policy.urgentBypassesDnd; default true, as in the policy schema. */
  urgentBypassesDnd?: boolean;
}

export interface Notification {
  title: string;
  body: string;
  urgent?: true;
  mention?: true;
  silent?: true;
}

/** The body at 'sender' or 'full': the text only at 'full'; a file or a mention said in words. */
function bodyFor(level: NotificationPreview, r: NotificationRequest, mention: boolean): string {
  const text = level === 'full' ? r.body : '';
  if (level !== 'none' && (r.hasAttachment?.() ?? false)) {
    // A file's caption that mentions us says so at 'sender' too, as a text message would.
    const sent = mention && level === 'sender' ? 'Mentioned you with an attachment' : 'Sent an attachment';
    return text ? `${sent}: ${text}` : sent;
  }
  return text || (mention && level === 'sender' ? 'Mentioned you' : '');
}

export function notificationFor(r: NotificationRequest): Notification | null {
  if (r.locked) return null;
  const urgent = r.urgent === true;
  const mention = r.mention === true;
  // A mention passes a muted room, never Do not disturb ("With a patient"): only Urgent may, per policy.
  const quiet = r.dnd === true || (r.conversationMuted === true && !mention);
  if (quiet && !(urgent && r.urgentBypassesDnd !== false)) return null;
  const level = r.userPreview === null ? r.policyPreview : stricterPreview(r.policyPreview, r.userPreview);
  const room = level === 'full' ? (r.roomName?.() ?? null) : null;
  const anonymous = urgent ? 'New urgent message' : mention ? 'New mention' : 'New message';
  return {
    title: level === 'none' ? anonymous : room ? `${r.senderName()} in ${room}` : r.senderName(),
    body: level === 'none' ? '' : bodyFor(level, r, mention),
    ...(urgent ? { urgent: true as const } : {}),
    ...(mention ? { mention: true as const } : {}),
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
): Required<Pick<MessagingOptions, 'locked' | 'onLiveMessage' | 'onPatientReply'>> {
  return {
    locked: () => gate().locked,
    // A patient's reply (issue 17) under the same rules: the name (marked as a patient) at 'sender',
    // the text at 'full', "New message" at 'none'; nothing while locked, under DND or when muted.
    onPatientReply({ conversationId, patientName, body }) {
      const g = gate();
      const shown = notificationFor({
        ...g,
        conversationMuted: g.muted?.(conversationId) ?? false,
        urgentBypassesDnd: d.policy.urgentBypassesDnd,
        policyPreview: d.policy.notificationPreview,
        senderName: () => `${patientName} (patient)`,
        body,
      });
      if (shown) d.events.emit('notification:shown', { conversationId, ...shown });
    },
    onLiveMessage(m: Message, peer: string) {
      const g = gate();
      const shown = notificationFor({
        ...g,
        urgent: m.urgent === true,
        mention: m.mentionsMe === true,
        conversationMuted: g.muted?.(m.conversationId) ?? false,
        urgentBypassesDnd: d.policy.urgentBypassesDnd,
        policyPreview: d.policy.notificationPreview,
        // In a care-team room the sender is the checked real JID, never the room (issue 18).
        senderName: () => {
          const from = m.senderJid ?? peer;
          return d.store.contacts.get(from)?.displayName ?? from;
        },
        roomName: () => (m.senderJid ? (d.store.rooms.get(peer)?.name ?? null) : null),
        body: m.body ?? '',
        // The row is written in the message's own transaction (receive.ts), before it is announced.
        hasAttachment: () => d.store.attachments.byMessage(m.id) !== undefined,
      });
      if (shown) d.events.emit('notification:shown', { conversationId: m.conversationId, ...shown });
    },
  };
}
