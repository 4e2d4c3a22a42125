/**
 * The store's public shape (ARCHITECTURE.md §5, issue 4). XMPP, the session and the IPC handlers
 * code against these types; the SQL behind them lives only in main/store/.
 *
 * Ids cross the IPC boundary as strings (common/contract/domain.ts); inside the database they are
 * INTEGER rowids. A string id that is not one of ours is simply "not found", never an error.
 */
import type {
  AttachmentState,
  AuditEventType,
  Contact,
  ConversationSummary,
  Message,
  MessageState,
  Role,
  TrustState,
} from '../../common/contract/domain';
import type { PatientConversationRepo } from './repos/patient-conversations';
import type { PatientTextRepo } from './repos/patient-texts';
import type { PatientListRepo } from './repos/patient-lists';
import type { RoomRepo } from './repos/rooms';
import type { RoomReadRepo } from './repos/room-reads';
import type { ReadMarkers } from './repos/read-markers';

export type { Message, MessageState };

/** A contact as stored: the domain Contact without presence (presence is live, from XMPP). */
/** Presence is live and keyStatus per session (main/xmpp/key-status.ts): neither is stored. */
export type StoredContact = Omit<Contact, 'presence' | 'keyStatus'> & {
  /** The pinned OpenPGP public key (binary transferable key), when fetched. */
  publicKey: Uint8Array | null;
  updatedAt: number;
};

export interface ContactUpsert {
  jid: string;
  displayName?: string;
  role?: Role | null;
}

export interface ContactKeyUpdate {
  trust: TrustState;
  fingerprint?: string | null;
  pendingFingerprint?: string | null;
  publicKey?: Uint8Array | null;
  /** Set when a person verified the fingerprint; null clears it. */
  verifiedAt?: number | null;
  /** Set once, the first time a key is pinned; ignored when already set. */
  firstSeen?: number | null;
}

export interface ContactRepo {
  /** Creates or updates name/role; never touches trust. Returns the stored row. */
  upsert(c: ContactUpsert, now?: number): StoredContact;
  get(jid: string): StoredContact | undefined;
  list(): StoredContact[];
  /** Key and trust changes (pin, change, verify, accept). Creates the contact if missing. */
  setKey(jid: string, update: ContactKeyUpdate, now?: number): StoredContact;
}

export interface ConversationRow {
  id: string;
  peerJid: string;
  createdAt: number;
  /** Max of createdAt and the newest message's sentAt: the list's sort key. */
  lastAt: number;
}

/** A conversation-list row without presence (the IPC handler adds live presence). */
export type ConversationListItem = Omit<ConversationSummary, 'presence'>;

export interface Page<T> {
  items: T[];
  /** Opaque; pass back to get the next (older) page. null: no more. */
  nextCursor: string | null;
}

export interface ConversationRepo {
  /** The one conversation with this peer, created on first use. */
  getOrCreate(peerJid: string, now?: number): ConversationRow;
  get(id: string): ConversationRow | undefined;
  byPeer(peerJid: string): ConversationRow | undefined;
  /** Newest activity first, with last message and unread count. Keyset cursor. */
  list(opts: { cursor: string | null; limit: number }): Page<ConversationListItem>;
  /** One row of the list (for 'conversation:updated' events). */
  summary(id: string): ConversationListItem | undefined;
  /**
   * Marks unread inbound messages read; returns how many changed. With `upTo` (a message id),
   * only those at or before it in display order (sent_at, id): what the reader has seen.
   * `at` defaults to the store's clock (the session's).
   */
  markRead(id: string, at?: number, upTo?: string): number;
  /**
   * Marks read what a read mark naming `upTo` covers (XEP-0490, from a workstation of ours,
   * xmpp/read-sync.ts): as markRead with `upTo`, and only messages stored here no later than it.
   * The archive gives a caught-up message a stamp in whole seconds, so one archived just after the
   * marked message can sort before it here; it was not read there. (An older message stored after
   * the marked one, by a catch-up that filled a gap, stays unread too: the safe side.)
   */
  markReadAsMarked(id: string, at: number, upTo: string): number;
  /** "Mark as unread": the inbound messages at or after `from` (display order) are unread again; returns how many changed. */
  markUnread(id: string, from: string): number;
}

export interface NewMessage {
  conversationId: string;
  direction: 'in' | 'out';
  state: MessageState;
  /** null for a message that could not be verified (never shown). */
  body: string | null;
  /** XEP-0359 origin-id set by the sender. */
  originId?: string | null;
  /** XEP-0359 stanza-id assigned by the archive (MAM, XEP-0313). */
  stanzaId?: string | null;
  /** The honest time that orders the conversation (see the domain Message). */
  sentAt: number;
  receivedAt?: number | null;
  /** The sender's own claimed <time/> (inbound). */
  claimedAt?: number | null;
  readAt?: number | null;
  /** XEP-0461: the origin-id of the message this one answers (migration 0008). */
  replyToOriginId?: string | null;
  /** The fingerprint that signed a received message (migration 0010): its edits must carry it too. */
  signer?: string | null;
  /** Marked Urgent (issue 12 §7, migration 0009). */
  urgent?: boolean;
  /** A room message's sender, their real bare JID (issue 18, migration 0014); unset in a pair. */
  senderJid?: string | null;
  /** Its @mentions of room members (issue 18 §4, migration 0016); checked by the caller. */
  mentions?: readonly { jid: string; begin: number; end: number }[] | null;
  /** A verified received room message that mentions us. */
  mentionsMe?: boolean;
}

/** What applyChange writes: XEP-0308's new text, or XEP-0424's deletion. */
export type MessageChangeWrite = { kind: 'edit'; body: string } | { kind: 'retract' };

export interface InsertResult {
  id: string;
  /** false: a re-delivery (same origin-id or stanza-id in this conversation): nothing changed. */
  inserted: boolean;
}

export interface BulkInsertResult {
  /** Same order as the input. */
  results: InsertResult[];
  inserted: number;
  duplicates: number;
}

export interface SearchHit {
  messageId: string;
  conversationId: string;
  title: string;
  /** The body, or a window of it around the first match when long. */
  text: string;
  /** [start, end) into `text`, UTF-16 code units. Never HTML. */
  ranges: [number, number][];
  at: number;
}

/** ReadMarkers: XEP-0490 read state across workstations (repos/read-markers.ts). */
export interface MessageRepo extends ReadMarkers {
  /** Dedups on (conversation, origin-id) and (conversation, stanza-id): a re-delivery is a no-op. */
  insert(m: NewMessage): InsertResult;
  /** Catch-up: many messages in one transaction, same dedup rules. */
  insertMany(ms: NewMessage[]): BulkInsertResult;
  get(id: string): Message | undefined;
  findByOriginId(conversationId: string, originId: string): Message | undefined;
  /** Only messages without an origin-id are identified by their stanza-id (migration 0005). */
  findByStanzaId(conversationId: string, stanzaId: string): Message | undefined;
  /**
   * The newest verified message from the peer that carries an origin-id (what a XEP-0333 marker
   * names); with `upTo`, the newest at or before that message in display order.
   */
  newestInbound(conversationId: string, upTo?: string): Message | undefined;
  /**
   * Moves a message along queued → sent → delivered → read (never backwards, so a late
   * receipt cannot undo a read marker); 'failed' only from queued/sent; 'queued' again only from
   * failed (retry); 'unverified' is final. Returns the row after the update, or undefined.
   * A move to 'failed' records `failure` (an error code, never text; 'INTERNAL' when none is
   * given) for the conversation to show; leaving 'failed' clears it.
   */
  updateState(id: string, state: MessageState, at?: number, failure?: string): Message | undefined;
  updateStateByOriginId(
    conversationId: string,
    originId: string,
    state: MessageState,
    at?: number,
  ): Message | undefined;
  /** Records the archive's stanza-id on our own sent message once the server reflects it. */
  setStanzaId(id: string, stanzaId: string): void;
  /** The fingerprint that signed a received message (migration 0010); null when not recorded. */
  signerOf(id: string): string | null;
  /**
   * Its sender's edit (the new body, editedAt) or deletion for everyone (body gone, deletedAt) of a
   * shown message (issue 12 §6); search follows at once. Returns the row after the change, or
   * undefined when nothing changed: an unknown id, a row never shown (unverified), a message
   * already deleted (final), or an edit to the text it already has.
   */
  applyChange(id: string, change: MessageChangeWrite, at: number): Message | undefined;
  /** Newest first; `before` is the previous page's nextCursor. */
  page(conversationId: string, opts: { before: string | null; limit: number }): Page<Message>;
  /**
   * Up to `limit` rows around one message of the conversation (it included; about half older,
   * the rest newer), newest first. Throws AppError NOT_FOUND when the message is not in that conversation.
   */
  around(conversationId: string, messageId: string, limit: number): Page<Message> & { hasNewer: boolean };
  /** FTS5: prefix, case- and diacritics-insensitive, ranked by bm25. */
  search(query: string, opts: { cursor: string | null; limit: number }): Page<SearchHit>;
  /** Indexes up to `limit` queued rows in one transaction; returns how many. */
  indexPending(limit: number): number;
  /**
   * Ids of every message that was sent or received (all but our own still queued or failed),
   * oldest row first: audit verification checks that each has its audit entry.
   */
  auditableIds(): IterableIterator<string>;
  /**
   * Retention (policy retentionDays): deletes messages received before `cutoff` (ms), from the
   * full-text index too, one conversation per transaction. Messages still waiting in the outbox
   * are kept. Returns how many were deleted.
   */
  purgeBefore(cutoff: number): number;
}

/** A conversation's unsent composer text (migration 0007). */
export interface Draft {
  conversationId: string;
  text: string;
  updatedAt: number;
}

export interface DraftRepo {
  get(conversationId: string): Draft | undefined;
  /** Stores the text (blank text removes the draft). NOT_FOUND for a conversation that is not ours. */
  set(conversationId: string, text: string, now?: number): void;
  remove(conversationId: string): void;
  /** Retention: deletes drafts last changed before `cutoff` (ms); returns how many. */
  purgeBefore(cutoff: number): number;
}

export interface OutboxItem {
  messageId: string;
  conversationId: string;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  createdAt: number;
}

export interface OutboxRepo {
  enqueue(messageId: string, nextAttemptAt: number, now?: number): void;
  /** Every pending item, oldest first; which of them a pass sends is xmpp/outbox-pass.ts's choice. */
  all(): OutboxItem[];
  /** Counts an attempt and schedules the next one. `error` is a code, never message text. */
  reschedule(messageId: string, nextAttemptAt: number, error: string | null): void;
  remove(messageId: string): void;
}

/** An attachment row as main sees it (migration 0011): key material included, never sent to the renderer. */
export interface StoredAttachment {
  id: string;
  messageId: string;
  direction: 'in' | 'out';
  name: string;
  mediaType: string;
  size: number;
  state: AttachmentState;
  failure: string | null;
  /** SHA-256 of the plaintext; null for a refused attachment. */
  sha256: Buffer | null;
  /** XEP-0448: of the uploaded ciphertext, and the file's key and IV; null until uploaded (sent) or when refused. */
  cipherSha256: Buffer | null;
  key: Buffer | null;
  iv: Buffer | null;
  url: string | null;
  /** The blob's id in the profile's encrypted file store (main/attachments/file-store.ts). */
  localFileId: string | null;
  thumbnail: { mediaType: string; width: number; height: number; data: Buffer } | null;
  createdAt: number;
  updatedAt: number;
}

export interface NewAttachment {
  messageId: string;
  direction: 'in' | 'out';
  name: string;
  mediaType: string;
  size: number;
  state: AttachmentState;
  failure?: string | null;
  sha256?: Uint8Array | null;
  cipherSha256?: Uint8Array | null;
  key?: Uint8Array | null;
  iv?: Uint8Array | null;
  url?: string | null;
  localFileId?: string | null;
  thumbnail?: { mediaType: string; width: number; height: number; data: Uint8Array } | null;
}

/** Columns an update may change; undefined leaves one as it is, null clears it. */
export interface AttachmentUpdate {
  state?: AttachmentState;
  failure?: string | null;
  size?: number;
  sha256?: Uint8Array | null;
  cipherSha256?: Uint8Array | null;
  key?: Uint8Array | null;
  iv?: Uint8Array | null;
  url?: string | null;
  localFileId?: string | null;
}

export interface AttachmentRepo {
  /** One per message: adding to a message that has one returns the existing row unchanged. */
  add(a: NewAttachment, now?: number): StoredAttachment;
  get(id: string): StoredAttachment | undefined;
  byMessage(messageId: string): StoredAttachment | undefined;
  /** Oldest first. */
  ofConversation(conversationId: string): StoredAttachment[];
  inState(state: AttachmentState): StoredAttachment[];
  /** The row after the change; undefined for an unknown id. */
  update(id: string, change: AttachmentUpdate, now?: number): StoredAttachment | undefined;
  /** Every blob id a row still names: what the file store must keep (retention's sweep). */
  localFileIds(): Set<string>;
}

/**
 * The durable replay guard (migration 0006): (signer fingerprint, digest of the signed content) of
 * every verified inbound signcrypt. Written in the caller's transaction with the message.
 */
export interface ReplayRepo {
  seen(signer: string, digest: Buffer): boolean;
  /** false when it was already there. */
  add(signer: string, digest: Buffer): boolean;
}

/** Raw audit rows; main/audit/ computes and checks the MAC chain. */
export interface AuditRow {
  seq: number;
  at: number;
  type: AuditEventType;
  /** Canonical JSON of the detail object. */
  detail: string;
  prevMac: Buffer;
  mac: Buffer;
}

export interface AuditHead {
  seq: number;
  mac: Buffer;
  headMac: Buffer;
}

/** The audit screen's filter (issue 15 item 5); every part optional, all given parts must match. */
export interface AuditFilter {
  /** Inclusive bounds on `at` (ms). */
  from?: number;
  to?: number;
  /** Any of these event types. */
  types?: AuditEventType[];
  /** A bare JID named in one of the detail's JID-valued keys (main/store/repos/audit.ts AUDIT_JID_KEYS). */
  person?: string;
}

export interface AuditRepo {
  last(): AuditRow | undefined;
  head(): AuditHead | undefined;
  /** Appends a row and moves the head in one transaction. */
  append(row: AuditRow, head: AuditHead): void;
  /** Newest first, seq < before (null: from the newest); only rows matching `filter` when given. */
  list(before: number | null, limit: number, filter?: AuditFilter): AuditRow[];
  /** All rows in seq order (verify, export). */
  all(): IterableIterator<AuditRow>;
}

/** Heavy operations that must not stall IPC (issue 4 §1): run off the main thread where measured to matter. */
export interface BackgroundOps {
  /**
   * Catch-up insert on the worker, in transactions of up to 10,000 rows (store-worker.ts
   * INSERT_CHUNK), full-text indexed in the same transactions; calls that queue up are coalesced.
   * Rows per transaction dominate throughput, so hand over MAM pages in large batches (thousands),
   * not one page per call. Not atomic as a whole: a re-run after a failure is safe (dedup).
   */
  insertMany(ms: NewMessage[]): Promise<BulkInsertResult>;
  /** Resolves when no row is waiting in the full-text queue (tests, benchmarks). */
  indexed(): Promise<void>;
  search(query: string, opts: { cursor: string | null; limit: number }): Promise<Page<SearchHit>>;
  /** messages.purgeBefore on the worker: a first purge of a large cache takes seconds. */
  purgeBefore(cutoff: number): Promise<number>;
}

export interface Store {
  readonly file: string;
  /** Schema version (PRAGMA user_version). */
  readonly version: number;
  getSetting<T>(key: string): T | undefined;
  /** JSON values. */
  setSetting(key: string, value: unknown): void;
  contacts: ContactRepo;
  conversations: ConversationRepo;
  messages: MessageRepo;
  outbox: OutboxRepo;
  audit: AuditRepo;
  replay: ReplayRepo;
  drafts: DraftRepo;
  /** Texts to patients through the patient gateway (issue 17). */
  patientTexts: PatientTextRepo;
  /** Patient conversations in the inbox: the texts and replies of one number (issue 17). */
  patientConversations: PatientConversationRepo;
  /** The imported patient list, text templates and segment sends (issue 17 item 5, migration 0013). */
  patientLists: PatientListRepo;
  /** Care-team rooms and their member lists (issue 18, migration 0014). */
  rooms: RoomRepo;
  /** "Read by" in care-team rooms: each member's displayed marker (issue 18 §4, migration 0016). */
  roomReads: RoomReadRepo;
  /** Files carried by messages (issue 16, migration 0011); rows go with their message (ON DELETE CASCADE). */
  attachments: AttachmentRepo;
  background: BackgroundOps;
  /** Runs fn in one transaction (e.g. insert a message and enqueue it in the outbox). */
  transaction<T>(fn: () => T): T;
  /** Stops background workers, checkpoints the WAL and closes; later calls throw. Await it before zero-filling keys. */
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  file: string;
  /** The raw 32-byte SQLCipher key from the vault (no passphrase KDF on open). */
  key: Buffer;
  logger?: import('../log').Logger;
  /** better-sqlite3 `nativeBinding`: the Electron-ABI build of the addon (AppCoreOptions.sqliteNativeBinding). */
  nativeBinding?: string;
  /** Run store.background on a worker thread (default true); false runs it on this thread. */
  worker?: boolean;
  /** Page cache per connection in KiB (default CACHE_KIB in open-db.ts). */
  cacheKiB?: number;
  /** Page size for a NEW file (benchmarks compare sizes); existing files keep theirs (see .keycheck). */
  pageSize?: number;
  /** Default time for rows written without one, and the stamp of a damaged file set aside (default: the system clock). */
  clock?: Pick<import('../clock').Clock, 'now'>;
}
