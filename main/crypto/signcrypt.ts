/**
 * <signcrypt/> for XEP-0374 chats (XEP-0373 §3.1): build, sign, encrypt; and the receive
 * checks of PROTOCOL.md "Receiving: reject unless all hold". Pure functions: no I/O, no
 * logging (the plaintext never leaves this module except as the returned body).
 */
import * as openpgp from 'openpgp';
import type { PrivateKey, PublicKey } from 'openpgp';
import { createHash, randomInt } from 'node:crypto';
import { SigncryptRejectedError } from './errors';
import { normalizeBareJid, type ContactKey, type Identity } from './keys';
import { formatXmppDateTime, parseXmppDateTime } from './time';
import { fileSharingXml, readFileSharing, type ReadFileSharing, type SharedFile } from './file-sharing';
import { changeXml, readChange, RETRACT_FALLBACK_BODY, type MessageChange } from './message-change';
import { mentionsXml, readMentions, type MentionRange } from './mentions';
import { childElements, escapeAttr, escapeText, isXmlSafe, parseXml, textOf, XmlError, type XmlElement } from './xml';

/** XEP-0373 §2: the one definition of the OpenPGP for XMPP namespace; xmpp/ imports it from here. */
export const OX_NS = 'urn:xmpp:openpgp:0';
const CLIENT_NS = 'jabber:client';
/** XEP-0461 message replies and the XEP-0428 fallback marking the quote in the body. */
export const REPLY_NS = 'urn:xmpp:reply:0';
/** Our own payload extensions (issue 12 §7): <urgent/> marks a message Urgent, signed and encrypted. */
export const CLINIC_NS = 'urn:clinicmessenger:0';
const FALLBACK_NS = 'urn:xmpp:fallback:0';
/** Longer ids are not ours (origin-ids are ~40 chars): such a reference is ignored, not the message. */
const MAX_REF_ID = 128;

/** A reply's reference (XEP-0461): the replied-to message's origin-id and its author's bare JID. */
export interface ReplyRef {
  to: string;
  id: string;
}

export interface OxLimits {
  /** Checked on the raw base64 before decoding anything. */
  maxBase64Chars: number;
  /** Decrypted (and decompressed) plaintext, enforced inside openpgp too (zip bombs). */
  maxPlaintextBytes: number;
  maxXmlDepth: number;
  /** Accepted distance of <time/> before / after the reference (delay stamp, else now). */
  maxPastMs: number;
  maxFutureMs: number;
}
// messages:send caps a body at 8,000 chars (≤ 32 KiB UTF-8); leave room for rpad and markup.
export const defaultOxLimits: OxLimits = {
  maxBase64Chars: 128 * 1024,
  maxPlaintextBytes: 64 * 1024,
  maxXmlDepth: 16,
  maxPastMs: 60 * 60_000,
  maxFutureMs: 5 * 60_000,
};

export interface SigncryptInput {
  identity: Identity;
  /** Everyone who must be able to read it; our own key is always added (XEP-0374 §2.1). */
  recipients: ContactKey[];
  /** Bare JID(s) written into <to/>; normally the chat partner. */
  to: string | string[];
  body: string;
  now?: Date;
  /** A reply: the reference plus the quoted text written as the fallback ("> …" lines). */
  reply?: ReplyRef & { quote: string };
  /** Marked Urgent: an <urgent/> in the signed payload, never in the clear stanza. */
  urgent?: boolean;
  /**
   * An edit (XEP-0308: `body` is the new text) or a deletion for everyone (XEP-0424: `body` is
   * ignored, a fallback is written) of one of our own messages, by its origin-id.
   */
  change?: MessageChange;
  /** An attachment (issue 16): XEP-0447/0448 <file-sharing/>, its key and hash signed with the text. */
  attachment?: SharedFile;
  /** @mentions of room members (issue 18): XEP-0372 references over `body`, code points. */
  mentions?: readonly MentionRange[];
}

const RPAD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** XEP-0373 §3.1 <rpad/>: random length, random content, hides the body length a little. */
function randomPad(): string {
  const len = randomInt(16, 201);
  let s = '';
  for (let i = 0; i < len; i++) s += RPAD_ALPHABET[randomInt(RPAD_ALPHABET.length)];
  return s;
}

function bareOrThrow(jid: string): string {
  try {
    return normalizeBareJid(jid);
  } catch {
    throw new RangeError('<to/> needs a bare JID (local@domain)');
  }
}

/** The quote a client without XEP-0461 shows: each line of the quoted text behind "> ". */
export function fallbackQuote(quote: string): string {
  return (
    quote
      .split('\n')
      .map((l) => `> ${l}`)
      .join('\n') + '\n'
  );
}

/** XEP-0461 <reply/> and the XEP-0428 fallback range (code points, XEP-0426) of the quote. */
function replyXml(reply: ReplyRef, fallback: string): string {
  if (!reply.id || reply.id.length > MAX_REF_ID) throw new RangeError('reply needs a message id');
  return (
    `<reply xmlns='${REPLY_NS}' to='${escapeAttr(bareOrThrow(reply.to))}' id='${escapeAttr(reply.id)}'/>` +
    `<fallback xmlns='${FALLBACK_NS}' for='${REPLY_NS}'><body start='0' end='${[...fallback].length}'/></fallback>`
  );
}

export function buildSigncryptXml(
  to: string[],
  body: string,
  now: Date,
  reply?: ReplyRef & { quote: string },
  urgent = false,
  change?: MessageChange,
  attachment?: SharedFile,
  mentions: readonly MentionRange[] = [],
): string {
  const fallback = reply ? fallbackQuote(reply.quote) : '';
  const full = change?.kind === 'retract' ? RETRACT_FALLBACK_BODY : fallback + body;
  if (!isXmlSafe(full)) throw new RangeError('message body contains control characters XML cannot carry');
  const tos = to.map((j) => `<to jid='${escapeAttr(bareOrThrow(j))}'/>`).join('');
  // A mention's range counts in the text as written; the reply's quote comes before it in <body/>.
  const refs = change?.kind === 'retract' ? '' : mentionsXml(mentions, [...fallback].length);
  return (
    `<signcrypt xmlns='${OX_NS}'>${tos}<time stamp='${formatXmppDateTime(now)}'/>` +
    `<rpad>${randomPad()}</rpad>` +
    `<payload>${change ? changeXml(change) : ''}${reply ? replyXml(reply, fallback) : ''}<body xmlns='${CLIENT_NS}'>${escapeText(full)}</body>${refs}${urgent ? `<urgent xmlns='${CLINIC_NS}'/>` : ''}${attachment ? fileSharingXml(attachment) : ''}</payload></signcrypt>`
  );
}

export async function signcrypt(input: SigncryptInput): Promise<string> {
  return (await signcryptWithDigest(input)).base64;
}

/**
 * signcrypt, also returning the content digest the receiving side computes (OpenedSigncrypt
 * contentDigest): our own edit or deletion enters the replay guard, so its copy coming back from
 * the archive is not applied twice.
 */
export async function signcryptWithDigest(input: SigncryptInput): Promise<{ base64: string; contentDigest: string }> {
  const { identity } = input;
  const to = Array.isArray(input.to) ? input.to : [input.to];
  if (to.length === 0) throw new RangeError('signcrypt needs at least one <to/> JID');
  const xml = buildSigncryptXml(
    to,
    input.body,
    input.now ?? new Date(),
    input.reply,
    input.urgent === true,
    input.change,
    input.attachment,
    input.mentions,
  );
  const bytes = new TextEncoder().encode(xml);
  const keys = new Map<string, PublicKey>([[identity.fingerprint, identity.publicKey]]);
  for (const r of input.recipients) keys.set(r.fingerprint, r.publicKey);
  // Binary literal data, not text: openpgp's text mode rewrites line endings, and the body
  // must come back byte-for-byte.
  const message = await openpgp.createMessage({ binary: bytes });
  const encrypted = await openpgp.encrypt({
    message,
    encryptionKeys: [...keys.values()],
    signingKeys: identity.privateKey,
    format: 'binary',
    ...(input.now ? { date: input.now } : {}),
  });
  return {
    base64: Buffer.from(encrypted).toString('base64'),
    contentDigest: createHash('sha256').update(bytes).digest('hex'),
  };
}

export interface OpenSigncryptInput {
  identity: Identity;
  /** The PINNED key of the bare JID in the outer `from`. */
  senderKey: ContactKey;
  base64: string;
  /**
   * The bare JID of the outer `to` (PROTOCOL.md): our JID for incoming messages; the peer's
   * JID when reading a copy of our own sent message (carbon, archive) from another device.
   */
  ourJid: string;
  /** XEP-0203 delay stamp of an offline / archived message, if any. */
  delayStamp?: Date;
  now: Date;
  limits?: Partial<OxLimits>;
}

export interface OpenedSigncrypt {
  body: string;
  /** A reply's reference (XEP-0461), the fallback quote already cut from `body`; null when none or unusable. */
  replyTo: ReplyRef | null;
  /** The sender marked it Urgent (issue 12 §7). */
  urgent: boolean;
  /** An edit or deletion of an earlier message (XEP-0308 / XEP-0424), null for a new message. */
  change: MessageChange | null;
  /** Its attachment (XEP-0447/0448), or why it was refused (the text stays good); null when none. */
  attachment: ReadFileSharing | null;
  /**
   * Its @mentions (XEP-0372 references, issue 18) over `body` as returned: usable ranges only, not
   * yet checked against a room's members (main/xmpp/room-mentions.ts does).
   */
  mentions: MentionRange[];
  /** The sender's <time stamp/>. */
  timestamp: Date;
  /** Every bare JID in the inner <to/> elements. */
  to: string[];
  senderFingerprint: string;
  /**
   * SHA-256 (hex) of the signed, decrypted <signcrypt/> bytes: the durable replay guard's key
   * with the signer (its random <rpad/> makes every genuine message's digest unique).
   */
  contentDigest: string;
}

const reject = (reason: ConstructorParameters<typeof SigncryptRejectedError>[0], msg?: string) =>
  new SigncryptRejectedError(reason, msg);

/** Strict base64: whitespace (XML line wrapping) is allowed, nothing else outside the alphabet. */
export function decodeBase64Strict(text: string, maxChars: number): Uint8Array {
  if (text.length > maxChars * 1.1 + 1024) throw reject('too-large', 'encoded message over the size limit');
  const compact = text.replace(/[\t\n\r ]+/g, '');
  if (compact.length > maxChars) throw reject('too-large', 'encoded message over the size limit');
  if (compact.length === 0 || compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    throw reject('malformed', 'not valid base64');
  }
  return new Uint8Array(Buffer.from(compact, 'base64'));
}

/**
 * Decrypt + verify only; returns the literal data. Every signature must be valid and by `sender`
 * (read-sync.ts uses it with our own key for the marks only we may write).
 */
export async function decryptAndVerify(
  privateKey: PrivateKey,
  sender: PublicKey,
  bytes: Uint8Array,
  now: Date,
  limits: OxLimits,
): Promise<Uint8Array> {
  const config = { maxDecompressedMessageSize: limits.maxPlaintextBytes };
  let message: openpgp.Message<Uint8Array>;
  try {
    message = await openpgp.readMessage({ binaryMessage: bytes, config });
  } catch {
    throw reject('malformed', 'not an OpenPGP message');
  }
  let decrypted: Awaited<ReturnType<openpgp.Message<Uint8Array>['decrypt']>>;
  try {
    decrypted = await message.decrypt([privateKey], undefined, undefined, now, { ...openpgp.config, ...config });
  } catch (err) {
    if (err instanceof Error && /decompressed|too large|exceeds/i.test(err.message)) throw reject('too-large');
    throw reject('decrypt-failed', 'could not decrypt with our key');
  }
  const data = decrypted.getLiteralData();
  if (!(data instanceof Uint8Array)) throw reject('malformed', 'no literal data');
  if (data.length > limits.maxPlaintextBytes) throw reject('too-large', 'plaintext over the size limit');
  // openpgp's own `expectSigned: true` folds "unsigned" and "wrong key" into one error;
  // we check the same conditions separately so the audit log says which one it was.
  // Verify "as of" now + the allowed clock skew: openpgp refuses signatures made after the
  // date it is given, and a sender whose clock runs a little fast is not an attacker.
  const verifyAt = new Date(now.getTime() + limits.maxFutureMs);
  let sigs: Awaited<ReturnType<typeof decrypted.verify>>;
  try {
    sigs = await decrypted.verify([sender], verifyAt, openpgp.config);
  } catch {
    // openpgp throws plain errors for packets it cannot use here: a signature type it has no name
    // for ("Invalid enum value.", found by the fuzz test's random seed), more than one literal data.
    throw reject('malformed', 'signature packets cannot be read');
  }
  if (sigs.length === 0) throw reject('not-signed', 'message is not signed');
  const results = await Promise.allSettled(sigs.map((s) => s.verified));
  // Every signature must be valid and by the pinned key; an extra signature by someone
  // else is not "also signed by the sender", it is a message we did not expect.
  for (const [i, r] of results.entries()) {
    if (r.status === 'fulfilled') continue;
    // A signature whose packet cannot even be read has no creation time: it is 'wrong-signer' below.
    const created = await sigs[i]!.signature.then((s) => s.packets[0]?.created ?? null).catch(() => null);
    if (created && created.getTime() > verifyAt.getTime()) throw reject('bad-time', 'signed in the future');
    throw reject('wrong-signer', 'not signed by the pinned key');
  }
  return data;
}

export async function openSigncrypt(input: OpenSigncryptInput): Promise<OpenedSigncrypt> {
  const limits = { ...defaultOxLimits, ...input.limits };
  const bytes = decodeBase64Strict(input.base64, limits.maxBase64Chars);
  const data = await decryptAndVerify(input.identity.privateKey, input.senderKey.publicKey, bytes, input.now, limits);
  return checkSigncryptPlaintext(data, {
    ourJid: input.ourJid,
    now: input.now,
    delayStamp: input.delayStamp,
    limits,
    senderFingerprint: input.senderKey.fingerprint,
  });
}

/** The checks on the decrypted, signature-verified plaintext (XEP-0373 §3.1, PROTOCOL.md). */
export function checkSigncryptPlaintext(
  data: Uint8Array,
  ctx: { ourJid: string; now: Date; delayStamp?: Date | undefined; limits: OxLimits; senderFingerprint: string },
): OpenedSigncrypt {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    throw reject('malformed', 'plaintext is not UTF-8');
  }
  let root: XmlElement;
  try {
    root = parseXml(text, { maxDepth: ctx.limits.maxXmlDepth, maxNodes: 2_000 });
  } catch (err) {
    if (err instanceof XmlError) throw reject('malformed', `bad XML: ${err.message}`);
    throw err;
  }
  if (root.name !== 'signcrypt' || root.ns !== OX_NS) throw reject('malformed', 'not a <signcrypt/> element');

  const to = childElements(root, 'to', OX_NS).map((el) => el.attrs.jid ?? '');
  const ours = ctx.ourJid.split('/')[0]!.toLowerCase();
  if (!to.some((j) => j.split('/')[0]!.toLowerCase() === ours)) {
    throw reject('bad-recipient', 'inner <to/> does not name us');
  }
  const times = childElements(root, 'time', OX_NS);
  const stamp = times.length === 1 ? parseXmppDateTime(times[0]!.attrs.stamp ?? '') : null;
  if (!stamp) throw reject('bad-time', 'missing or unparsable <time/>');
  const ref = (ctx.delayStamp ?? ctx.now).getTime();
  const delta = stamp.getTime() - ref;
  if (delta > ctx.limits.maxFutureMs || -delta > ctx.limits.maxPastMs) {
    throw reject('bad-time', '<time/> too far from the delay stamp / now');
  }
  const payloads = childElements(root, 'payload', OX_NS);
  if (payloads.length !== 1) throw reject('malformed', 'need exactly one <payload/>');
  const bodies = childElements(payloads[0]!, 'body', CLIENT_NS);
  const body = bodies.find((b) => !b.attrs['xml:lang']) ?? bodies[0];
  if (!body) throw reject('malformed', 'payload has no <body/>');
  if (childElements(body).length) throw reject('malformed', '<body/> has child elements');
  const full = textOf(body);
  const { text: shown, replyTo } = readReply(payloads[0]!, full);
  const change = readChange(payloads[0]!);
  const retracted = change?.kind === 'retract';
  return {
    // A deletion's body is only the fallback for other clients: nothing of it is kept.
    body: retracted ? '' : shown,
    replyTo,
    urgent: childElements(payloads[0]!, 'urgent', CLINIC_NS).length > 0,
    change,
    attachment: readFileSharing(payloads[0]!),
    mentions: retracted ? [] : readMentions(payloads[0]!, shown, [...full].length - [...shown].length),
    timestamp: stamp,
    to: to.map((j) => j.split('/')[0]!.toLowerCase()),
    senderFingerprint: ctx.senderFingerprint,
    contentDigest: createHash('sha256').update(data).digest('hex'),
  };
}

/**
 * The payload's XEP-0461 reference. A reference we cannot use (several, no id, an id longer than
 * any of ours, a bad JID) is ignored and the body kept whole: the message itself is still good.
 * The fallback quote is cut only when it is exactly the body's start, as we write it.
 */
function readReply(payload: XmlElement, text: string): { text: string; replyTo: ReplyRef | null } {
  const refs = childElements(payload, 'reply', REPLY_NS);
  const ref = refs.length === 1 ? refs[0]! : null;
  const id = ref?.attrs.id ?? '';
  let to: string | null = null;
  try {
    to = ref ? normalizeBareJid(ref.attrs.to ?? '') : null;
  } catch {
    to = null;
  }
  if (!ref || !to || !id || id.length > MAX_REF_ID) return { text, replyTo: null };
  const fallback = childElements(payload, 'fallback', FALLBACK_NS).find((f) => f.attrs.for === REPLY_NS);
  const range = fallback ? childElements(fallback, 'body', FALLBACK_NS) : [];
  const cps = [...text];
  const end = range.length === 1 && range[0]!.attrs.start === '0' ? Number(range[0]!.attrs.end) : NaN;
  const cut = Number.isInteger(end) && end > 0 && end <= cps.length ? cps.slice(end).join('') : text;
  return { text: cut, replyTo: { to, id } };
}
