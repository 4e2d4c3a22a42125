/** The messaging service's public shape (/tmp/interfaces.md "Messaging"); main/session/ creates one per unlock. */
import type {
  Attachment,
  ConnectionState,
  Contact,
  Message,
  OwnPresence,
  Presence,
  ServerConfig,
} from '../../common/contract/domain';
import type { MentionRange } from '../../common/mentions';
import type { AuditLog } from '../audit';
import type { AnchoringStatus } from '../audit/anchor-batches';
import type { Clock } from '../clock';
import type { DecryptJob, DecryptPoolMetrics } from '../crypto';
import type { EventBus } from '../events';
import type { Logger } from '../log';
import type { Policy } from '../policy/schema';
import type { PatientPlainSms } from './patient-plain-sms';
import type { PatientTexts } from './patient-texts';
import type { Store } from '../store';
import type { FileStore } from '../attachments/file-store';
import type { AdminCommandText } from './admin-commands';
import type { OutgoingFile } from './attachments';
import type { PreviewView, StoredFileStream } from './attachment-download';
import type { XmppConnection } from './transport/connection';

export interface AccountConfig {
  jid: string;
  password: string;
  /** host/port default to the JID's domain and 5222 (STARTTLS) or 5223 (direct TLS). */
  server: ServerConfig;
}

export interface MessagingOptions {
  account: AccountConfig;
  store: Store;
  audit: AuditLog;
  events: EventBus;
  logger: Logger;
  policy: Policy;
  clock: Clock;
  /**
   * The network's timers: reconnect waits, keep-alive, outbox retries, waits for the server.
   * Default: the system clock. Apart from `clock` (dates, schedules, the lock) because a test's
   * fake clock must not stall a real socket; in the app both are the system clock.
   */
  transportClock?: Clock;
  /** Extra CA (PEM) trusted for the server certificate besides the system store and policy.trustedCaPem. */
  tls?: { ca?: string };
  /** The workstation profile's id: audit anchoring (issue 15 item 4) names it in each batch; none: no anchoring. */
  workstationId?: string;
  /** Tests and benchmarks: a fixed resource (device) name, reconnect timing. */
  resource?: string;
  reconnect?: { baseMs?: number; maxMs?: number };
  /** Concurrent decrypts during catch-up (default: enough to keep every core busy). */
  decryptConcurrency?: number;
  /**
   * The session is locked: messages still arriving are stored, but nothing reaches the renderer
   * (it holds no PHI while locked). Asked per event; default: never locked.
   */
  locked?: () => boolean;
  /** Our presence as the person set it (issue 12 §7), sent on every fresh connect; default Available. */
  ownPresence?: () => OwnPresence;
  /**
   * A new verified message arrived live (not a carbon, not catch-up), while not locked. What an
   * OS notification may say is the session's decision (main/session/notifications.ts), not XMPP's.
   */
  onLiveMessage?: (m: Message, peer: string) => void;
  /**
   * A patient's reply came through the patient gateway (issue 17), while not locked: the session
   * decides what its notification says, as for a message (main/session/notifications.ts).
   */
  onPatientReply?: (r: { conversationId: string; patientName: string; body: string }) => void;
  /**
   * An admin command (remote wipe, issue 15) was found live or in catch-up: its text, unverified,
   * and its sender. Whether it is genuine and for us is the session's decision
   * (main/session/remote-wipe.ts); it is never stored as a message. Called without waiting.
   */
  onAdminCommand?: (found: AdminCommandText, via: 'live' | 'archive') => void;
  /**
   * A reconnect was refused by the server for this account (SASL not-authorized, account-disabled,
   * credentials-expired: admin-check.ts isAccountRefusal) — never for a network failure. What it
   * means (policy.wipeOnAccountDisabled) is the session's decision.
   */
  onAccountRefused?: () => void;
  /**
   * The stream is ready (every connection, fresh or resumed): the session renews the offline
   * lease over it (main/session/offline-lease.ts, xmpp/lease-storage.ts). Called without waiting.
   */
  onConnected?: (conn: XmppConnection) => void;
  /** The profile's encrypted attachment files (issue 16); none: attachments cannot be sent or fetched. */
  files?: FileStore;
  /** Tests only: explicit fault injection (never set by the app). */
  inspect?: MessagingInspect;
  /** Benchmarks only: where catch-up and live delivery spend their time (never set by the app: nothing is measured). */
  metrics?: MessagingMetrics;
}

/**
 * Measurement hooks for test/bench/xmpp.bench.ts. Every hook is optional and called only when
 * given; times are performance.now() milliseconds (a monotonic measurement, not the app's Clock).
 */
export interface MessagingMetrics {
  /** One chunk from the server handled on this thread: XML parsing plus the stanza handlers it runs. */
  inboundData?(ms: number, bytes: number): void;
  /** One archive page (catch-up): requested at `sent`, complete (its <fin/>) at `done`, with `results` results. */
  page?(sent: number, done: number, results: number): void;
  /** One archive result turned into a receive item on this thread (checks, dedup, decryption started). */
  archiveResult?(ms: number): void;
  /** One store transaction of received messages: its `ms`, of which `auditMs` appending audit entries. */
  commit?(items: number, ms: number, auditMs: number): void;
  /** Events for stored messages and catch-up progress (to the renderer, the session). */
  events?(ms: number): void;
  /** The decrypt pool's workers. */
  pool?: DecryptPoolMetrics;
  /** One live message reached `stage` (sender: signed, acked; receiver: the rest), by origin-id. */
  live?(stage: LiveStage, originId: string, at: number): void;
}

export type LiveStage = 'signed' | 'acked' | 'arrived' | 'decrypt-start' | 'decrypted' | 'stored';

export interface MessagingInspect {
  /**
   * Called before each decryption, live or catch-up. Throwing stands for the crypto layer failing
   * for an internal reason (a dead worker pool), not for a bad message: the item is not stored and
   * catch-up retries it (issue 10 §11). A returned promise holds the decryption until it settles
   * (a message still on its way in when something else happens, e.g. the session locks).
   */
  beforeDecrypt?: (job: DecryptJob) => void | Promise<void>;
  /** Called once an attachment's upload is recorded, before its message is signed and sent (a crash there). */
  afterUpload?: (messageId: string) => void | Promise<void>;
  /** Called when a room being made (room-create.ts) is set up and checked, before its members are added. */
  beforeRoomMembers?: (room: string) => void | Promise<void>;
}

export interface Messaging {
  /** Connects (TLS, SCRAM), enables stream management, publishes our key on first run, catches up.
   *  With firstRun it rejects with AUTH_FAILED / TLS_REQUIRED / NOT_CONNECTED; otherwise it keeps retrying. */
  start(opts?: StartOptions): Promise<void>;
  /** Stops reconnecting first (PROTOCOL.md), then closes the stream. */
  stop(): Promise<void>;
  connection(): { state: ConnectionState; detail: string | null };
  /**
   * Stores the message (queued), then signcrypts and sends it; KEY_CHANGED / KEY_UNAVAILABLE refuse.
   * To a colleague who has published no key yet it waits, queued, until their key appears (issue 12 §3).
   */
  /** `replyTo`: the id of a message of this conversation it answers (XEP-0461); NOT_FOUND otherwise. */
  /** `urgent`: marked Urgent inside the signed payload (issue 12 §7). */
  /** `mentions`: @mentions of a care-team room's members (issue 18 §4); only current members' are kept. */
  send(
    conversationId: string,
    body: string,
    replyTo?: string,
    urgent?: boolean,
    mentions?: readonly MentionRange[],
  ): Promise<Message>;
  /**
   * A message carrying a file (issue 16, xmpp/attachments.ts): the file is stored encrypted in the
   * profile first, then the message (queued) with its attachment row; the outbox uploads it and
   * sends the message with its XEP-0447/0448 element. FORBIDDEN / TOO_LARGE by policy.
   * `mentions`: @mentions in `body`, kept as for send() (a care-team room's current members only).
   */
  sendAttachment(
    conversationId: string,
    file: OutgoingFile,
    opts?: { body?: string; replyTo?: string; urgent?: boolean; mentions?: readonly MentionRange[] },
  ): Promise<Message>;
  /** The conversation's attachments, oldest first (no key, address or content). */
  attachments(conversationId: string): Attachment[];
  /**
   * Fetches a received file, checks its size, tag and hash and keeps it encrypted in the profile
   * (xmpp/attachment-download.ts). Resolves with its state: stored, damaged (nothing kept) or
   * failed (a transfer failure, may be tried again); rejects on policy, NOT_FOUND, CONFLICT.
   */
  downloadAttachment(attachmentId: string): Promise<Attachment>;
  /** Cancels the attachment's upload or download under way; false when none is (attachments.ts cancel). */
  cancelTransfer(attachmentId: string): boolean;
  /**
   * A stored file's bytes for a preview: images (PNG, JPEG, WebP) and PDF whose content matches;
   * FORBIDDEN otherwise. For a `thumbnail` of a file not downloaded, the sender's thumbnail
   * re-encoded here, when the message carried one; NOT_FOUND otherwise.
   */
  readAttachment(attachmentId: string, view?: PreviewView): Promise<{ mediaType: string; data: Uint8Array }>;
  /**
   * A stored file's plaintext as sent, for an export the policy allows (the caller checks
   * exportAllowed): the stream fails, without its end, unless tag, size and hash hold.
   */
  openAttachment(attachmentId: string): Promise<StoredFileStream>;
  /** A failed message goes back to the outbox. */
  retry(messageId: string): Promise<Message>;
  /**
   * Edits (XEP-0308) or deletes for everyone (XEP-0424) our own sent message (issue 12 §6,
   * message-change.ts): sent first, stored and audited once the server took it. NOT_FOUND for a
   * message that is not ours, CONFLICT before it left, NOT_CONNECTED offline (nothing changes).
   */
  change(messageId: string, change: { kind: 'edit'; body: string } | { kind: 'retract' }): Promise<Message>;
  /** XEP-0333 <displayed/> for the newest inbound message of a conversation. */
  markDisplayed(conversationId: string, upTo?: string): Promise<void>;
  presenceOf(jid: string): Presence;
  /** Sends our presence now (issue 12 §7) when connected; the session saved it and every connect sends it. */
  setPresence(p: OwnPresence): void;
  ownFingerprint(): string | null;
  directory(): Contact[];
  contact(jid: string): Contact;
  verifyContact(jid: string, fingerprint: string): Promise<Contact>;
  acceptKeyChange(jid: string, fingerprint: string): Promise<Contact>;
  /** After a first run's start: our own name in the clinic directory (vCard FN), null when it has none. */
  directoryName(): string | null;
  /** Our key's backup code (XEP-0373 §5), kept in the encrypted cache; null until a backup is published. */
  keyBackup(): { code: string; fingerprint: string } | null;
  /**
   * The conversation the user has in view, or null (none, window hidden). Inbound messages to it
   * are stored read as they arrive (issue 11 §5); the renderer says so once, not per message.
   */
  view(conversationId: string | null): void;
  /** Audit anchoring (issue 15 item 4): when this profile's chain was last anchored, and whether that is overdue. */
  anchoring(): AnchoringStatus;
  /** Texts to patients through the clinic's patient gateway (issue 17, patient-texts.ts). */
  readonly patients: Pick<PatientTexts, 'send' | 'list' | 'lists' | 'segments' | 'conversations'> & {
    /** Plain SMS on a patient's documented request (issue 17 item 4, patient-plain-sms.ts). */
    readonly plainSms: PatientPlainSms;
  };
  /**
   * A care-team room made by this workstation (issue 18 §1, policy staffMayCreateRooms): the safe
   * configuration, the chosen colleagues as members, us as owner (room-create.ts). FORBIDDEN when
   * the policy or the server does not allow it; BAD_INPUT for a name or members out of bounds.
   */
  createRoom(o: { name: string; members: string[] }): Promise<{ conversationId: string; room: string }>;
  /** Tests and benchmarks: what the service is doing. Not part of the IPC surface. */
  readonly inspect: MessagingProbe;
}

export interface MessagingProbe {
  /** Waits until nothing is queued or in flight in the outbox; false when `timeoutMs` passed first. */
  outboxIdle(timeoutMs: number): Promise<boolean>;
  /** Resolves once the current fresh session's setup (key publication, catch-up, presence) has run or given up. */
  settled(): Promise<void>;
  /** Sends the audit entries not yet anchored now (issue 15 item 4); resolves when that run ends, whatever its outcome. */
  anchor(): Promise<void>;
}

export interface StartOptions {
  firstRun?: boolean;
  /**
   * First run on a workstation when the account already has a key: the backup code restores it
   * (else KEY_BACKUP_REQUIRED / KEY_BACKUP_CODE_WRONG); without a usable backup,
   * replaceAccountKey consents to a new key (else ACCOUNT_KEY_EXISTS).
   */
  keyBackupCode?: string;
  replaceAccountKey?: boolean;
  /**
   * First run without a name typed: the clinic directory must have one (own-name.ts), else the
   * start fails with DISPLAY_NAME_REQUIRED before any key is settled or published (issue 12 §5).
   */
  nameRequired?: boolean;
}
