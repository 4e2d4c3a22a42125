/** Every main → renderer event: name → payload schema. */
import { z } from 'zod';
import {
  attachment,
  connectionState,
  contact,
  conversationSummary,
  lockReason,
  message,
  patientText,
  presence,
  bareJid,
  statusText,
} from './domain';
import { patientSegment } from './patient-lists';

export const events = {
  'session:locked': z.object({ reason: lockReason }),
  'session:unlocked': z.object({ profileId: z.string() }),
  /**
   * A profile was erased by IT's remote wipe (issue 15) while the app ran: after 'session:locked'
   * { reason: 'remote-wipe' }, once its files and keychain entries are gone.
   */
  'session:wiped': z.object({ profileId: z.string() }),
  /**
   * The inactivity lock is near (issue 12 §2): it comes in `lockInSeconds` unless the person does
   * something ("Stay signed in" reports activity). null: activity arrived, the warning is over.
   */
  'session:idleWarning': z.object({ lockInSeconds: z.number().int().nonnegative().nullable() }),
  'connection:state': z.object({ state: connectionState, detail: z.string().nullable() }),
  'message:added': message,
  'message:updated': message,
  'conversation:updated': conversationSummary,
  /** An attachment row was added or changed state (issue 16): no key, address or content. */
  'attachment:updated': attachment,
  /** Bytes moved by an upload or download under way (ciphertext bytes of `total`). */
  'attachment:progress': z.object({
    attachmentId: z.string(),
    done: z.number().int().nonnegative(),
    total: z.number().int().nonnegative(),
  }),
  /** A text to a patient was stored or changed state (issue 17). */
  'patient:updated': patientText,
  /** A segment send moved on (issue 17 item 5): counts only. */
  'patient:segment': patientSegment,
  'contact:updated': contact,
  'presence:changed': z.object({ jid: bareJid, presence, status: statusText.nullable().optional() }),
  'sync:progress': z.object({ done: z.number().int(), total: z.number().int().nullable(), finished: z.boolean() }),
  /** What main decided to show as an OS notification (already stripped of PHI per policy). */
  'notification:shown': z.object({
    conversationId: z.string(),
    title: z.string(),
    body: z.string(),
    /** Marked Urgent by the sender (inside the signed payload); may pass Do not disturb per policy. */
    urgent: z.boolean().optional(),
    /** It mentions us (care-team rooms, issue 18 §4): may pass a muted room, never Do not disturb. */
    mention: z.boolean().optional(),
    /** The person turned notification sounds off (Settings). */
    silent: z.boolean().optional(),
  }),
  /**
   * IT changed the managed policy while the app runs (issue 14 item 3): the policy keys whose
   * values changed (none when only its source or error did). The renderer reads policy:get and
   * settings:get again; main has already applied it.
   */
  'policy:changed': z.object({ keys: z.array(z.string()) }),
  /** The renderer should open this conversation (notification clicked). */
  'ui:openConversation': z.object({ conversationId: z.string() }),
  /** Ctrl+L or a menu item asked for the lock; sent so the renderer can drop state at once. */
} as const;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<E extends EventName> = z.infer<Events[E]>;
