/**
 * The gateway's core (issue 17 items 1 and 4), independent of XMPP and HTTP: a send from staff
 * passes the rules (opt-out, quiet hours, frequency cap), is stored as ciphertext, and its SMS
 * goes to the provider; provider receipts, inbound keywords and expiry move a message's state,
 * and every change is reported to the staff account that sent it (`notify`).
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Clock } from './clock';
import type { GatewayConfig } from './config';
import { checkDob, parseDobVerifier } from './dob';
import { errorName, type Logger } from './log';
import { createPlainSms, type PlainSendRequest } from './plain-sms';
import { checkReplyCiphertext, readReplyKeys } from './replies';
import { renderSms, roadBlock } from './rules';
import { classifyKeyword, OPT_IN_CONFIRMATION, OPT_OUT_CONFIRMATION } from './sms/opt-out';
import { SmsSendError, type SentSms, type SmsProvider } from './sms/provider';
import type { GatewayStore, IdentityCheck, MessageRow, MessageState } from './store/store';

export interface SendRequest {
  /** The sender's bare JID (the component checked its domain). */
  staffJid: string;
  /** The app's id for this send: a repeated request returns the first one's result. */
  requestId: string;
  phone: string;
  /** How the patient proves who they are (default dob); the gateway's config lists the allowed ones. */
  check?: IdentityCheck;
  /** The DOB verifier; '' when the check is a code. */
  dobVerifier: string;
  /** PHI-free SMS text with {link} once. */
  smsTemplate: string;
  /** The link secret, base64url: only ever in the SMS text, never stored. */
  fragment: string;
  ciphertext: Buffer;
  /** Fewer days than the configured expiry (optional). */
  expiresDays?: number;
  /** Binary OpenPGP public keys the patient's reply is encrypted to (the sender's, the archive's); none: no replies. */
  replyKeys?: Buffer[];
}

/** A reply on its way to the staff account, from the patient's JID (docs: gateway/README.md "Replies"). */
export interface ReplyDelivery {
  id: string;
  messageId: string;
  staffJid: string;
  patient: string;
  verified: IdentityCheck;
  at: number;
  ciphertext: Buffer;
}

/** What the page may do after a passed check: one reply, encrypted to `keys`, until `until`. */
export interface ReplyGrant {
  token: string;
  keys: Buffer;
  until: number;
}

/** The patient page posts a reply. */
export type ReplyOutcome =
  | { kind: 'sent'; replyId: string }
  /** No valid reply token: none given, used already (a replay), or its window ended. */
  | { kind: 'not-verified' }
  | { kind: 'too-large'; maxBytes: number }
  /** Not an OpenPGP message to exactly the reply keys (`reason` names what is wrong). */
  | { kind: 'bad-reply'; reason: string }
  | { kind: 'too-many' }
  /** The sender gave no reply keys. */
  | { kind: 'no-replies' }
  | { kind: 'expired' }
  | { kind: 'not-found' };

/** Why a send was refused: codes the app shows as sentences (docs/protocol.md). */
export type RefusalReason =
  | 'opted-out'
  | 'quiet-hours'
  | 'rate-limited'
  | 'bad-request'
  | 'sms-failed'
  /** A plain SMS to a gateway whose config does not allow them (plain-sms.ts). */
  | 'plain-sms-off';

export type SendOutcome =
  | { ok: true; id: string; patient: string; state: MessageState; expiresAt: number }
  | { ok: false; reason: RefusalReason; detail: string; id?: string };

export interface StateChange {
  id: string;
  staffJid: string;
  patient: string;
  state: MessageState;
  reason: string | null;
  at: number;
}

/**
 * What the patient gives at the open step: the date of birth (with a one-time code when the
 * step-up asks for one: a DOB message opened late or on a new device) or, for a code message, the code.
 */
export type IdentityProof = { dob: string; code?: string } | { code: string };

/** A DOB message needs a one-time code too when opened this long after its text was delivered. */
export const STEP_UP_AFTER_MS = 24 * 3_600_000;

/** The patient page's open step (issue 17 item 3). */
export type OpenOutcome =
  | { kind: 'ok'; ciphertext: Buffer; check: IdentityCheck; reply: ReplyGrant | null }
  | { kind: 'wrong-dob'; triesLeft: number }
  | { kind: 'wrong-code'; triesLeft: number }
  /** No code to check: none asked for yet, or the last one was used (a replay) or replaced. */
  | { kind: 'no-code' }
  | { kind: 'code-expired' }
  /**
   * The DOB is right but this open needs a one-time code too (late, or a new device): one was
   * texted now (expiresAt), or one was texted less than the resend interval ago (no expiresAt).
   */
  | { kind: 'code-required'; expiresAt?: number; resendAt: number }
  /** The step-up's code could not be texted. */
  | { kind: 'too-many' }
  | { kind: 'opted-out' }
  | { kind: 'sms-failed' }
  /** The proof is not the kind this message asks for. */
  | { kind: 'wrong-check'; check: IdentityCheck }
  | { kind: 'locked'; until: number }
  | { kind: 'expired' }
  | { kind: 'not-found' };

/** The patient page asks for a one-time code. */
export type CodeOutcome =
  | { kind: 'sent'; expiresAt: number; resendAt: number }
  | { kind: 'too-soon'; resendAt: number }
  | { kind: 'too-many' }
  | { kind: 'opted-out' }
  | { kind: 'sms-failed' }
  | { kind: 'wrong-check'; check: IdentityCheck }
  | { kind: 'locked'; until: number }
  | { kind: 'expired' }
  | { kind: 'not-found' };

/** The one-time code's SMS: no PHI, no link. */
export const codeSms = (code: string, minutes: number): string =>
  `Your clinic's code is ${code}. It expires in ${minutes} minutes. Do not share it.`;

export interface GatewayService {
  /** Which check a link asks for (the page shows the right form); null when the link cannot be opened. */
  checkOf(id: string): { check: IdentityCheck } | { kind: 'expired' | 'not-found' };
  /**
   * Checks the DOB or code (tries, then a lockout) and returns the ciphertext; the first open is
   * reported. `device` is the page's device token (base64url, 128 bits; none: an unknown device).
   */
  openMessage(id: string, proof: IdentityProof, device?: string): Promise<OpenOutcome>;
  /** Texts a one-time code to the phone on record (paced and counted): a code message, or a DOB one after a step-up. */
  requestCode(id: string): Promise<CodeOutcome>;
  /** Takes the patient's encrypted reply (with the token a passed check gave) and delivers it. */
  reply(id: string, token: string, ciphertext: Buffer): Promise<ReplyOutcome>;
  /** Hands replies not yet delivered to the XMPP server (at start, after a reconnect). */
  redeliverReplies(): Promise<number>;
  send(req: SendRequest): Promise<SendOutcome>;
  /** A plain SMS on the patient's documented request, when the config allows it (plain-sms.ts). */
  sendPlain(req: PlainSendRequest): Promise<SendOutcome>;
  /** A delivery receipt from the provider. */
  providerStatus(providerRef: string, status: 'delivered' | 'failed', code?: string): void;
  /** An inbound SMS (only keywords mean anything: replies go through the page). */
  inboundSms(from: string, body: string): Promise<void>;
  /** Deletes expired ciphertext; returns how many expired. */
  expire(): number;
  /** At start: texts stored but never handed to the provider (the gateway stopped) fail. */
  failStranded(): number;
}

export interface ServiceDeps {
  config: GatewayConfig;
  store: GatewayStore;
  sms: SmsProvider;
  clock: Clock;
  log: Logger;
  notify: (change: StateChange) => void;
  /** Sends a reply to the staff account; rejects when the XMPP server did not take it. */
  deliverReply: (reply: ReplyDelivery) => Promise<void>;
}

const DAY = 86_400_000;
const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');
const FRAGMENT = /^[A-Za-z0-9_-]{22}$/;
const PHONE = /^\+[1-9][0-9]{6,14}$/;
const REQUEST_ID = /^[A-Za-z0-9_.:-]{1,64}$/;
export const MAX_CIPHERTEXT_BYTES = 256 * 1024;

export function createGatewayService(deps: ServiceDeps): GatewayService {
  const { config, store, sms, clock, log } = deps;

  const change = (row: MessageRow, state: MessageState, reason: string | null) => {
    const at = clock.now();
    store.setState(row.id, state, reason, at);
    log('info', 'message-state', { id: row.id, state, ...(reason ? { reason } : {}) });
    deps.notify({ id: row.id, staffJid: row.staffJid, patient: row.patient, state, reason, at });
  };

  const refuse = (reason: RefusalReason, detail: string, id?: string): SendOutcome => {
    log('info', 'send-refused', { reason, ...(id ? { id } : {}) });
    return { ok: false, reason, detail, ...(id ? { id } : {}) };
  };

  const outcomeOf = (row: MessageRow): SendOutcome =>
    row.state === 'failed'
      ? { ok: false, reason: 'sms-failed', detail: 'the SMS provider did not take the text', id: row.id }
      : { ok: true, id: row.id, patient: row.patient, state: row.state, expiresAt: row.expiresAt };

  function check(req: SendRequest): string | null {
    if (!REQUEST_ID.test(req.requestId)) return 'request: 1-64 letters, digits, _ . : -';
    if (!PHONE.test(req.phone)) return 'phone: an E.164 number';
    const kind = req.check ?? 'dob';
    if (!config.identity.checks.includes(kind))
      return `check: this gateway allows ${config.identity.checks.join(' or ')}`;
    if (kind === 'dob' && !parseDobVerifier(req.dobVerifier))
      return 'dob-verifier: scrypt$15$8$1$salt$hash or stronger';
    if (kind === 'code' && req.dobVerifier !== '') return 'dob-verifier: none when the check is a code';
    if (!FRAGMENT.test(req.fragment)) return 'fragment: 16 bytes, base64url';
    if (req.ciphertext.length === 0 || req.ciphertext.length > MAX_CIPHERTEXT_BYTES)
      return `ciphertext: 1 byte to ${MAX_CIPHERTEXT_BYTES / 1024} KiB`;
    if (req.expiresDays !== undefined && !(Number.isInteger(req.expiresDays) && req.expiresDays >= 1))
      return 'expires-days: a whole number of days';
    return null;
  }

  async function send(req: SendRequest): Promise<SendOutcome> {
    const problem = check(req);
    if (problem) return refuse('bad-request', problem);
    const requestKey = `${req.staffJid} ${req.requestId}`;
    const earlier = store.byRequest(requestKey);
    if (earlier) return outcomeOf(earlier);
    let replyKeys: Buffer | null = null;
    if (req.replyKeys) {
      if (config.replies.maxPerLink === 0) return refuse('bad-request', 'reply-keys: this gateway takes no replies');
      const keys = await readReplyKeys(req.replyKeys, new Date(clock.now()));
      if ('problem' in keys) return refuse('bad-request', keys.problem);
      replyKeys = keys.keys;
    }
    const now = clock.now();
    const blocked = roadBlock(store, config.limits, req.phone, now);
    if (blocked) return refuse(blocked.reason, blocked.detail);
    const id = randomBytes(16).toString('base64url');
    const rendered = renderSms(req.smsTemplate, `${config.http.publicBaseUrl}/m/${id}#${req.fragment}`);
    if ('problem' in rendered) return refuse('bad-request', `sms: ${rendered.problem}`);
    const days = Math.min(req.expiresDays ?? config.messages.expiryDays, config.messages.expiryDays);
    const patient = store.patientFor(req.phone);
    store.insert({
      id,
      requestKey,
      staffJid: req.staffJid,
      patient,
      phone: req.phone,
      ciphertext: req.ciphertext,
      check: req.check ?? 'dob',
      dobVerifier: req.dobVerifier,
      replyKeys,
      createdAt: now,
      expiresAt: now + days * DAY,
    });
    log('info', 'message-queued', { id });
    return handOver(store.get(id)!, rendered.text);
  }

  async function handOver(row: MessageRow, text: string): Promise<SendOutcome> {
    let sent: SentSms;
    try {
      sent = await sms.send({ to: row.phone, body: text });
    } catch (err) {
      const code = err instanceof SmsSendError ? err.code : errorName(err);
      log('warn', 'sms-send-failed', { id: row.id, code });
      change(row, 'failed', 'sms-failed');
      return outcomeOf(store.get(row.id)!);
    }
    store.setProviderRef(row.id, sent.providerRef, clock.now());
    if (sent.delivered) change(row, 'sms-delivered', null);
    return outcomeOf(store.get(row.id)!);
  }

  function providerStatus(providerRef: string, status: 'delivered' | 'failed', code?: string): void {
    const row = store.byProviderRef(providerRef);
    if (!row) return log('warn', 'status-for-unknown-text', { provider: sms.name });
    // A receipt arriving after the patient opened the link (or after expiry) changes nothing.
    if (row.state !== 'queued') return;
    if (status === 'delivered') change(row, 'sms-delivered', null);
    else change(row, 'failed', code ? `sms-undelivered:${code}` : 'sms-undelivered');
  }

  async function inboundSms(from: string, body: string): Promise<void> {
    if (!PHONE.test(from)) return log('warn', 'inbound-bad-number', {});
    const kind = classifyKeyword(body);
    if (kind === 'opt-out') {
      // At once, and one confirmation only: a second STOP finds the number already out.
      if (!store.optOut(from, clock.now())) return log('info', 'opt-out-repeated', {});
      log('info', 'opt-out', {});
      await confirm(from, OPT_OUT_CONFIRMATION);
    } else if (kind === 'opt-in') {
      if (!store.optIn(from)) return;
      log('info', 'opt-in', {});
      await confirm(from, OPT_IN_CONFIRMATION);
    } else {
      log('info', 'inbound-ignored', {});
    }
  }

  async function confirm(to: string, body: string): Promise<void> {
    try {
      await sms.send({ to, body });
    } catch (err) {
      log('warn', 'confirmation-failed', { code: err instanceof SmsSendError ? err.code : errorName(err) });
    }
  }

  // One check per link at a time: parallel guesses must not slip past the try count.
  const queues = new Map<string, Promise<unknown>>();
  function oneAtATime<T>(id: string, run: () => Promise<T>): Promise<T> {
    const next = (queues.get(id) ?? Promise.resolve(null)).then(run);
    queues.set(id, next);
    // The map only serialises: once the last check of this link is done, forget it.
    const forget = () => {
      if (queues.get(id) === next) queues.delete(id);
    };
    next.then(forget, forget);
    return next;
  }

  /** The row if the link can be opened at all, else why not. */
  function live(id: string): MessageRow | { kind: 'expired' | 'not-found' } {
    const row = store.get(id);
    if (!row || row.state === 'failed') return { kind: 'not-found' };
    if (!row.ciphertext || row.state === 'expired') return { kind: 'expired' };
    return row;
  }

  /** A wrong answer counts (either kind, one counter per link); the last allowed one locks the link. */
  function wrong(row: MessageRow, kind: IdentityCheck, limits: typeof config.dobCheck, now: number): OpenOutcome {
    // A lockout that has run out starts a fresh set of tries.
    const failures = row.lockedUntil !== null ? 0 : row.dobFailures;
    if (failures + 1 >= limits.maxTries) {
      const until = now + limits.lockoutMinutes * 60_000;
      store.setDobState(row.id, 0, until, now);
      log('warn', `${kind}-locked`, { id: row.id });
      return { kind: 'locked', until };
    }
    store.setDobState(row.id, failures + 1, null, now);
    log('info', `${kind}-wrong`, { id: row.id });
    const triesLeft = limits.maxTries - failures - 1;
    return kind === 'dob' ? { kind: 'wrong-dob', triesLeft } : { kind: 'wrong-code', triesLeft };
  }

  /** Checks a one-time code against the newest one texted for this link and uses it up; null when right. */
  function checkCode(row: MessageRow, given: string, limits: typeof config.dobCheck, now: number): OpenOutcome | null {
    const code = store.latestCode(row.id);
    if (!code || code.usedAt !== null) {
      log('info', 'code-none', { id: row.id });
      return { kind: 'no-code' };
    }
    if (code.expiresAt <= now) return { kind: 'code-expired' };
    const hash = Buffer.from(store.codeHash(row.id, given.trim()), 'hex');
    if (!timingSafeEqual(hash, Buffer.from(code.codeHash, 'hex'))) return wrong(row, 'code', limits, now);
    // Used once: a second open with the same code (a replay) finds no code.
    if (!store.useCode(code.ref, now)) return { kind: 'no-code' };
    return null;
  }

  /**
   * Why a DOB message needs a code too at this open: the text was delivered more than 24 h ago
   * (the provider's receipt; without one, when it was handed to the provider), or another device
   * than the first that passed the check for this link (no token: an unknown device).
   */
  function stepUpReason(row: MessageRow, device: string, now: number): 'late' | 'new-device' | null {
    if (now - (row.deliveredAt ?? row.sentAt ?? row.createdAt) > STEP_UP_AFTER_MS) return 'late';
    if (row.deviceHash === null) return null;
    if (device === '' || row.deviceHash === '') return 'new-device';
    return timingSafeEqual(Buffer.from(device, 'hex'), Buffer.from(row.deviceHash, 'hex')) ? null : 'new-device';
  }

  /** The DOB was right but a code is needed too: text one (paced and counted) and say so. */
  async function askForCode(row: MessageRow, why: 'late' | 'new-device', now: number): Promise<OpenOutcome> {
    store.setStepUp(row.id, now);
    log('info', 'code-required', { id: row.id, reason: why });
    const texted = await textCode(row, now);
    if (texted.kind === 'sent')
      return { kind: 'code-required', expiresAt: texted.expiresAt, resendAt: texted.resendAt };
    if (texted.kind === 'too-soon') return { kind: 'code-required', resendAt: texted.resendAt };
    return texted;
  }

  async function openNow(id: string, proof: IdentityProof, token?: string): Promise<OpenOutcome> {
    const row = live(id);
    if ('kind' in row) return row;
    const now = clock.now();
    if (row.lockedUntil !== null && row.lockedUntil > now) return { kind: 'locked', until: row.lockedUntil };
    const given: IdentityCheck = 'dob' in proof ? 'dob' : 'code';
    if (given !== row.check) return { kind: 'wrong-check', check: row.check };
    const device = token ? store.deviceHash(id, token) : '';
    // What this open checked: 'code' once a one-time code was checked too (the reply is marked so).
    let passed: IdentityCheck = 'code';
    if ('dob' in proof) {
      const verifier = parseDobVerifier(row.dobVerifier);
      if (!verifier || !(await checkDob(proof.dob, verifier))) return wrong(row, 'dob', config.dobCheck, now);
      const why = stepUpReason(row, device, now);
      // A right DOB alone does not reset the tries here: wrong step-up codes keep counting.
      if (why && proof.code === undefined) return askForCode(row, why, now);
      const refused = why ? checkCode(row, proof.code!, config.dobCheck, now) : null;
      if (refused) return refused;
      if (!why) passed = 'dob';
    } else {
      const refused = checkCode(row, proof.code, config.codeCheck, now);
      if (refused) return refused;
    }
    store.setDobState(id, 0, null, now);
    store.bindDevice(id, device);
    if (row.state === 'queued' || row.state === 'sms-delivered') change(row, 'opened', null);
    return { kind: 'ok', ciphertext: row.ciphertext!, check: row.check, reply: grantReply(row, now, passed) };
  }

  /**
   * A fresh reply token when the sender allowed replies and some are left (an earlier token stops
   * working). It remembers the check this open passed: the reply it allows is marked with that.
   */
  function grantReply(row: MessageRow, now: number, passed: IdentityCheck): ReplyGrant | null {
    if (!row.replyKeys || store.repliesTo(row.id) >= config.replies.maxPerLink) return null;
    const token = randomBytes(32).toString('base64url');
    const until = now + config.replies.windowMinutes * 60_000;
    store.setReplyToken(row.id, tokenHash(token), until, passed);
    return { token, keys: row.replyKeys, until };
  }

  async function replyNow(id: string, token: string, ciphertext: Buffer): Promise<ReplyOutcome> {
    const row = live(id);
    if ('kind' in row) return row;
    if (!row.replyKeys) return { kind: 'no-replies' };
    const now = clock.now();
    const given = Buffer.from(tokenHash(token), 'hex');
    const stored = row.replyTokenHash ? Buffer.from(row.replyTokenHash, 'hex') : Buffer.alloc(32);
    if (!row.replyTokenHash || !timingSafeEqual(given, stored) || (row.replyTokenUntil ?? 0) <= now) {
      log('warn', 'reply-not-verified', { id });
      return { kind: 'not-verified' };
    }
    if (store.repliesTo(id) >= config.replies.maxPerLink) return { kind: 'too-many' };
    const { maxBytes } = config.replies;
    if (ciphertext.length > maxBytes) return { kind: 'too-large', maxBytes };
    const problem = await checkReplyCiphertext(ciphertext, row.replyKeys, new Date(now));
    if (problem) {
      log('warn', 'reply-refused', { id, reason: problem });
      return { kind: 'bad-reply', reason: problem };
    }
    const replyId = randomBytes(16).toString('base64url');
    // Marked with the check the token was earned with, decided here at the open, never by the page.
    const verified = row.replyTokenCheck ?? row.check;
    store.addReply({ id: replyId, messageId: id, ciphertext, verified, at: now });
    log('info', 'reply-stored', { id });
    if (row.state !== 'replied') change(row, 'replied', null);
    await deliver({
      id: replyId,
      messageId: id,
      staffJid: row.staffJid,
      patient: row.patient,
      verified,
      at: now,
      ciphertext,
    });
    return { kind: 'sent', replyId };
  }

  /** Hands one reply to the XMPP server; a failure leaves it stored for the next try. */
  async function deliver(r: ReplyDelivery): Promise<boolean> {
    try {
      await deps.deliverReply(r);
    } catch (err) {
      log('warn', 'reply-delivery-failed', { id: r.messageId, error: errorName(err) });
      return false;
    }
    store.replyDelivered(r.id, clock.now());
    log('info', 'reply-delivered', { id: r.messageId });
    return true;
  }

  async function requestCodeNow(id: string): Promise<CodeOutcome> {
    const row = live(id);
    if ('kind' in row) return row;
    // A DOB message: only once a right DOB was answered with "code required".
    if (row.check !== 'code' && row.stepUpAt === null) return { kind: 'wrong-check', check: row.check };
    const now = clock.now();
    if (row.lockedUntil !== null && row.lockedUntil > now) return { kind: 'locked', until: row.lockedUntil };
    return textCode(row, now);
  }

  /** Texts a new one-time code to the phone on record, unless paced, used up or opted out. */
  async function textCode(
    row: MessageRow,
    now: number,
  ): Promise<Extract<CodeOutcome, { kind: 'sent' | 'too-soon' | 'too-many' | 'opted-out' | 'sms-failed' }>> {
    const { id } = row;
    if (store.isOptedOut(row.phone)) return { kind: 'opted-out' };
    const { resendSeconds, maxSends, ttlMinutes } = config.codeCheck;
    const last = store.latestCode(id);
    if (last && last.createdAt + resendSeconds * 1000 > now)
      return { kind: 'too-soon', resendAt: last.createdAt + resendSeconds * 1000 };
    if (store.codesSent(id) >= maxSends) {
      log('warn', 'code-sends-exhausted', { id });
      return { kind: 'too-many' };
    }
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const expiresAt = now + ttlMinutes * 60_000;
    store.addCode(id, store.codeHash(id, code), now, expiresAt);
    try {
      await sms.send({ to: row.phone, body: codeSms(code, ttlMinutes) });
    } catch (err) {
      log('warn', 'code-send-failed', { id, code: err instanceof SmsSendError ? err.code : errorName(err) });
      return { kind: 'sms-failed' };
    }
    log('info', 'code-sent', { id });
    return { kind: 'sent', expiresAt, resendAt: now + resendSeconds * 1000 };
  }

  return {
    checkOf(id) {
      const row = live(id);
      return 'kind' in row ? row : { check: row.check };
    },
    openMessage: (id, proof, device) => oneAtATime(id, () => openNow(id, proof, device)),
    requestCode: (id) => oneAtATime(id, () => requestCodeNow(id)),
    reply: (id, token, ciphertext) => oneAtATime(id, () => replyNow(id, token, ciphertext)),
    async redeliverReplies() {
      let n = 0;
      for (const r of store.undeliveredReplies()) if (await deliver(r)) n++;
      return n;
    },
    send,
    sendPlain: createPlainSms(deps),
    providerStatus,
    inboundSms,
    expire() {
      const rows = store.expireDue(clock.now());
      for (const r of rows) {
        log('info', 'message-state', { id: r.id, state: 'expired' });
        deps.notify({
          id: r.id,
          staffJid: r.staffJid,
          patient: r.patient,
          state: 'expired',
          reason: null,
          at: clock.now(),
        });
      }
      return rows.length;
    },
    failStranded() {
      const rows = store.strandedQueued();
      for (const r of rows) change(r, 'failed', 'gateway-restarted');
      return rows.length;
    },
  };
}
