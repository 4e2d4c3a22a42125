/**
 * The gateway's SQLite store (issue 17 item 1): plain SQLite (better-sqlite3-multiple-ciphers
 * without a key), WAL, migrations at open. SQL lives here, parameterised. Rows hold ciphertext,
 * never message text; see migrations/0001-init.ts for what each column is.
 */
import Database from 'better-sqlite3-multiple-ciphers';
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrate } from './migrations';
import type { MESSAGE_STATES } from './migrations/0001-init';
import type { IDENTITY_CHECKS } from './migrations/0002-codes';

export type MessageState = (typeof MESSAGE_STATES)[number];
export type IdentityCheck = (typeof IDENTITY_CHECKS)[number];

export interface MessageRow {
  id: string;
  staffJid: string;
  patient: string;
  phone: string;
  ciphertext: Buffer | null;
  /** The identity check the sender chose for this message. */
  check: IdentityCheck;
  /** '' when the check is a code. */
  dobVerifier: string;
  /** Wrong answers (dates of birth or codes) since the last lockout. */
  dobFailures: number;
  lockedUntil: number | null;
  /** The public keys replies are encrypted to (binary, one after another); null: no replies. */
  replyKeys: Buffer | null;
  replyTokenHash: string | null;
  replyTokenUntil: number | null;
  /** The check the open that gave the reply token passed ('code': a one-time code was checked). */
  replyTokenCheck: IdentityCheck | null;
  state: MessageState;
  reason: string | null;
  providerRef: string | null;
  createdAt: number;
  expiresAt: number;
  /** When the text was handed to the provider, and when its delivery receipt came (ms). */
  sentAt: number | null;
  deliveredAt: number | null;
  /** The device that first passed the check (HMAC of its token; '' without one); null before that. */
  deviceHash: string | null;
  /** When a right DOB was last answered with "code required" (the page may then ask for codes). */
  stepUpAt: number | null;
}

export interface NewMessage {
  id: string;
  requestKey: string;
  staffJid: string;
  patient: string;
  phone: string;
  /** null: a plain SMS (plain-sms.ts), which has nothing to open. */
  ciphertext: Buffer | null;
  /** Default dob. */
  check?: IdentityCheck;
  dobVerifier: string;
  replyKeys?: Buffer | null;
  createdAt: number;
  expiresAt: number;
}

interface RawRow {
  id: string;
  staff_jid: string;
  patient: string;
  phone: string;
  ciphertext: Buffer | null;
  check_kind: IdentityCheck;
  dob_verifier: string;
  dob_failures: number;
  locked_until: number | null;
  reply_keys: Buffer | null;
  reply_token_hash: string | null;
  reply_token_until: number | null;
  reply_token_check: IdentityCheck | null;
  state: MessageState;
  reason: string | null;
  provider_ref: string | null;
  created_at: number;
  expires_at: number;
  sent_at: number | null;
  delivered_at: number | null;
  device_hash: string | null;
  step_up_at: number | null;
}

const toRow = (r: RawRow): MessageRow => ({
  id: r.id,
  staffJid: r.staff_jid,
  patient: r.patient,
  phone: r.phone,
  ciphertext: r.ciphertext,
  check: r.check_kind,
  dobVerifier: r.dob_verifier,
  dobFailures: r.dob_failures,
  lockedUntil: r.locked_until,
  replyKeys: r.reply_keys,
  replyTokenHash: r.reply_token_hash,
  replyTokenUntil: r.reply_token_until,
  replyTokenCheck: r.reply_token_check,
  state: r.state,
  reason: r.reason,
  providerRef: r.provider_ref,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  sentAt: r.sent_at,
  deliveredAt: r.delivered_at,
  deviceHash: r.device_hash,
  stepUpAt: r.step_up_at,
});

export interface PendingReply {
  id: string;
  messageId: string;
  ciphertext: Buffer;
  verified: IdentityCheck;
  at: number;
  staffJid: string;
  patient: string;
}

interface PendingReplyRaw {
  id: string;
  message_id: string;
  ciphertext: Buffer;
  verified: IdentityCheck;
  created_at: number;
  staff_jid: string;
  patient: string;
}

export interface CodeRow {
  ref: number;
  codeHash: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

export type GatewayStore = ReturnType<typeof openGatewayStore>;

export function openGatewayStore(path: string) {
  const dir = dirname(path);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const db = new Database(path);
  // Phone numbers and ciphertext: readable by the gateway's user only.
  chmodSync(path, 0o600);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  // Deleted ciphertext is overwritten on disk, not left in free pages.
  db.pragma('secure_delete = ON');
  migrate(db);

  const pseudonymKey = loadPseudonymKey(db);
  const byId = db.prepare<[string], RawRow>('SELECT * FROM messages WHERE id = ?');
  const byRequest = db.prepare<[string], RawRow>('SELECT * FROM messages WHERE request_key = ?');
  const byProviderRef = db.prepare<[string], RawRow>('SELECT * FROM messages WHERE provider_ref = ?');
  const insert = db.prepare(
    `INSERT INTO messages (id, request_key, staff_jid, patient, phone, ciphertext, check_kind, dob_verifier, reply_keys, state, created_at, expires_at, updated_at)
     VALUES (@id, @requestKey, @staffJid, @patient, @phone, @ciphertext, @check, @dobVerifier, @replyKeys, 'queued', @createdAt, @expiresAt, @createdAt)`,
  );
  const setState = db.prepare<{ state: MessageState; reason: string | null; now: number; id: string }>(
    // A failed text's ciphertext can never be opened: it goes at once. A delivery receipt's time
    // is kept: the step-up to a one-time code counts from it (service.ts).
    `UPDATE messages SET state = @state, reason = @reason, updated_at = @now,
       ciphertext = CASE WHEN @state = 'failed' THEN NULL ELSE ciphertext END,
       delivered_at = CASE WHEN @state = 'sms-delivered' THEN @now ELSE delivered_at END WHERE id = @id`,
  );
  const setProviderRef = db.prepare<[string, number, number, string]>(
    'UPDATE messages SET provider_ref = ?, updated_at = ?, sent_at = ? WHERE id = ?',
  );
  const sentToday = db.prepare<[string, number], { n: number }>(
    "SELECT count(*) AS n FROM messages WHERE phone = ? AND created_at > ? AND state != 'failed'",
  );
  const due = db.prepare<[number], RawRow>(
    'SELECT * FROM messages WHERE ciphertext IS NOT NULL AND expires_at <= ? ORDER BY expires_at LIMIT 500',
  );
  const expire = db.prepare<[number, string]>(
    "UPDATE messages SET ciphertext = NULL, reply_token_hash = NULL, state = 'expired', updated_at = ? WHERE id = ?",
  );
  const strandedQueued = db.prepare<[], RawRow>(
    "SELECT * FROM messages WHERE state = 'queued' AND provider_ref IS NULL",
  );
  const setDob = db.prepare<[number, number | null, number, string]>(
    'UPDATE messages SET dob_failures = ?, locked_until = ?, updated_at = ? WHERE id = ?',
  );
  const optOut = db.prepare<[string, number]>('INSERT OR IGNORE INTO opt_outs (phone, at) VALUES (?, ?)');
  const optIn = db.prepare<[string]>('DELETE FROM opt_outs WHERE phone = ?');
  const isOptedOut = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM opt_outs WHERE phone = ?');
  const codeKey = loadKey(db, 'code-key');
  const insertCode = db.prepare<[string, string, number, number]>(
    'INSERT INTO one_time_codes (message_id, code_hash, created_at, expires_at) VALUES (?, ?, ?, ?)',
  );
  const latestCode = db.prepare<[string], CodeRow>(
    `SELECT rowid AS ref, code_hash AS codeHash, created_at AS createdAt, expires_at AS expiresAt, used_at AS usedAt
       FROM one_time_codes WHERE message_id = ? ORDER BY rowid DESC LIMIT 1`,
  );
  const codesSent = db.prepare<[string], { n: number }>(
    'SELECT count(*) AS n FROM one_time_codes WHERE message_id = ?',
  );
  const setReplyToken = db.prepare<[string | null, number | null, IdentityCheck | null, string]>(
    'UPDATE messages SET reply_token_hash = ?, reply_token_until = ?, reply_token_check = ? WHERE id = ?',
  );
  const insertReply = db.prepare<[string, string, Buffer, IdentityCheck, number]>(
    'INSERT INTO replies (id, message_id, ciphertext, verified, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const repliesOf = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM replies WHERE message_id = ?');
  const undelivered = db.prepare<[], PendingReplyRaw>(
    `SELECT r.id, r.message_id, r.ciphertext, r.verified, r.created_at, m.staff_jid, m.patient
       FROM replies r JOIN messages m ON m.id = r.message_id
      WHERE r.delivered_at IS NULL ORDER BY r.created_at, r.rowid`,
  );
  const delivered = db.prepare<[number, string]>(
    'UPDATE replies SET ciphertext = NULL, delivered_at = ? WHERE id = ? AND delivered_at IS NULL',
  );
  const useCode = db.prepare<[number, number]>(
    'UPDATE one_time_codes SET used_at = ? WHERE rowid = ? AND used_at IS NULL',
  );
  const deviceKey = loadKey(db, 'device-key');
  const bindDevice = db.prepare<[string, string]>(
    'UPDATE messages SET device_hash = ? WHERE id = ? AND device_hash IS NULL',
  );
  const setStepUp = db.prepare<[number, string]>('UPDATE messages SET step_up_at = ? WHERE id = ?');

  return {
    /** The patient's JID local part: the same number always gives the same opaque id. */
    patientFor(phone: string): string {
      return `p-${createHmac('sha256', pseudonymKey).update(phone).digest('hex').slice(0, 24)}`;
    },
    get(id: string): MessageRow | null {
      const r = byId.get(id);
      return r ? toRow(r) : null;
    },
    byRequest(requestKey: string): MessageRow | null {
      const r = byRequest.get(requestKey);
      return r ? toRow(r) : null;
    },
    byProviderRef(ref: string): MessageRow | null {
      const r = byProviderRef.get(ref);
      return r ? toRow(r) : null;
    },
    insert(m: NewMessage): void {
      insert.run({ check: 'dob', replyKeys: null, ...m });
    },
    setState(id: string, state: MessageState, reason: string | null, now: number): void {
      setState.run({ state, reason, now, id });
    },
    setProviderRef(id: string, ref: string, now: number): void {
      setProviderRef.run(ref, now, now, id);
    },
    /** Wrong-DOB count and lockout of one link. */
    setDobState(id: string, failures: number, lockedUntil: number | null, now: number): void {
      setDob.run(failures, lockedUntil, now, id);
    },
    /** Texts to this number since `since` that did not fail (the frequency cap counts these). */
    sentSince(phone: string, since: number): number {
      return sentToday.get(phone, since)?.n ?? 0;
    },
    /** Deletes the ciphertext of every message past its expiry; returns the rows it expired. */
    expireDue(now: number): MessageRow[] {
      return db.transaction(() => {
        const rows = due.all(now).map(toRow);
        for (const r of rows) expire.run(now, r.id);
        return rows;
      })();
    },
    /** Queued messages never handed to the provider (the gateway stopped in between). */
    strandedQueued(): MessageRow[] {
      return strandedQueued.all().map(toRow);
    },
    optOut(phone: string, now: number): boolean {
      return optOut.run(phone, now).changes > 0;
    },
    optIn(phone: string): boolean {
      return optIn.run(phone).changes > 0;
    },
    isOptedOut(phone: string): boolean {
      return isOptedOut.get(phone) !== undefined;
    },
    /** The code's HMAC (SHA-256, a key only this database holds): what is stored instead of the code. */
    codeHash(messageId: string, code: string): string {
      return createHmac('sha256', codeKey).update(`${messageId}:${code}`).digest('hex');
    },
    /** Stores a new code's hash; only the newest code of a message is ever checked. */
    addCode(messageId: string, codeHash: string, now: number, expiresAt: number): void {
      insertCode.run(messageId, codeHash, now, expiresAt);
    },
    latestCode(messageId: string): CodeRow | null {
      return latestCode.get(messageId) ?? null;
    },
    codesSent(messageId: string): number {
      return codesSent.get(messageId)?.n ?? 0;
    },
    /** Marks a code used; false when it already was (a replay). */
    useCode(ref: number, now: number): boolean {
      return useCode.run(now, ref).changes > 0;
    },
    /** The page's device token as stored: an HMAC (a key only this database holds) with the link id. */
    deviceHash(messageId: string, token: string): string {
      return createHmac('sha256', deviceKey).update(`${messageId}:${token}`).digest('hex');
    },
    /** Remembers the first device that passed the check ('' when it sent no token); later calls change nothing. */
    bindDevice(messageId: string, hash: string): void {
      bindDevice.run(hash, messageId);
    },
    /** A right DOB was answered with "code required": codes may be asked for from now on. */
    setStepUp(messageId: string, now: number): void {
      setStepUp.run(now, messageId);
    },
    /** A new reply token (its hash), with the check the open that gave it passed. */
    setReplyToken(id: string, hash: string, until: number, check: IdentityCheck): void {
      setReplyToken.run(hash, until, check, id);
    },
    /** Stores a reply and uses up the token that allowed it, in one transaction. */
    addReply(r: { id: string; messageId: string; ciphertext: Buffer; verified: IdentityCheck; at: number }): void {
      db.transaction(() => {
        insertReply.run(r.id, r.messageId, r.ciphertext, r.verified, r.at);
        setReplyToken.run(null, null, null, r.messageId);
      })();
    },
    repliesTo(messageId: string): number {
      return repliesOf.get(messageId)?.n ?? 0;
    },
    /** Replies not yet handed to the XMPP server, oldest first. */
    undeliveredReplies(): PendingReply[] {
      return undelivered.all().map((r) => ({
        id: r.id,
        messageId: r.message_id,
        ciphertext: r.ciphertext,
        verified: r.verified,
        at: r.created_at,
        staffJid: r.staff_jid,
        patient: r.patient,
      }));
    },
    /** The XMPP server has the reply: its ciphertext goes. */
    replyDelivered(id: string, now: number): void {
      delivered.run(now, id);
    },
    close(): void {
      db.close();
    },
  };
}

function loadPseudonymKey(db: Database.Database): Buffer {
  return loadKey(db, 'pseudonym-key');
}

/** A 32-byte key kept in meta, made at first use. */
function loadKey(db: Database.Database, name: string): Buffer {
  const row = db.prepare<[string], { value: Buffer }>('SELECT value FROM meta WHERE key = ?').get(name);
  if (row) return row.value;
  const key = randomBytes(32);
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(name, key);
  return key;
}
