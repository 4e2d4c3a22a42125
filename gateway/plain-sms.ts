/**
 * Plain SMS (issue 17 item 4): a text that goes to the patient's phone as it is, with no link and
 * no identity check, when the patient documented that they want it (their right of access; the app
 * records that request and asks the sender to confirm a warning). The gateway sends one only when
 * its own config allows it (`plainSms.allowed`, default false) and the request says so explicitly
 * (<send mode='plain-sms'/>, xmpp/protocol.ts). The PHI checker of the SMS text does not apply: the
 * text is the message. Opt-out, quiet hours and the frequency cap do, as for every text.
 *
 * The text itself is never stored and never logged: it is handed to the SMS provider and dropped.
 * What is kept is a messages row without ciphertext (nothing to open, never expires): the request
 * id (a repeated request gets the first answer), the phone number for the cap, and the provider's
 * id for its delivery receipt.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from './clock';
import type { GatewayConfig } from './config';
import { errorName, type Logger } from './log';
import { roadBlock } from './rules';
import { SmsSendError, type SmsProvider } from './sms/provider';
import type { SendOutcome, StateChange } from './service';
import type { GatewayStore, MessageRow, MessageState } from './store/store';

export interface PlainSendRequest {
  /** The sender's bare JID (the component checked its domain). */
  staffJid: string;
  /** The app's id for this send: a repeated request returns the first one's result. */
  requestId: string;
  phone: string;
  /** The text exactly as the patient will read it. Never stored, never logged. */
  text: string;
}

export interface PlainSmsDeps {
  config: Pick<GatewayConfig, 'plainSms' | 'limits'>;
  store: GatewayStore;
  sms: SmsProvider;
  clock: Clock;
  log: Logger;
  notify: (change: StateChange) => void;
}

const PHONE = /^\+[1-9][0-9]{6,14}$/;
const REQUEST_ID = /^[A-Za-z0-9_.:-]{1,64}$/;
// Control characters other than line breaks, and invisible format characters (bidi overrides …).
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const HIDDEN = /[\u0000-\u0009\u000B\u000C\u000E-\u001F\u007F\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/u;

export function createPlainSms(deps: PlainSmsDeps): (req: PlainSendRequest) => Promise<SendOutcome> {
  const { config, store, sms, clock, log } = deps;

  const refuse = (reason: Exclude<SendOutcome, { ok: true }>['reason'], detail: string): SendOutcome => {
    log('info', 'plain-sms-refused', { reason });
    return { ok: false, reason, detail };
  };
  const outcomeOf = (row: MessageRow): SendOutcome =>
    row.state === 'failed'
      ? { ok: false, reason: 'sms-failed', detail: 'the SMS provider did not take the text', id: row.id }
      : { ok: true, id: row.id, patient: row.patient, state: row.state, expiresAt: row.expiresAt };
  const change = (row: MessageRow, state: MessageState, reason: string | null) => {
    const at = clock.now();
    store.setState(row.id, state, reason, at);
    log('info', 'message-state', { id: row.id, state, ...(reason ? { reason } : {}) });
    deps.notify({ id: row.id, staffJid: row.staffJid, patient: row.patient, state, reason, at });
  };

  function problem(req: PlainSendRequest): string | null {
    if (!REQUEST_ID.test(req.requestId)) return 'request: 1-64 letters, digits, _ . : -';
    if (!PHONE.test(req.phone)) return 'phone: an E.164 number';
    if (req.text.trim() === '') return 'plain-text: empty';
    if (req.text.length > config.plainSms.maxChars)
      return `plain-text: at most ${config.plainSms.maxChars} characters on this gateway`;
    if (HIDDEN.test(req.text)) return 'plain-text: control or invisible characters';
    return null;
  }

  return async function sendPlain(req) {
    if (!config.plainSms.allowed) return refuse('plain-sms-off', 'this gateway does not send plain SMS');
    const bad = problem(req);
    if (bad) return refuse('bad-request', bad);
    const requestKey = `${req.staffJid} ${req.requestId}`;
    const earlier = store.byRequest(requestKey);
    if (earlier) return outcomeOf(earlier);
    const now = clock.now();
    const blocked = roadBlock(store, config.limits, req.phone, now);
    if (blocked) return refuse(blocked.reason, blocked.detail);
    const id = randomBytes(16).toString('base64url');
    // No ciphertext: nothing to open. No DOB verifier: no check. Expires at once: no link lives.
    store.insert({
      id,
      requestKey,
      staffJid: req.staffJid,
      patient: store.patientFor(req.phone),
      phone: req.phone,
      ciphertext: null,
      check: 'code',
      dobVerifier: '',
      createdAt: now,
      expiresAt: now,
    });
    log('info', 'plain-sms-queued', { id });
    const row = store.get(id)!;
    try {
      const sent = await sms.send({ to: row.phone, body: req.text });
      store.setProviderRef(id, sent.providerRef, clock.now());
      if (sent.delivered) change(row, 'sms-delivered', null);
    } catch (err) {
      log('warn', 'sms-send-failed', { id, code: err instanceof SmsSendError ? err.code : errorName(err) });
      change(row, 'failed', 'sms-failed');
    }
    return outcomeOf(store.get(id)!);
  };
}
