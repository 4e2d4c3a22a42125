/**
 * The desktop ⇄ gateway wire format (docs/protocol.md "Patient gateway"), namespace
 * urn:clinic-messenger:patient-gateway:0. The app sends an IQ <send/>; the gateway answers
 * <sent/> or an error carrying <refused reason='…'/>, and later tells the sending account of each
 * state change with a <message/> carrying <state/>.
 */
import { xml, type XmlElement } from '@xmpp/component';
import type { PlainSendRequest } from '../plain-sms';
import type { RefusalReason, ReplyDelivery, SendRequest, StateChange } from '../service';

export const NS = 'urn:clinic-messenger:patient-gateway:0';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

/** Reads <send/>; returns why it cannot be a request (the service checks the values' shapes). */
export function parseSend(el: XmlElement, staffJid: string): SendRequest | { problem: string } {
  const text = (name: string): string | null => {
    const child = el.getChild(name, NS);
    return child ? child.text().trim() : null;
  };
  const requestId = el.attrs.request;
  // A plain SMS is asked for explicitly (parsePlainSend): never a link send with a text beside it.
  if (el.attrs.mode !== undefined) return { problem: "mode: only 'plain-sms', which carries no link" };
  if (el.getChild('plain-text', NS)) return { problem: "plain-text: only in a send with mode='plain-sms'" };
  const check = el.attrs.check ?? 'dob';
  if (check !== 'dob' && check !== 'code') return { problem: 'check: dob or code' };
  const phone = text('phone');
  // A code check needs no date of birth.
  const dobVerifier = check === 'code' ? (text('dob-verifier') ?? '') : text('dob-verifier');
  const smsTemplate = el.getChild('sms', NS)?.text() ?? null;
  const fragment = text('fragment');
  const ciphertextB64 = text('ciphertext');
  const missing = [
    ['request', requestId],
    ['phone', phone],
    ...(check === 'dob' ? [['dob-verifier', dobVerifier]] : []),
    ['sms', smsTemplate],
    ['fragment', fragment],
    ['ciphertext', ciphertextB64],
  ].find(([, v]) => v === null || v === undefined || v === '');
  if (missing) return { problem: `${missing[0]} is missing` };
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(ciphertextB64!)) return { problem: 'ciphertext: base64' };
  const keysEl = el.getChild('reply-keys', NS);
  const keyTexts = keysEl ? keysEl.getChildren('key', NS).map((k) => k.text().trim()) : undefined;
  if (keyTexts?.some((k) => !/^[A-Za-z0-9+/]+={0,2}$/.test(k))) return { problem: 'reply-keys: each <key/> base64' };
  const days = el.attrs['expires-days'];
  if (days !== undefined && !/^[0-9]{1,3}$/.test(days)) return { problem: 'expires-days: a whole number' };
  return {
    staffJid,
    requestId: requestId!,
    phone: phone!,
    check,
    dobVerifier: dobVerifier!,
    smsTemplate: smsTemplate!,
    fragment: fragment!,
    ciphertext: Buffer.from(ciphertextB64!, 'base64'),
    ...(days !== undefined ? { expiresDays: Number(days) } : {}),
    ...(keyTexts ? { replyKeys: keyTexts.map((k) => Buffer.from(k, 'base64')) } : {}),
  };
}

/**
 * Reads <send mode='plain-sms'/>: a text sent as it is, with no link, on the patient's documented
 * request (docs/protocol.md "Plain SMS"). Only <phone/> and <plain-text/>: nothing for a link.
 */
export function parsePlainSend(el: XmlElement, staffJid: string): PlainSendRequest | { problem: string } {
  if (el.attrs.mode !== 'plain-sms') return { problem: "mode: 'plain-sms'" };
  const requestId = el.attrs.request;
  const phone = el.getChild('phone', NS)?.text().trim() ?? '';
  const text = el.getChild('plain-text', NS)?.text() ?? '';
  if (!requestId) return { problem: 'request is missing' };
  if (phone === '') return { problem: 'phone is missing' };
  if (text.trim() === '') return { problem: 'plain-text is missing' };
  const extra = ['dob-verifier', 'sms', 'fragment', 'ciphertext', 'reply-keys'].find((n) => el.getChild(n, NS));
  if (extra) return { problem: `${extra}: not in a plain SMS, which has no link` };
  return { staffJid, requestId, phone, text };
}

export function sentElement(o: { id: string; patientJid: string; state: string; expiresAt: number }): XmlElement {
  return xml('sent', {
    xmlns: NS,
    id: o.id,
    patient: o.patientJid,
    state: o.state,
    expires: new Date(o.expiresAt).toISOString(),
  });
}

/** RFC 6120 §8.3 condition for each refusal, and the app-specific <refused/> that names it. */
const CONDITIONS: Record<RefusalReason | 'forbidden', [type: string, condition: string]> = {
  'opted-out': ['cancel', 'not-acceptable'],
  'quiet-hours': ['wait', 'policy-violation'],
  'rate-limited': ['wait', 'resource-constraint'],
  'bad-request': ['modify', 'bad-request'],
  'sms-failed': ['wait', 'remote-server-timeout'],
  'plain-sms-off': ['cancel', 'not-allowed'],
  forbidden: ['auth', 'forbidden'],
};

export function refusalError(reason: RefusalReason | 'forbidden', detail: string, id?: string): XmlElement {
  const [type, condition] = CONDITIONS[reason];
  return xml(
    'error',
    { type },
    xml(condition, { xmlns: NS_STANZAS }),
    xml('text', { xmlns: NS_STANZAS, 'xml:lang': 'en' }, detail),
    xml('refused', { xmlns: NS, reason, ...(id ? { id } : {}) }),
  );
}

/** The state change for the staff account, stored offline and in its archive (<store/> hint). */
export function stateMessage(c: StateChange, componentDomain: string, messageId: string): XmlElement {
  return xml(
    'message',
    { to: c.staffJid, from: `${c.patient}@${componentDomain}`, type: 'normal', id: messageId },
    xml('state', {
      xmlns: NS,
      id: c.id,
      state: c.state,
      at: new Date(c.at).toISOString(),
      ...(c.reason ? { reason: c.reason } : {}),
    }),
    xml('store', { xmlns: 'urn:xmpp:hints' }),
  );
}

/**
 * A patient's reply for the staff account (gateway/README.md "Replies"; parsed by
 * common/patient-reply.ts): a chat message from the patient's JID, kept offline and archived.
 */
export function replyMessage(r: ReplyDelivery, componentDomain: string): XmlElement {
  return xml(
    'message',
    { to: r.staffJid, from: `${r.patient}@${componentDomain}`, type: 'chat', id: r.id },
    xml(
      'reply',
      { xmlns: NS, id: r.id, message: r.messageId, verified: r.verified, at: new Date(r.at).toISOString() },
      xml('ciphertext', {}, r.ciphertext.toString('base64')),
    ),
    xml('store', { xmlns: 'urn:xmpp:hints' }),
  );
}
