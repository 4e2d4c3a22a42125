/**
 * A patient's reply as the patient gateway delivers it (issue 17 item 3; gateway/README.md
 * "Replies", docs/protocol.md "Patient gateway"): pure parsing and validation for the desktop and
 * the gateway, no XML library and no OpenPGP library, so it runs in Node and the renderer alike.
 *
 * ```xml
 * <message from='p-<24 hex>@patients.clinic.example' to='rita@clinic.example' type='chat' id='<reply id>'>
 *   <reply xmlns='urn:clinic-messenger:patient-gateway:0' id='<reply id>' message='<link id>'
 *          verified='dob|code' at='2027-01-15T08:00:00.000Z'>
 *     <ciphertext>base64 of a binary OpenPGP message</ciphertext>
 *   </reply>
 *   <store xmlns='urn:xmpp:hints'/>
 * </message>
 * ```
 *
 * The ciphertext must be an OpenPGP message made only of public-key encrypted session key packets
 * (tag 1, at least one) followed by exactly one encrypted data packet (tag 18 SEIPD or 20 AEAD):
 * no literal data (plaintext), no password (SKESK), no signatures outside the encryption, nothing
 * after it. Whether it is encrypted to the right keys is for the decrypting side to find out.
 */

export const PATIENT_GATEWAY_NS = 'urn:clinic-messenger:patient-gateway:0';

/** The largest reply ciphertext the gateway accepts by default (its `replies.maxBytes`). */
export const MAX_REPLY_BYTES = 32 * 1024;

/** What an ltx / @xmpp element offers; the parser needs nothing else. */
export interface ElementLike {
  name: string;
  attrs: Record<string, string | undefined>;
  getChildren(name: string, xmlns?: string): ElementLike[];
  text(): string;
}

export type IdentityCheckKind = 'dob' | 'code';

export interface PatientReply {
  /** The patient's JID at the gateway, bare: p-<24 hex>@<gateway domain>. */
  patientJid: string;
  /** The reply's id (also the stanza id): the same reply delivered twice has the same id. */
  replyId: string;
  /** The link id of the message this answers (the gateway's <sent id='…'/>). */
  messageId: string;
  /** How the patient proved who they are before writing it. */
  verified: IdentityCheckKind;
  /** When the gateway received it, ms since the epoch. */
  at: number;
  /** The OpenPGP message (binary). */
  ciphertext: Uint8Array;
}

export type ParsedReply = { ok: true; reply: PatientReply } | { ok: false; problem: string };

const ID = /^[A-Za-z0-9_-]{22}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;
const PATIENT_LOCAL = /^p-[0-9a-f]{24}$/;

/**
 * Reads a patient reply out of a <message/>. null: the stanza carries no reply (not for this
 * parser); otherwise the reply or why it cannot be one (the desktop drops it and says so).
 */
export function parsePatientReply(
  stanza: ElementLike,
  opts: { gatewayDomain: string; maxBytes?: number },
): ParsedReply | null {
  if (stanza.name !== 'message') return null;
  const replies = stanza.getChildren('reply', PATIENT_GATEWAY_NS);
  if (replies.length === 0) return null;
  const fail = (problem: string): ParsedReply => ({ ok: false, problem });
  if (replies.length > 1) return fail('more than one <reply/>');
  const type = stanza.attrs.type ?? 'normal';
  if (type !== 'chat' && type !== 'normal') return fail(`message type ${type.slice(0, 20)}`);
  const from = stanza.attrs.from ?? '';
  const at = from.indexOf('@');
  if (at < 0 || !PATIENT_LOCAL.test(from.slice(0, at)) || from.slice(at + 1) !== opts.gatewayDomain)
    return fail('from: not a patient of the gateway');
  const r = replies[0]!;
  const replyId = r.attrs.id ?? '';
  const messageId = r.attrs.message ?? '';
  if (!ID.test(replyId)) return fail('id: 22 base64url characters');
  if (!ID.test(messageId)) return fail('message: 22 base64url characters');
  const verified = r.attrs.verified;
  if (verified !== 'dob' && verified !== 'code') return fail('verified: dob or code');
  const time = r.attrs.at ?? '';
  const when = ISO_TIME.test(time) ? Date.parse(time) : NaN;
  if (!Number.isFinite(when)) return fail('at: an ISO time in UTC');
  const cts = r.getChildren('ciphertext', PATIENT_GATEWAY_NS);
  if (cts.length !== 1) return fail('exactly one <ciphertext/>');
  const max = opts.maxBytes ?? MAX_REPLY_BYTES;
  const b64 = cts[0]!.text().trim();
  if (b64.length > Math.ceil(max / 3) * 4) return fail(`ciphertext: larger than ${max} bytes`);
  const bytes = decodeBase64(b64);
  if (!bytes) return fail('ciphertext: not base64');
  if (bytes.length > max) return fail(`ciphertext: larger than ${max} bytes`);
  const shape = checkEncryptedMessage(bytes);
  if (shape) return fail(`ciphertext: ${shape}`);
  return {
    ok: true,
    reply: { patientJid: from, replyId, messageId, verified, at: when, ciphertext: bytes },
  };
}

const PKESK = 1;
const SEIPD = 18;
const AEAD = 20;

/**
 * null when `bytes` is a binary OpenPGP message of PKESK packets and one encrypted data packet,
 * else why not. Walks the packet headers only (RFC 9580 §4.2: both header formats, partial lengths).
 */
export function checkEncryptedMessage(bytes: Uint8Array): string | null {
  let pos = 0;
  let sessionKeys = 0;
  while (pos < bytes.length) {
    const head = bytes[pos]!;
    if ((head & 0x80) === 0) return 'not an OpenPGP packet';
    let tag: number;
    let end: number;
    if (head & 0x40) {
      tag = head & 0x3f;
      const body = newFormatBody(bytes, pos + 1);
      if (!body) return 'a packet runs past the end';
      end = body;
    } else {
      tag = (head >> 2) & 0x0f;
      const lenType = head & 0x03;
      if (lenType === 3) return 'an indeterminate packet length';
      const n = 1 << lenType;
      if (pos + 1 + n > bytes.length) return 'a packet runs past the end';
      let len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + bytes[pos + 1 + i]!;
      end = pos + 1 + n + len;
    }
    if (end > bytes.length) return 'a packet runs past the end';
    if (tag === PKESK) {
      if (sessionKeys < 0) return 'a session key after the encrypted data';
      sessionKeys++;
    } else if (tag === SEIPD || tag === AEAD) {
      if (sessionKeys <= 0) return sessionKeys < 0 ? 'more than one encrypted data packet' : 'no public-key recipient';
      sessionKeys = -1;
    } else {
      return `packet type ${tag} is not allowed (only recipients and encrypted data)`;
    }
    pos = end;
  }
  return sessionKeys === -1 ? null : 'no encrypted data';
}

/** The end of a new-format packet whose length starts at `at` (following partial lengths), or null. */
function newFormatBody(bytes: Uint8Array, at: number): number | null {
  let pos = at;
  for (;;) {
    const first = bytes[pos];
    if (first === undefined) return null;
    if (first < 192) return pos + 1 + first;
    if (first < 224) {
      const second = bytes[pos + 1];
      if (second === undefined) return null;
      return pos + 2 + ((first - 192) << 8) + second + 192;
    }
    if (first === 255) {
      if (pos + 5 > bytes.length) return null;
      const len = ((bytes[pos + 1]! << 24) >>> 0) + (bytes[pos + 2]! << 16) + (bytes[pos + 3]! << 8) + bytes[pos + 4]!;
      return pos + 5 + len;
    }
    // A partial body length: this chunk, then another length.
    pos = pos + 1 + (1 << (first & 0x1f));
    if (pos > bytes.length) return null;
  }
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_VALUE = new Map([...B64].map((c, i) => [c, i]));

/** Strict base64 (padded, no whitespace) to bytes; null when it is not. */
export function decodeBase64(text: string): Uint8Array | null {
  if (text.length === 0 || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3);
  for (let i = 0, o = 0; i < text.length; i += 4, o += 3) {
    let n = 0;
    for (let k = 0; k < 4; k++) n = (n << 6) | (B64_VALUE.get(text[i + k]!) ?? 0);
    out[o] = (n >> 16) & 0xff;
    out[o + 1] = (n >> 8) & 0xff;
    out[o + 2] = n & 0xff;
  }
  return out.subarray(0, out.length - pad);
}
