/**
 * A care-team room message (issue 18; docs/protocol.md "Care-team rooms"). XEP-0374 has rules for
 * one-to-one chats only; for rooms these are ours:
 *
 * - sending: ONE <signcrypt/> per message, encrypted once to every current member's pinned key
 *   plus the sender's own (one OpenPGP message, one session key wrapped per recipient), its
 *   inner <to/> naming the room's bare JID and nothing else. A member without a usable pinned key
 *   stops the send (RoomRecipientsError names them); there is never a plaintext fallback.
 * - receiving: accepted only when the occupant's real JID (the room is non-anonymous) was a member
 *   when the server stamped the message, the signature is by that JID's pinned key, and every
 *   inner <to/> names this room; then the usual one-to-one checks (time, payload, sizes).
 *
 * Pure functions: no I/O, no logging, no clock of their own (`now` is the injected clock's).
 */
import type { ContactKey, Identity } from './keys';
import { normalizeBareJid } from './keys';
import { cleanMentions } from '../../common/mentions';
import { SigncryptRejectedError, type RejectReason } from './errors';
import {
  checkSigncryptPlaintext,
  decodeBase64Strict,
  decryptAndVerify,
  defaultOxLimits,
  signcryptWithDigest,
  type OpenedSigncrypt,
  type OxLimits,
  type SigncryptInput,
} from './signcrypt';

/** One person on the room's member list (its affiliation list), with the key we pinned for them. */
export interface RoomMember {
  jid: string;
  /** Their name in the directory, for the "no usable key" report. */
  name?: string;
  /** Their pinned key; null when we have none we can use (not published, refused, key change pending). */
  key: ContactKey | null;
}

/** A send refused because some members have no usable key: the sender removes them or waits. */
export class RoomRecipientsError extends Error {
  readonly missing: { jid: string; name: string | null }[];
  constructor(missing: { jid: string; name: string | null }[]) {
    super(`no usable key for ${missing.map((m) => m.name ?? m.jid).join(', ')}: nothing was sent`);
    this.name = 'RoomRecipientsError';
    this.missing = missing;
  }
}

export interface RoomSigncryptInput extends Pick<
  SigncryptInput,
  'identity' | 'body' | 'reply' | 'urgent' | 'change' | 'attachment' | 'mentions'
> {
  /** The room's bare JID (room@rooms.clinic.example). */
  room: string;
  /** The room's current member list; must include us. */
  members: readonly RoomMember[];
  /** The injected clock's time: the <time/> stamp and the OpenPGP signature's creation time. */
  now: Date;
}

export interface RoomSigncrypted {
  base64: string;
  /** As signcryptWithDigest: our own copy's replay-guard key. */
  contentDigest: string;
  /** The bare JIDs whose keys it was encrypted to (us included), sorted. */
  recipients: string[];
}

function roomJid(room: string): string {
  try {
    return normalizeBareJid(room);
  } catch {
    throw new RangeError('a room needs a bare JID (room@service)');
  }
}

/** The recipients' keys: every member's pinned key, or RoomRecipientsError naming who has none. */
function memberKeys(identity: Identity, members: readonly RoomMember[]): ContactKey[] {
  const keys: ContactKey[] = [];
  const missing: { jid: string; name: string | null }[] = [];
  let weAreMember = false;
  for (const m of members) {
    const jid = normalizeBareJid(m.jid);
    if (jid === identity.bareJid) {
      weAreMember = true;
      continue;
    }
    if (!m.key) {
      missing.push({ jid, name: m.name ?? null });
      continue;
    }
    // A key pinned for someone else must never be used for this member.
    if (normalizeBareJid(m.key.bareJid) !== jid)
      throw new RangeError(`the key given for ${jid} belongs to another JID`);
    keys.push(m.key);
  }
  if (!weAreMember) throw new RangeError('we are not a member of this room');
  if (missing.length) throw new RoomRecipientsError(missing);
  return keys;
}

export async function signcryptForRoom(input: RoomSigncryptInput): Promise<RoomSigncrypted> {
  const room = roomJid(input.room);
  const recipients = memberKeys(input.identity, input.members);
  // Only members of the room now can be mentioned (issue 18 §4): anyone else is dropped, not sent.
  const listed = new Set(input.members.map((m) => normalizeBareJid(m.jid)));
  const mentions = cleanMentions(input.body, input.mentions ?? [], (jid) => listed.has(jid));
  const { base64, contentDigest } = await signcryptWithDigest({
    identity: input.identity,
    recipients,
    to: room,
    body: input.body,
    now: input.now,
    ...(input.reply ? { reply: input.reply } : {}),
    ...(input.urgent ? { urgent: true } : {}),
    ...(input.change ? { change: input.change } : {}),
    ...(input.attachment ? { attachment: input.attachment } : {}),
    ...(mentions.length ? { mentions } : {}),
  });
  const jids = new Set([input.identity.bareJid, ...recipients.map((k) => normalizeBareJid(k.bareJid))]);
  return { base64, contentDigest, recipients: [...jids].sort() };
}

/** Why a room message was refused: the one-to-one reasons, plus the room's own. */
export const roomRejectReasons = [
  'anonymous-occupant', // the room did not tell us the occupant's real JID
  'not-member', // the occupant's real JID was not a member when the server stamped the message
  'key-not-pinned', // a member, but we have no pinned key for them
] as const;
export type RoomRejectReason = (typeof roomRejectReasons)[number] | RejectReason;

export class RoomMessageRejectedError extends Error {
  readonly reason: RoomRejectReason;
  constructor(reason: RoomRejectReason, message?: string) {
    super(message ?? `room message rejected: ${reason}`);
    this.name = 'RoomMessageRejectedError';
    this.reason = reason;
  }
}

export interface OpenRoomMessageInput {
  identity: Identity;
  /** The bare JID of the room the stanza came from (its outer `from`). */
  room: string;
  /** The occupant's real JID as the room announced it (non-anonymous room); null when unknown. */
  senderJid: string | null;
  /** The members when the server stamped the message (room-membership.ts membersAt). */
  membersAtTime: ReadonlySet<string>;
  /** Our pinned key for `senderJid` (our own key for our own messages), null when none. */
  senderKey: ContactKey | null;
  base64: string;
  /** The server's trusted delay / archive stamp, if any (as for one-to-one messages). */
  delayStamp?: Date;
  now: Date;
  limits?: Partial<OxLimits>;
}

export interface OpenedRoomMessage extends OpenedSigncrypt {
  /** The sender's bare real JID, checked: a member at the time, signer = their pinned key. */
  sender: string;
}

/** The receive check of a room message; RoomMessageRejectedError says why a message is refused. */
export async function openRoomMessage(input: OpenRoomMessageInput): Promise<OpenedRoomMessage> {
  const room = roomJid(input.room);
  if (!input.senderJid) throw new RoomMessageRejectedError('anonymous-occupant');
  let sender: string;
  try {
    sender = normalizeBareJid(input.senderJid);
  } catch {
    throw new RoomMessageRejectedError('anonymous-occupant', 'the occupant has no usable real JID');
  }
  const members = new Set([...input.membersAtTime].map((j) => j.toLowerCase()));
  if (!members.has(sender)) throw new RoomMessageRejectedError('not-member');
  if (!input.senderKey) throw new RoomMessageRejectedError('key-not-pinned');
  if (normalizeBareJid(input.senderKey.bareJid) !== sender) {
    // The caller looked up the wrong key: never verify one person's message with another's key.
    throw new RoomMessageRejectedError('key-not-pinned', "the key given is not the sender's");
  }
  const limits = { ...defaultOxLimits, ...input.limits };
  try {
    const bytes = decodeBase64Strict(input.base64, limits.maxBase64Chars);
    const data = await decryptAndVerify(input.identity.privateKey, input.senderKey.publicKey, bytes, input.now, limits);
    const opened = checkSigncryptPlaintext(data, {
      ourJid: room,
      now: input.now,
      delayStamp: input.delayStamp,
      limits,
      senderFingerprint: input.senderKey.fingerprint,
    });
    // Every <to/> names this room: a room message is never also a one-to-one message (or another room's).
    if (opened.to.length === 0 || opened.to.some((j) => j !== room)) {
      throw new SigncryptRejectedError('bad-recipient', 'inner <to/> names more than this room');
    }
    // A mention of someone who was not a member then is dropped; the message stays good.
    return { ...opened, mentions: opened.mentions.filter((m) => members.has(m.jid)), sender };
  } catch (err) {
    if (err instanceof SigncryptRejectedError) throw new RoomMessageRejectedError(err.reason, err.message);
    throw err;
  }
}
