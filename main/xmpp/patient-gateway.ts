/**
 * The desktop's side of the patient gateway's wire (issue 17 item 2; docs/protocol.md "Patient
 * gateway", namespace urn:clinic-messenger:patient-gateway:0): find the gateway component by
 * service discovery, send one text as an IQ <send/>, read its <sent/> answer or <refused/> error,
 * and read the <state/> messages the gateway sends from the patient's JID afterwards.
 * What goes in the request (the ciphertext, the verifier, the checked SMS text) is made by
 * main/patients/; this file only speaks the stanzas.
 */
import { xml, type XmlElement } from '@xmpp/client';
import { findService, type IqCall } from './disco';

export const NS_PATIENT_GATEWAY = 'urn:clinic-messenger:patient-gateway:0';

export type { IqCall };

export const PATIENT_STATES = ['queued', 'sms-delivered', 'opened', 'replied', 'expired', 'failed'] as const;
export type PatientTextState = (typeof PATIENT_STATES)[number];

export const REFUSAL_REASONS = [
  'opted-out',
  'quiet-hours',
  'rate-limited',
  'bad-request',
  'sms-failed',
  'forbidden',
  /** A plain SMS to a gateway whose config does not allow them. */
  'plain-sms-off',
] as const;
export type PatientRefusal = (typeof REFUSAL_REASONS)[number];

export interface PatientTextRequest {
  /** The app's id for this text: the same id again is answered with the first answer, nobody texted twice. */
  request: string;
  phone: string;
  /** null: the patient proves who they are with a one-time SMS code (check='code'). */
  dobVerifier: string | null;
  /** The checked SMS template, with {link} once. */
  sms: string;
  /** The link secret (base64url, 22 characters). */
  fragment: string;
  /** The OpenPGP message, base64. */
  ciphertext: string;
  expiresDays?: number;
  /** Binary OpenPGP public keys the patient's reply is encrypted to (the sender's and the archive key); none: no reply. */
  replyKeys?: Uint8Array[];
}

export interface PatientTextSent {
  /** The gateway's link id. */
  id: string;
  /** p-…@patients.<domain>: the same for every text to this number. */
  patient: string;
  state: PatientTextState;
  expires: string;
}

export interface PatientStateChange {
  patient: string;
  id: string;
  state: PatientTextState;
  at: string;
  reason: string | null;
}

/** The gateway said no, with the reason it gives (or none when the error was not the gateway's). */
export class PatientGatewayRefused extends Error {
  constructor(
    readonly reason: PatientRefusal | null,
    readonly condition: string | null,
  ) {
    super(`patient gateway refused: ${reason ?? condition ?? 'unknown'}`);
    this.name = 'PatientGatewayRefused';
  }
}

const condition = (err: unknown): string | null => {
  const c = (err as { condition?: unknown } | null)?.condition;
  return typeof c === 'string' ? c : null;
};

/** The gateway component among the domain's items (identity gateway/sms, feature NS), or null. */
export function findPatientGateway(iq: IqCall, domain: string): Promise<string | null> {
  return findService(iq, domain, (jid, query) => {
    const isGateway = query
      .getChildren('identity')
      .some((i) => i.attrs.category === 'gateway' && i.attrs.type === 'sms');
    const speaks = query.getChildren('feature').some((f) => f.attrs.var === NS_PATIENT_GATEWAY);
    return isGateway && speaks ? jid : null;
  });
}

export function sendStanza(gateway: string, r: PatientTextRequest): XmlElement {
  return xml(
    'iq',
    { type: 'set', to: gateway },
    xml(
      'send',
      {
        xmlns: NS_PATIENT_GATEWAY,
        request: r.request,
        check: r.dobVerifier === null ? 'code' : 'dob',
        ...(r.expiresDays !== undefined ? { 'expires-days': String(r.expiresDays) } : {}),
      },
      xml('phone', {}, r.phone),
      ...(r.dobVerifier === null ? [] : [xml('dob-verifier', {}, r.dobVerifier)]),
      xml('sms', {}, r.sms),
      xml('fragment', {}, r.fragment),
      xml('ciphertext', {}, r.ciphertext),
      ...(r.replyKeys?.length
        ? [xml('reply-keys', {}, ...r.replyKeys.map((k) => xml('key', {}, Buffer.from(k).toString('base64'))))]
        : []),
    ),
  );
}

const isState = (s: unknown): s is PatientTextState => PATIENT_STATES.includes(s as PatientTextState);
const isReason = (s: unknown): s is PatientRefusal => REFUSAL_REASONS.includes(s as PatientRefusal);
const PATIENT_LOCAL = /^p-[0-9a-f]{8,64}$/;

/** The patient's bare JID when it is a patient of this gateway, else null. */
export function patientJidOf(jid: unknown, gateway: string): string | null {
  if (typeof jid !== 'string') return null;
  const bare = jid.split('/')[0]!;
  const at = bare.indexOf('@');
  if (at <= 0 || bare.slice(at + 1).toLowerCase() !== gateway.toLowerCase()) return null;
  // JIDs compare case-insensitively (the gateway writes them lower-case).
  return PATIENT_LOCAL.test(bare.slice(0, at).toLowerCase()) ? bare.toLowerCase() : null;
}

export function parseSent(res: XmlElement, gateway: string): PatientTextSent {
  const sent = res.getChild('sent', NS_PATIENT_GATEWAY);
  const { id, patient, state, expires } = sent?.attrs ?? {};
  const patientJid = patientJidOf(patient, gateway);
  if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{8,64}$/.test(id) || !patientJid || !isState(state))
    throw new PatientGatewayRefused(null, 'malformed-answer');
  if (typeof expires !== 'string' || Number.isNaN(Date.parse(expires)))
    throw new PatientGatewayRefused(null, 'malformed-answer');
  return { id, patient: patientJid, state, expires };
}

/** Sends one text; throws PatientGatewayRefused with the gateway's reason when it says no. */
export async function sendPatientText(iq: IqCall, gateway: string, r: PatientTextRequest): Promise<PatientTextSent> {
  let res: XmlElement;
  try {
    res = await iq(sendStanza(gateway, r));
  } catch (err) {
    const c = condition(err);
    if (c === null) throw err; // not an answer from the gateway (the connection): the caller retries
    // @xmpp's StanzaError: `application` is the error's app-specific child (<refused reason=…/>).
    const app = (err as { application?: XmlElement }).application;
    const reason = app?.name === 'refused' && app.attrs.xmlns === NS_PATIENT_GATEWAY ? app.attrs.reason : undefined;
    throw new PatientGatewayRefused(isReason(reason) ? reason : null, c);
  }
  return parseSent(res, gateway);
}

/**
 * A plain SMS on the patient's documented request (docs/protocol.md "Plain SMS"): the text as it
 * is, no link. mode='plain-sms' says so explicitly; the gateway sends it only when its config allows.
 */
export function plainSendStanza(gateway: string, r: { request: string; phone: string; text: string }): XmlElement {
  return xml(
    'iq',
    { type: 'set', to: gateway },
    xml(
      'send',
      { xmlns: NS_PATIENT_GATEWAY, request: r.request, mode: 'plain-sms' },
      xml('phone', {}, r.phone),
      xml('plain-text', {}, r.text),
    ),
  );
}

/** Sends one plain SMS; throws PatientGatewayRefused with the gateway's reason when it says no. */
export async function sendPlainSms(
  iq: IqCall,
  gateway: string,
  r: { request: string; phone: string; text: string },
): Promise<PatientTextSent> {
  let res: XmlElement;
  try {
    res = await iq(plainSendStanza(gateway, r));
  } catch (err) {
    const c = condition(err);
    if (c === null) throw err;
    const app = (err as { application?: XmlElement }).application;
    const reason = app?.name === 'refused' && app.attrs.xmlns === NS_PATIENT_GATEWAY ? app.attrs.reason : undefined;
    throw new PatientGatewayRefused(isReason(reason) ? reason : null, c);
  }
  return parseSent(res, gateway);
}

/** A <message/> from the gateway with a <state/>, or null for anything else (hostile input included). */
export function parseStateMessage(stanza: XmlElement, gateway: string): PatientStateChange | null {
  if (stanza.name !== 'message' || stanza.attrs.type === 'error') return null;
  const patient = patientJidOf(stanza.attrs.from, gateway);
  const el = stanza.getChild('state', NS_PATIENT_GATEWAY);
  if (!patient || !el) return null;
  const { id, state, at, reason } = el.attrs;
  if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{8,64}$/.test(id) || !isState(state)) return null;
  if (typeof at !== 'string' || Number.isNaN(Date.parse(at))) return null;
  const why = typeof reason === 'string' && /^[a-z0-9:_-]{1,64}$/.test(reason) ? reason : null;
  return { patient, id, state, at: new Date(at).toISOString(), reason: why };
}
