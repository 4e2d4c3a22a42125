/** Domain schemas shared by main and renderer. Types are inferred: one definition, no drift. */
import { z } from 'zod';
import { MAX_MENTIONS } from '../mentions';

/** A bare JID: local@domain, lower-case, no resource. */
export const bareJid = z
  .string()
  .min(3)
  .max(320)
  .regex(/^[^@/\s]+@[^@/\s]+$/, 'expected a bare JID such as alice@clinic.example');

export const fingerprint = z.string().regex(/^[0-9A-F]{40}$/, 'expected a 40-character v4 fingerprint');

export const presence = z.enum(['available', 'away', 'dnd', 'offline']);
export type Presence = z.infer<typeof presence>;

/**
 * What a person can set as their own presence (issue 12 §7); on the wire RFC 6121 <show/> and
 * <status/> (main/xmpp/own-presence.ts, docs/protocol.md). 'patient' = show dnd + "With a patient".
 */
export const ownPresenceShow = z.enum(['available', 'patient', 'dnd', 'away']);
export type OwnPresenceShow = z.infer<typeof ownPresenceShow>;
/** A status message: not PHI by policy, still short and never logged. */
export const STATUS_TEXT_MAX = 80;
export const statusText = z.string().max(STATUS_TEXT_MAX);
export const ownPresence = z.object({ show: ownPresenceShow, status: statusText });
export type OwnPresence = z.infer<typeof ownPresence>;

/** unknown: never fetched; pinned: trust on first use; verified: fingerprint compared by a person;
 *  changed: the key differs from the pinned one (sending blocked); unavailable: cannot be fetched. */
export const trustState = z.enum(['unknown', 'pinned', 'verified', 'changed', 'unavailable']);
export type TrustState = z.infer<typeof trustState>;

/**
 * Whether a colleague has published an OpenPGP key at all (issue 12 §3), as main last learnt it
 * from the server in this session. published: a key is pinned or announced; none: the server says
 * there is none — they have not signed in yet, and messages to them wait in the outbox until their
 * key appears; unknown: not asked yet, or the answer said nothing (offline, refused: see trust).
 */
export const keyStatus = z.enum(['published', 'none', 'unknown']);
export type KeyStatus = z.infer<typeof keyStatus>;

/** 'sent' means the server acknowledged the stanza (XEP-0198); there is no separate 'acked'. */
const messageState = z.enum(['queued', 'sent', 'delivered', 'read', 'failed', 'unverified']);
export type MessageState = z.infer<typeof messageState>;

export const role = z.enum(['reception', 'physician', 'nurse', 'admin', 'staff']);
export type Role = z.infer<typeof role>;

/** `host`, `host:port`, `[v6]` or `[v6]:port`: a DNS name or an address, and a port from 1 to 65535. */
const SERVER_ADDRESS =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]{2,45}\])(?::(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?$/;

/**
 * How to reach the XMPP server: the one definition (issue 11 item 4). The IPC contract, the
 * policy file, the session, messaging and the connection all derive theirs from it.
 */
export const serverConfig = z.object({
  /** Host to connect to; defaults to the JID's domain. */
  host: z.string().min(1).max(253).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  /** 'starttls' on 5222 (default) or 'direct' TLS (5223). Plaintext is never offered. */
  tls: z.enum(['starttls', 'direct']).default('starttls'),
  /**
   * Further addresses of the same server, e.g. the other nodes of an ejabberd cluster (issue 19
   * item 3): `host` or `host:port` (`[v6]:port`), the port defaulting as above. When the address in
   * use cannot be reached the next one is tried, at sign-in and on every reconnect. The certificate
   * is still checked against the account's domain, whichever address answers.
   */
  alternates: z.array(z.string().max(261).regex(SERVER_ADDRESS, 'host or host:port')).max(8).optional(),
});
export type ServerConfig = z.infer<typeof serverConfig>;
export type ServerTls = ServerConfig['tls'];

/** A server pre-set by the clinic policy: the same settings plus the domain the accounts live on. */
export const presetServer = serverConfig.extend({ domain: z.string().min(1) });

/** Milliseconds since the epoch. */
export const timestamp = z.number().int().nonnegative();

const direction = z.enum(['in', 'out']);

/** An @mention: a room member's real JID and the code-point range of the text naming them. */
export const mentionRange = z.object({
  jid: bareJid,
  begin: z.number().int().nonnegative(),
  end: z.number().int().positive(),
});

export const message = z.object({
  id: z.string(),
  conversationId: z.string(),
  direction: z.enum(['in', 'out']),
  state: messageState,
  /** null when the message could not be verified: the body is never shown then. */
  body: z.string().nullable(),
  /**
   * The time the conversation sorts by: for a received message, when our server (its trusted delay
   * stamp) or this device received it; for one sent from here, when it was written. Which time is
   * shown: common/message-time.ts (issue 10 §4).
   */
  sentAt: timestamp,
  /** Received messages: as sentAt; our own sent messages: when the recipient's device confirmed delivery. */
  receivedAt: timestamp.nullable(),
  /** The sender's own <time/> claim (received messages), shown when within the allowed skew of sentAt. */
  claimedAt: timestamp.nullable(),
  readAt: timestamp.nullable(),
  originId: z.string().nullable(),
  /**
   * Our own message in state 'failed': why, as an error code (KEY_CHANGED, FORBIDDEN, the last
   * attempt's code when the outbox gave up). The renderer words it (lib/errors.ts) beside Retry.
   */
  failure: z.string().max(64).nullable().optional(),
  /** The sender marked it Urgent; carried inside the signed OX payload only (issue 12 §7). */
  urgent: z.boolean().optional(),
  /** A care-team room message (issue 18): its sender's real bare JID, checked against their key. */
  senderJid: bareJid.optional(),
  /**
   * Its @mentions of room members (issue 18 §4), from the signed payload only: each member's real
   * JID and the code-point range of `body` that names them (common/mentions.ts). Gone after an edit.
   */
  mentions: z.array(mentionRange).max(MAX_MENTIONS).optional(),
  /** A received room message that mentions us (only from the signed payload, only by a member). */
  mentionsMe: z.boolean().optional(),
  /**
   * Our own message in a care-team room (issue 18 §4): the members whose XEP-0333 displayed marker
   * covers it (`jids`), of the `of` members besides us when it was sent.
   */
  readBy: z.object({ jids: z.array(bareJid), of: z.number().int().nonnegative() }).optional(),
  /** Its sender edited it (XEP-0308, issue 12 §6): when the shown text replaced the first. */
  editedAt: timestamp.optional(),
  /** Its sender deleted it for everyone (XEP-0424): body is null, the row says it was deleted. */
  deletedAt: timestamp.optional(),
  /**
   * A reply (XEP-0461, issue 12 §6): the message it answers, found only in this conversation.
   * messageId null: the referenced message is not here (never received, or purged). The excerpt is
   * the quoted text, null when that message has none to show (unverified).
   */
  replyTo: z
    .object({ messageId: z.string().nullable(), direction: direction.nullable(), excerpt: z.string().nullable() })
    .nullable()
    .optional(),
});
export type Message = z.infer<typeof message>;

/**
 * A file a message carries (issue 16, main/store/migrations/0011-attachments.ts). Sent: pending →
 * uploading → sent. Received: available → downloading → stored, or damaged (altered or cut on
 * the way: nothing kept). failed: `failure` says why (a code: a transfer failure, 'policy', a
 * refused element). Never the key, the address or the content: those stay in main.
 */
export const attachmentState = z.enum([
  'pending',
  'uploading',
  'sent',
  'available',
  'downloading',
  'stored',
  'damaged',
  'failed',
]);
export type AttachmentState = z.infer<typeof attachmentState>;

export const attachment = z.object({
  id: z.string(),
  messageId: z.string(),
  direction,
  /** A safe display name (no path, no control characters: crypto/file-sharing.ts safeDisplayName). */
  name: z.string(),
  mediaType: z.string(),
  /** Bytes of the plaintext. */
  size: z.number().int().nonnegative(),
  state: attachmentState,
  failure: z.string().max(64).nullable(),
  /** The sender sent a thumbnail (kept; not handed to the renderer until main re-encodes it). */
  hasThumbnail: z.boolean(),
  /** The file is in this profile's encrypted store: attachments:read can show it. */
  local: z.boolean(),
});
export type Attachment = z.infer<typeof attachment>;

export const conversationSummary = z.object({
  id: z.string(),
  peerJid: bareJid,
  title: z.string(),
  role: role.nullable(),
  presence,
  trust: trustState,
  lastMessage: z
    .object({
      /** The message's id: conversations:list audits which bodies it previewed (issue 10 §8). */
      id: z.string(),
      /** null when there is no text to show; state 'unverified' means it could not be verified. */
      preview: z.string().nullable(),
      at: timestamp,
      direction: z.enum(['in', 'out']),
      state: messageState,
      /** Its sender deleted it for everyone (issue 12 §6): no preview, the inbox says it was deleted. */
      deleted: z.boolean().optional(),
    })
    .nullable(),
  /** Inbound messages not yet read; messages that could not be verified are not counted (issue 10 §9). */
  unread: z.number().int().nonnegative(),
  /** Of those, marked Urgent by the sender (issue 12 §7): the inbox shows them distinctly. */
  urgentUnread: z.number().int().nonnegative().optional(),
  /** Of those, mentioning us (issue 18 §4, care-team rooms): the inbox shows an "@" for them. */
  mentionUnread: z.number().int().nonnegative().optional(),
  /**
   * A care-team room (issue 18): its member list as this workstation last read it from the room
   * (names, key state and presence come from the directory), and whether the room removed us.
   */
  room: z
    .object({
      left: z.boolean(),
      members: z.array(z.object({ jid: bareJid, affiliation: z.enum(['owner', 'admin', 'member']) })),
      /** An announcement room (issue 18 §4): only its owners post; everyone else has no composer. */
      announcement: z.boolean().optional(),
      /**
       * Set when the room no longer keeps the clinic's policy (issue 18 §5): `open` (people not on
       * its member list can join), `anonymous` (members cannot see who wrote). Nothing is sent to it
       * and nothing from it is accepted until it does again.
       */
      unsafe: z.array(z.enum(['open', 'anonymous'])).optional(),
    })
    .optional(),
  /**
   * A patient (issue 17), not a colleague: the texts sent to this mobile number through the clinic's
   * patient gateway and the patient's replies (id `patient:<number>`; patients:thread reads it,
   * patients:sendInThread writes in it). `check`: the identity check the newest text asked for.
   */
  patient: z.object({ phone: z.string().max(20), check: z.enum(['dob', 'code']) }).optional(),
});
export type ConversationSummary = z.infer<typeof conversationSummary>;

export const contact = z.object({
  jid: bareJid,
  displayName: z.string(),
  role: role.nullable(),
  presence,
  /** Their status message (RFC 6121 <status/>), when they set one; short, not PHI (issue 12 §7). */
  presenceStatus: statusText.nullable().optional(),
  trust: trustState,
  keyStatus,
  fingerprint: fingerprint.nullable(),
  /** Set when trust is 'changed': the new key's fingerprint, for comparison. */
  pendingFingerprint: fingerprint.nullable(),
  firstSeen: timestamp.nullable(),
  verifiedAt: timestamp.nullable(),
});
export type Contact = z.infer<typeof contact>;

export const connectionState = z.enum(['offline', 'connecting', 'online', 'error']);
export type ConnectionState = z.infer<typeof connectionState>;

export const lockReason = z.enum([
  'idle',
  'manual',
  'os-lock',
  'suspend',
  'switch-user',
  'startup',
  'quit',
  // The window was closed while the app keeps running (policy.lockOnWindowClose, issue 12 §4).
  'window-closed',
  // IT's signed erase command was accepted (issue 15, main/session/remote-wipe.ts): the profile is erased next.
  'remote-wipe',
]);
export type LockReason = z.infer<typeof lockReason>;

export const notificationPreview = z.enum(['none', 'sender', 'full']);
export type NotificationPreview = z.infer<typeof notificationPreview>;

export const theme = z.enum(['system', 'light', 'dark']);

export const auditEventType = z.enum([
  'sign-in',
  'unlock',
  'unlock-failed',
  /** At unlock, the database no longer held the newest audit row this PC mirrored (issue 10 §7). */
  'audit-rollback',
  'lock',
  'profile-wiped',
  'policy-applied',
  'policy-acknowledged',
  'passphrase-changed',
  'message-sent',
  'message-received',
  'message-rejected',
  /** Its sender edited a message (XEP-0308, issue 12 §6): its id and who, never the text. */
  'message-edited',
  /** Its sender deleted a message for everyone (XEP-0424): its id and who. */
  'message-deleted',
  /** An edit or deletion not signed by the message's own sender, or of a message not here. */
  'message-change-rejected',
  'message-opened',
  /** An attachment was shown (issue 16): message and attachment ids and `view` (thumbnail / viewer), never its name. */
  'attachment-opened',
  /** messages:search returned results: their count and message ids, never the query (issue 10 §8). */
  'message-search',
  /** conversations:list showed the last message's text as a preview: count and message ids. */
  'message-previewed',
  'key-generated',
  'key-published',
  'key-pinned',
  'key-changed',
  'key-change-acknowledged',
  'key-verified',
  'key-unavailable',
  'key-backup-published',
  'key-backup-shown',
  'key-restored',
  'key-replaced',
  'export',
  /** An admin command (remote wipe, issue 15): accepted, or ignored with the reason. */
  'wipe-command',
  /** The unlock's check for pending admin commands: whether the server was reached, how many were found. */
  'admin-check',
  /** The offline lease (issue 15 item 3): put on this profile, renewed at a connection (its new expiry), or withdrawn by the server. */
  'lease-enabled',
  'lease-renewed',
  'lease-revoked',
  'retention-purged',
  /** Audit anchoring (issue 15 item 4) sent nothing: the compliance account publishes no key, or not the pinned one. */
  'audit-anchor',
  /** A text to a patient (issue 17): stored, handed to the gateway, refused, or a new state from it; ids and states only. */
  'patient-text',
  /** A care-team room (issue 18): a member joined, was added or removed (room, jid, change), or a room broke the clinic's policy. */
  'room-membership',
  /**
   * A care-team room's settings as read from the room (issue 18 §4, §5): it became unsafe (no longer
   * members-only or non-anonymous: `problems`), safe again, or an announcement room or not.
   */
  'room-policy',
]);
export type AuditEventType = z.infer<typeof auditEventType>;

export const auditEntry = z.object({
  seq: z.number().int(),
  at: timestamp,
  type: auditEventType,
  /** Ids, JIDs, reasons — never message text. */
  detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
});
export type AuditEntry = z.infer<typeof auditEntry>;

/**
 * A text to a patient through the clinic's patient gateway (issue 17 item 2). 'sending': stored,
 * not yet taken by the gateway; then the gateway's states (docs/protocol.md "Patient gateway").
 */
export const patientTextState = z.enum([
  'sending',
  'queued',
  'sms-delivered',
  'opened',
  'replied',
  'expired',
  'failed',
]);
export type PatientTextState = z.infer<typeof patientTextState>;
export const patientText = z.object({
  id: z.string(),
  createdAt: timestamp,
  updatedAt: timestamp,
  patientName: z.string(),
  phone: z.string(),
  body: z.string(),
  smsText: z.string(),
  state: patientTextState,
  /** Why it failed: the gateway's reason code or an error code, never text. */
  failure: z.string().nullable(),
  /** p-…@patients.<domain> once the gateway took it. */
  patientJid: z.string().nullable(),
  expiresAt: timestamp.nullable(),
  /** How the patient proves who they are: their date of birth, or a one-time code texted to them. */
  check: z.enum(['dob', 'code']),
  /** What the patient wrote back, oldest first; `verified`: checked by date of birth or by an SMS code. */
  replies: z.array(z.object({ id: z.string(), at: timestamp, verified: z.enum(['dob', 'code']), body: z.string() })),
});
export type PatientText = z.infer<typeof patientText>;
