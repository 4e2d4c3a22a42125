/**
 * Every request channel: name → input and output schemas.
 * Names are `namespace:method`; the client factory turns them into `clinic.namespace.method(input)`.
 */
import { z } from 'zod';
import { MAX_MENTIONS } from '../mentions';
import { channel } from './define';
import {
  listedPatient,
  patientImport,
  patientSegment,
  patientSegmentDraft,
  patientTemplate,
  patientTemplateDraft,
} from './patient-lists';
import { plainSmsDraft, plainSmsRequest, plainSmsRequestDraft, plainSmsSent } from './patient-plain-sms';
import {
  attachment,
  auditEntry,
  auditEventType,
  bareJid,
  connectionState,
  contact,
  conversationSummary,
  fingerprint,
  lockReason,
  mentionRange,
  message,
  notificationPreview,
  ownPresence,
  patientText,
  presetServer,
  serverConfig,
  theme,
  timestamp,
} from './domain';

const none = z.null();
const profileId = z.string().regex(/^[a-z0-9-]{8,64}$/);
const cursor = z.string().max(200).nullable();
const pageLimit = z.number().int().min(1).max(200);

export const channels = {
  // --- app ---------------------------------------------------------------
  'app:info': channel(
    none,
    z.object({ name: z.string(), version: z.string(), platform: z.string(), harness: z.boolean() }),
    { whileLocked: true },
  ),
  /** The renderer reports user input (throttled); resets the inactivity timer. */
  'app:activity': channel(none, none, { whileLocked: true }),
  'app:connection': channel(none, z.object({ state: connectionState, detail: z.string().nullable() }), {
    whileLocked: true,
  }),
  /** The last update check (main/update/status.ts): Settings says when IT installs the update. */
  'app:updateStatus': channel(
    none,
    z.object({
      state: z.enum(['unknown', 'off', 'up-to-date', 'downloading', 'it-installs', 'refused']),
      version: z.string().nullable(),
    }),
  ),

  // --- vault: profiles, unlock, lock ----------------------------------------
  'vault:status': channel(
    none,
    z.object({
      state: z.enum(['no-profiles', 'locked', 'unlocked']),
      activeProfileId: profileId.nullable(),
      keychain: z.object({ available: z.boolean(), reason: z.string().nullable() }),
    }),
    { whileLocked: true },
  ),
  'vault:listProfiles': channel(
    none,
    z.array(z.object({ id: profileId, displayName: z.string(), openable: z.boolean() })),
    { whileLocked: true },
  ),
  /** First sign-in on this workstation: creates the profile, signs in, generates and publishes keys. */
  'vault:createProfile': channel(
    z.object({
      jid: bareJid,
      /** Only when the directory has no name for the account (DISPLAY_NAME_REQUIRED): the directory's name wins. */
      displayName: z.string().trim().min(1).max(100).optional(),
      xmppPassword: z.string().min(1).max(1024),
      passphrase: z.string().min(1).max(1024),
      server: serverConfig,
      policyAcknowledged: z.literal(true),
      /** XEP-0373 §5: the backup code from another workstation of this account (KEY_BACKUP_REQUIRED). */
      keyBackupCode: z.string().max(64).optional(),
      /** Consent to replace an account key that has no usable backup (ACCOUNT_KEY_EXISTS). */
      replaceAccountKey: z.boolean().optional(),
    }),
    z.object({ profileId }),
    { whileLocked: true },
  ),
  'vault:unlock': channel(
    z.object({ profileId, passphrase: z.string().min(1).max(1024) }),
    z.object({
      profileId,
      /** The database is older than the audit head this PC mirrored (restored copy): audited, and shown to the user. */
      auditRollback: z.object({ expectedSeq: z.number().int(), foundSeq: z.number().int() }).optional(),
    }),
    { whileLocked: true },
  ),
  'vault:lock': channel(z.object({ reason: lockReason.default('manual') }), none, { whileLocked: true }),
  /** Locks the current profile; the renderer then shows the chooser. */
  'vault:switchUser': channel(none, none, { whileLocked: true }),
  /** A profile this PC can still open needs its passphrase (a wrong one counts like a failed unlock). */
  'vault:removeProfile': channel(z.object({ profileId, passphrase: z.string().min(1).max(1024).optional() }), none, {
    whileLocked: true,
  }),
  'vault:changePassphrase': channel(
    z.object({ current: z.string().min(1).max(1024), next: z.string().min(1).max(1024) }),
    none,
  ),

  // --- account ----------------------------------------------------------------
  'account:me': channel(none, z.object({ jid: bareJid, displayName: z.string(), fingerprint: fingerprint.nullable() })),
  /**
   * The backup code of our key (XEP-0373 §5), to set up another workstation; audited. null: no
   * backup yet. Asks for the passphrase again: a wrong one counts and is throttled like a failed
   * unlock, and at the wipe threshold the session locks.
   */
  'account:keyBackup': channel(
    z.object({ passphrase: z.string().min(1).max(1024) }),
    z.object({ code: z.string(), fingerprint }).nullable(),
  ),

  // --- conversations --------------------------------------------------------
  'conversations:list': channel(
    z.object({ cursor, limit: pageLimit.default(50) }),
    z.object({ items: z.array(conversationSummary), nextCursor: cursor }),
  ),
  'conversations:open': channel(z.object({ peerJid: bareJid }), z.object({ conversationId: z.string() })),
  /**
   * The person saw the conversation up to this message (issue 12 §1): it was on screen while the
   * session was unlocked and the window focused. Inbound messages up to it, in display order, are
   * marked read and the sender gets a XEP-0333 displayed marker; later ones stay unread.
   */
  'conversations:markRead': channel(z.object({ conversationId: z.string().max(200), upTo: z.string().max(200) }), none),
  /**
   * "Mark as unread" (issue 12 §6): the received messages from `from` on count as unread again.
   * Local only: no marker goes to the sender (a read marker cannot be taken back).
   */
  'conversations:markUnread': channel(
    z.object({ conversationId: z.string().max(200), from: z.string().max(200) }),
    none,
  ),
  /**
   * The conversation the person is following live: on screen at its newest message, unlocked,
   * window visible and focused; null otherwise. Sent when that changes, not per message: a message
   * that arrives live in it is stored read (issue 11 §5), as it appears at once where the person is
   * looking. What arrived before, or by catch-up, is read only once shown (conversations:markRead).
   * NOT_FOUND (nothing in view then) for an unknown id.
   */
  'conversations:view': channel(z.object({ conversationId: z.string().max(200).nullable() }), none),
  /**
   * "New care-team room" (issue 18 §1, policy staffMayCreateRooms): a room with the safe settings,
   * `members` (from the directory) as its members and us as owner. FORBIDDEN when the policy or the
   * clinic server does not allow staff to create rooms; BAD_INPUT for a name out of bounds.
   */
  'rooms:create': channel(
    z.object({ name: z.string().max(200), members: z.array(bareJid).max(100) }),
    z.object({ conversationId: z.string() }),
  ),

  // --- messages ------------------------------------------------------------------
  'messages:page': channel(
    z.object({ conversationId: z.string().max(200), before: cursor, limit: pageLimit.default(50) }),
    z.object({ items: z.array(message), nextCursor: cursor }),
  ),
  /**
   * A window of history around one message (a search result): up to `limit` rows, about half
   * older and half newer than it, newest first like messages:page. `nextCursor` continues
   * older with messages:page; `hasNewer` says rows newer than the window exist (ask again
   * around the newest row held). NOT_FOUND when the message is not in that conversation.
   */
  'messages:around': channel(
    z.object({ conversationId: z.string().max(200), messageId: z.string().max(200), limit: pageLimit.default(50) }),
    z.object({ items: z.array(message), nextCursor: cursor, hasNewer: z.boolean() }),
  ),
  'messages:send': channel(
    z.object({
      conversationId: z.string().max(200),
      body: z.string().min(1).max(8000),
      /** The id of a message of this conversation it answers (XEP-0461 reply, issue 12 §6). */
      replyTo: z.string().max(200).optional(),
      /** Marked Urgent: notifies even under Do not disturb, per policy (issue 12 §7). */
      urgent: z.boolean().optional(),
      /**
       * @mentions of the room's members (care-team rooms, issue 18 §4): code-point ranges of `body`.
       * main keeps only those of current members that fit the text; elsewhere they are ignored.
       */
      mentions: z.array(mentionRange).max(MAX_MENTIONS).optional(),
    }),
    message,
  ),
  'messages:retry': channel(z.object({ messageId: z.string().max(200) }), message),
  /**
   * Edits our own sent message for everyone (XEP-0308 inside the signed payload, issue 12 §6); the
   * row then shows "edited". NOT_FOUND: not our message; CONFLICT: not sent yet; NOT_CONNECTED:
   * offline, nothing changed.
   */
  'messages:edit': channel(z.object({ messageId: z.string().max(200), body: z.string().min(1).max(8000) }), message),
  /** Deletes our own sent message for everyone (XEP-0424); the row then says it was deleted. Errors as messages:edit. */
  'messages:delete': channel(z.object({ messageId: z.string().max(200) }), message),

  // --- attachments (issue 16: files end to end encrypted; policy attachmentsAllowed, maxAttachmentMB) ---
  /**
   * Sends a file, with text or without: stored encrypted in the profile first, then uploaded and
   * sent by the outbox (never twice). Answers the queued message; its file's state follows in
   * 'attachment:updated' and 'attachment:progress'. FORBIDDEN / TOO_LARGE by policy.
   */
  'attachments:send': channel(
    z.object({
      conversationId: z.string().max(200),
      body: z.string().max(8000).optional(),
      replyTo: z.string().max(200).optional(),
      urgent: z.boolean().optional(),
      /** @mentions in the file's text, as for messages:send (care-team rooms, issue 18 §4). */
      mentions: z.array(mentionRange).max(MAX_MENTIONS).optional(),
      file: z.object({
        /** Shown to the recipient after main made it safe (no path, no control characters). */
        name: z.string().min(1).max(255),
        mediaType: z.string().max(255),
        data: z.instanceof(Uint8Array),
      }),
    }),
    message,
    // The largest file a policy may allow (maxAttachmentMB at most 4096); messaging applies the policy's own limit.
    { maxBytes: 4096 * 1024 * 1024 },
  ),
  /** A conversation's attachments, oldest first: state, name, type and size; never a key, an address or content. */
  'attachments:list': channel(z.object({ conversationId: z.string().max(200) }), z.array(attachment)),
  /**
   * Fetches a received file, checks it and keeps it encrypted in the profile (progress in
   * 'attachment:progress'). Answers its state: stored, damaged (altered or cut: nothing kept) or
   * failed (a transfer failure: try again). FORBIDDEN / TOO_LARGE by policy, CONFLICT when damaged.
   */
  'attachments:download': channel(z.object({ attachmentId: z.string().max(200) }), attachment),
  /**
   * Cancels the file's upload or download under way: nothing partial is kept. A download ends
   * failed ('cancelled', may be tried again); an upload's message fails CANCELLED until Retry.
   * `cancelled` false when nothing was moving (it had just finished, or never started).
   */
  'attachments:cancel': channel(z.object({ attachmentId: z.string().max(200) }), z.object({ cancelled: z.boolean() })),
  /**
   * A stored file's bytes, for a preview: only PNG, JPEG, WebP and PDF whose name, type and
   * content agree; an image re-encoded by main without metadata (the renderer shows it through a
   * blob: URL); FORBIDDEN for any other file. Audited ('attachment-opened': ids and `view`).
   */
  'attachments:read': channel(
    z.object({ attachmentId: z.string().max(200), view: z.enum(['thumbnail', 'viewer']).default('thumbnail') }),
    z.object({ mediaType: z.string(), data: z.instanceof(Uint8Array) }),
  ),
  /**
   * "Save as…" (policy exportAllowed, off by default): main asks where (the system's save dialog)
   * and writes the file as it was sent there; `saved` false when the person cancelled. FORBIDDEN
   * when the policy does not allow it. Audited ('export': ids only, never the name or the path).
   */
  'attachments:export': channel(z.object({ attachmentId: z.string().max(200) }), z.object({ saved: z.boolean() })),
  /**
   * "Open in another app" (policy exportAllowed, off by default): an export, since the other app
   * needs the file in the clear. Main writes a copy into the profile's own folder, never the
   * system's temp folder, and hands it to the system's default app for its type; the copy is
   * removed when the session locks or closes. FORBIDDEN when the policy does not allow it.
   * Audited ('export' with `to: 'app'`: ids only, never the name or the path).
   */
  'attachments:openExternally': channel(
    z.object({ attachmentId: z.string().max(200) }),
    z.object({ opened: z.literal(true) }),
  ),
  /**
   * Drag-out (policy exportAllowed, off by default): an export to wherever the person drops the
   * file (a folder, another app). Main writes a copy into the profile's own folder, as for
   * openExternally, and starts the system's drag with it; the copy is removed when the session
   * locks or closes. FORBIDDEN when the policy does not allow it. Audited ('export' with
   * `to: 'drag'`: ids only, never the name or the path).
   */
  'attachments:dragOut': channel(
    z.object({ attachmentId: z.string().max(200) }),
    z.object({ started: z.literal(true) }),
  ),

  // --- drafts (issue 12 §2: nothing typed is lost) ---------------------------------
  /** The conversation's unsent composer text ('' when none), kept encrypted in the store. */
  'drafts:get': channel(z.object({ conversationId: z.string().max(200) }), z.object({ text: z.string() })),
  /** Saves it (blank text removes it); messages:send removes it once the message is accepted. */
  'drafts:set': channel(z.object({ conversationId: z.string().max(200), text: z.string().max(8000) }), none),
  // --- patients (issue 17: texts through the clinic's patient gateway) ------------
  /**
   * Stores the text, then hands it to the gateway: the patient gets a PHI-free SMS with a link and
   * opens it after a date-of-birth check. FORBIDDEN: PHI in the SMS text, or no archive key in the
   * policy; BAD_INPUT: the number or the date; the gateway's refusals as CONFLICT / THROTTLED.
   * Offline, the text stays 'sending' and goes at the next connection.
   */
  'patients:send': channel(
    z.object({
      patientName: z.string().trim().min(1).max(200),
      phone: z.string().max(20),
      /** How the patient proves who they are; 'code': a one-time code texted to the number, no date of birth. */
      check: z.enum(['dob', 'code']).default('dob'),
      dob: z.string().max(10).default(''),
      text: z.string().trim().min(1).max(8000),
      smsTemplate: z.string().max(400),
    }),
    patientText,
  ),
  /** The texts to patients, newest first. */
  'patients:list': channel(none, z.array(patientText)),
  /**
   * A patient conversation in the inbox (issue 17; `phone` from its summary's `patient`): the texts
   * to that number, oldest first, each with the patient's replies. NOT_FOUND: no such conversation.
   */
  'patients:thread': channel(z.object({ phone: z.string().max(20) }), z.array(patientText)),
  /** The patient's replies in it have been seen: its unread count goes to 0 ('conversation:updated'). */
  'patients:markRead': channel(z.object({ phone: z.string().max(20) }), none),
  /**
   * A new text in a patient conversation, to the same number and name with the same identity check
   * as its newest text (the date of birth stays a verifier: never asked again, never stored). The
   * same checks and answers as patients:send: the SMS text checker, the archive key, the gateway's
   * refusals (an opted-out number: CONFLICT, and the text is stored as failed with the reason).
   */
  'patients:sendInThread': channel(
    z.object({
      phone: z.string().max(20),
      text: z.string().trim().min(1).max(8000),
      smsTemplate: z.string().max(400),
    }),
    patientText,
  ),
  /**
   * The clinic's patient list from a CSV file (UTF-8 bytes; issue 17 item 5): every row is checked
   * and every refused row named (row number and reason). With refused rows and skipRefused false
   * nothing is written; with skipRefused true the other rows are. BAD_INPUT: the file as a whole.
   */
  'patients:import': channel(
    z.object({ csv: z.instanceof(Uint8Array), skipRefused: z.boolean().default(false) }),
    patientImport,
    { maxBytes: 4 * 1024 * 1024 },
  ),
  /** The imported patients, by last name. */
  'patients:directory': channel(none, z.array(listedPatient)),
  /**
   * Plain SMS on a patient's documented request (issue 17 item 4; common/contract/patient-plain-sms.ts).
   * Every one is FORBIDDEN unless the policy has patientPlainSmsAllowed. A send needs the patient's
   * recorded request and warningConfirmed: true; the gateway may still refuse (its config, opt-out,
   * quiet hours, frequency cap: CONFLICT / THROTTLED / FORBIDDEN with the reason in details.refused).
   */
  'patients:plainSmsRequests': channel(none, z.array(plainSmsRequest)),
  'patients:recordPlainSmsRequest': channel(plainSmsRequestDraft, plainSmsRequest),
  'patients:withdrawPlainSmsRequest': channel(z.object({ patientId: z.string().min(1).max(64) }), none),
  'patients:sendPlainSms': channel(plainSmsDraft, plainSmsSent),
  'patients:templates': channel(none, z.array(patientTemplate)),
  /** Saves a template; BAD_INPUT names every problem (unknown placeholder, PHI in the SMS text). */
  'patients:saveTemplate': channel(patientTemplateDraft, patientTemplate),
  'patients:deleteTemplate': channel(z.object({ id: z.string().max(64) }), none),
  /**
   * The template to each chosen patient, each with their own link secret: every recipient's text is
   * stored before the first goes; progress in 'patient:segment'; resumed at the next connection.
   */
  'patients:sendSegment': channel(patientSegmentDraft, patientSegment),
  /** Segment sends, newest first, with their progress. */
  'patients:segments': channel(none, z.array(patientSegment)),
  'messages:search': channel(
    z.object({ query: z.string().min(1).max(200), cursor, limit: pageLimit.default(20) }),
    z.object({
      items: z.array(
        z.object({
          messageId: z.string(),
          conversationId: z.string(),
          title: z.string(),
          text: z.string(),
          /** Highlight ranges into `text`, [start, end) in UTF-16 code units. Never HTML. */
          ranges: z.array(z.tuple([z.number().int(), z.number().int()])),
          at: z.number().int(),
        }),
      ),
      nextCursor: cursor,
    }),
  ),

  // --- contacts / directory -----------------------------------------------------
  'contacts:directory': channel(none, z.array(contact)),
  'contacts:get': channel(z.object({ jid: bareJid }), contact),
  /** A person compared fingerprints (or scanned the QR code) and confirms they match. */
  'contacts:verify': channel(z.object({ jid: bareJid, fingerprint }), contact),
  /** A person acknowledged a changed key; sending is unblocked (the key is pinned, not verified). */
  'contacts:acceptKeyChange': channel(z.object({ jid: bareJid, fingerprint }), contact),
  /**
   * The 60-digit safety number of our key and this contact's key (pinned or pending), the same on
   * both screens (issue 12 §8, main/crypto/safety-number.ts). NOT_FOUND when `fingerprint` is
   * neither of that contact's keys, or we have no key yet.
   */
  'contacts:safetyNumber': channel(
    z.object({ jid: bareJid, fingerprint }),
    z.object({ number: z.string().regex(/^\d{60}$/) }),
  ),

  // --- settings & policy ------------------------------------------------------------
  'settings:get': channel(
    none,
    z.object({
      lockTimeoutMinutes: z.number().positive(),
      notificationPreview,
      theme,
      /** Notification sounds (issue 12 §7). */
      sound: z.boolean(),
      /** Conversations that do not notify (urgent ones still may, per policy). */
      mutedConversations: z.array(z.string()),
      /** Our own presence, sent on every connect. */
      presence: ownPresence,
      limits: z.object({
        maxLockTimeoutMinutes: z.number().positive(),
        maxNotificationPreview: notificationPreview,
        /** policy.urgentBypassesDnd (issue 12 §7). */
        urgentBypassesDnd: z.boolean().optional(),
      }),
    }),
  ),
  'settings:update': channel(
    z.object({
      lockTimeoutMinutes: z
        .number()
        .positive()
        .max(24 * 60)
        .optional(),
      notificationPreview: notificationPreview.optional(),
      theme: theme.optional(),
      sound: z.boolean().optional(),
      /** Mute or unmute one conversation (a conversation action). */
      mute: z.object({ conversationId: z.string().min(1).max(200), muted: z.boolean() }).optional(),
      presence: ownPresence.optional(),
    }),
    none,
  ),
  'policy:get': channel(
    none,
    z.object({
      source: z.string().nullable(),
      error: z.string().nullable(),
      messagingPolicyText: z.string(),
      exportAllowed: z.boolean(),
      screenshotsAllowed: z.boolean(),
      /** Staff may create care-team rooms (issue 18 §1): the "New care-team room" action. */
      staffMayCreateRooms: z.boolean().optional(),
      /** Plain SMS on a patient's documented request (issue 17 item 4): the option is shown only then. */
      patientPlainSmsAllowed: z.boolean().optional(),
      /** Shown on the first-run screen next to the passphrase field (policy passphraseMinLength). */
      passphraseMinLength: z.number().int().positive().optional(),
      /** The clinic server IT pre-set in the policy (first run pre-fills it); null: the user types it. */
      server: presetServer.nullable().optional(),
      /** Messages older than this many days are removed from the workstation (null: kept). */
      retentionDays: z.number().int().positive().nullable().optional(),
      /** The policy keys IT set (Settings shows them as "Managed by your organization", issue 14 item 3). */
      managedKeys: z.array(z.string()).optional(),
      /** IT can erase this PC's profiles with a signed command (issue 15: adminKeyFingerprints + adminAccount). */
      remoteWipe: z.boolean().optional(),
    }),
    { whileLocked: true },
  ),

  // --- audit -------------------------------------------------------------------------
  'audit:list': channel(
    z.object({
      before: z.number().int().nullable(),
      limit: pageLimit.default(100),
      /** The audit screen's filter (issue 15 item 5): left out, the whole log as before. */
      filter: z
        .object({
          /** Inclusive bounds (ms); the screen turns local-time days into these. */
          from: timestamp.optional(),
          to: timestamp.optional(),
          types: z.array(auditEventType).min(1).max(auditEventType.options.length).optional(),
          person: bareJid.optional(),
        })
        .strict()
        .refine((f) => f.from === undefined || f.to === undefined || f.from <= f.to, 'the range ends before it starts')
        .optional(),
    }),
    z.object({ items: z.array(auditEntry), nextBefore: z.number().int().nullable() }),
  ),
  'audit:verify': channel(
    none,
    z.object({
      ok: z.boolean(),
      checked: z.number().int(),
      problems: z.array(
        z.object({ seq: z.number().int(), kind: z.enum(['edited', 'deleted', 'inserted', 'reordered']) }),
      ),
      /** Stored messages with no audit entry of their own (how many; the first few ids). */
      unaudited: z.object({ count: z.number().int().nonnegative(), ids: z.array(z.string()).max(20) }),
    }),
  ),
  'audit:exportCsv': channel(none, z.object({ filename: z.string(), csv: z.string() })),
  /** When this profile's chain was last anchored with the compliance account (issue 15 items 4–5). */
  'audit:anchoring': channel(
    none,
    z.object({
      /** The policy names a compliance account and key (anchoring is on). */
      enabled: z.boolean(),
      /** When the server last confirmed a batch (ms), null: never. */
      lastAnchoredAt: timestamp.nullable(),
      /** The newest entry anchored (0: none). */
      anchoredSeq: z.number().int().nonnegative(),
      /** Longer ago than the policy's auditAnchorOverdueHours (or never, for longer than that). */
      overdue: z.boolean(),
      overdueHours: z.number().int().positive(),
    }),
  ),
} as const;

export type Channels = typeof channels;
export type ChannelName = keyof Channels;
