/**
 * Signed admin commands (issue 15 item 2; docs/protocol.md "Admin commands"): what
 * `clinic-admin wipe` writes and what a workstation checks before it acts. Pure functions, no
 * I/O, no clock: every time is passed in (the CLI's wall clock, the session's injected Clock).
 *
 * Format — an "admin command file", two ASCII-armored OpenPGP blocks, nothing else:
 *   1. the admin's PUBLIC key (the policy pins only fingerprints, so the command carries the
 *      key; a fingerprint is a hash over the key, so a substituted key cannot match a pin);
 *   2. an inline-signed OpenPGP message (one-pass signature + literal data + signature, no
 *      compression, no encryption) whose literal data is a small JSON object:
 *      `{ v: 1, type: 'wipe', account, device, nonce, issuedAt, expiresAt }`.
 *
 * Why JSON and not XML: the command is one flat record that a tool writes and the workstation
 * validates with a strict zod schema — one parse, no namespaces, entities or whitespace rules,
 * and the exact bytes the admin signed are the bytes parsed. The XMPP stanza that carries it (next
 * slice) only wraps the armored text. Why an inline signed message and not a cleartext one: the
 * cleartext framework normalises line endings and trailing spaces, so what is shown is not byte
 * for byte what was signed. Not encrypted: account, device id and nonce are not PHI, and the
 * admin need not hold every workstation's key.
 *
 * Hostile input: the text is size-checked before openpgp sees it, must be exactly the two blocks,
 * compressed packets are refused (no decompression bomb), and the JSON is size-checked again.
 */
import { randomBytes } from 'node:crypto';
import * as openpgp from 'openpgp';
import type { Key, PrivateKey } from 'openpgp';
import { z } from 'zod';
import { normalizeFingerprint } from './keys';
import { formatXmppDateTime, parseXmppDateTime } from './time';

export const ADMIN_COMMAND_VERSION = 1;
/** An admin command file is ~1.5 KiB; anything far larger is not one of ours. */
export const MAX_ADMIN_COMMAND_CHARS = 16 * 1024;
const MAX_JSON_BYTES = 1024;
/** Clocks on workstations and the admin's machine disagree a little; never by more than this. */
export const ADMIN_CLOCK_SKEW_MS = 5 * 60_000;
/** A signed command is a standing order until it expires: keep that window bounded. */
export const MAX_ADMIN_COMMAND_VALIDITY_MS = 30 * 24 * 3600_000;

/** Same shape as a workstation profile id (main/vault/profiles.ts PROFILE_ID): the device id. */
export const DEVICE_ID_RE = /^[a-z0-9-]{8,64}$/;
export const BARE_JID_RE = /^[^\s/@<>'"&]+@[^\s/@<>'"&]+$/;
/** 128 random bits, base64url without padding: exactly 22 characters. */
const NONCE_RE = /^[A-Za-z0-9_-]{22}$/;

const isoUtc = z
  .string()
  .max(40)
  .refine((s) => /Z$/.test(s) && parseXmppDateTime(s) !== null, 'expected an ISO date-time in UTC');

export const adminCommandSchema = z.strictObject({
  v: z.literal(ADMIN_COMMAND_VERSION),
  type: z.literal('wipe'),
  account: z
    .string()
    .max(320)
    .refine((s) => BARE_JID_RE.test(s), 'expected a bare JID'),
  device: z.string().regex(DEVICE_ID_RE).nullable(),
  nonce: z.string().regex(NONCE_RE),
  issuedAt: isoUtc,
  expiresAt: isoUtc,
});
export type AdminCommand = z.infer<typeof adminCommandSchema>;

export const adminCommandRejections = [
  'malformed', // not an admin command file, not our JSON schema, over the size limits
  'forged', // no signature, a bad signature, or one the enclosed key did not make
  'unpinned-signer', // a valid signature by a key whose fingerprint the policy does not pin
  'expired', // expiresAt is past
  'not-yet-valid', // issued (or signed) more than ADMIN_CLOCK_SKEW_MS in the future
] as const;
export type AdminCommandRejection = (typeof adminCommandRejections)[number];

export type VerifiedAdminCommand =
  { ok: true; command: AdminCommand; signer: string } | { ok: false; reason: AdminCommandRejection };

const randomNonce = (): string => randomBytes(16).toString('base64url');

/**
 * A wipe command for `account` (a bare JID; lower-cased here) and one device or all (`null`),
 * valid from `now` for `validityMs`. Throws RangeError on input that would not verify.
 */
export function newWipeCommand(input: {
  account: string;
  device: string | null;
  now: Date;
  validityMs: number;
}): AdminCommand {
  if (!(input.validityMs > 0 && input.validityMs <= MAX_ADMIN_COMMAND_VALIDITY_MS))
    throw new RangeError('the validity must be more than 0 and at most 30 days');
  const command = {
    v: ADMIN_COMMAND_VERSION,
    type: 'wipe' as const,
    account: input.account.trim().toLowerCase(),
    device: input.device === null ? null : input.device.trim().toLowerCase(),
    nonce: randomNonce(),
    issuedAt: formatXmppDateTime(input.now),
    expiresAt: formatXmppDateTime(new Date(input.now.getTime() + input.validityMs)),
  };
  const parsed = adminCommandSchema.safeParse(command);
  if (!parsed.success) throw new RangeError(parsed.error.issues[0]?.message ?? 'invalid command');
  return parsed.data;
}

/** The admin command file: the signer's public key, then the signed JSON (both armored). */
export async function signAdminCommand(command: AdminCommand, adminKey: PrivateKey, date: Date): Promise<string> {
  const checked = adminCommandSchema.parse(command);
  if (!adminKey.isDecrypted()) throw new RangeError('the admin key must be decrypted first');
  const message = await openpgp.createMessage({ binary: new TextEncoder().encode(JSON.stringify(checked)), date });
  const signed = await openpgp.sign({ message, signingKeys: adminKey, date, format: 'armored' });
  return `${adminKey.toPublic().armor()}${signed}`;
}

const BLOCK_RE = /-----BEGIN PGP ([A-Z ]+)-----\r?\n[\s\S]*?\r?\n-----END PGP \1-----/g;

/** The two armored blocks, or null when the text is anything else. */
function splitBlocks(text: string): { key: string; message: string } | null {
  const blocks = [...text.matchAll(BLOCK_RE)];
  if (blocks.length !== 2 || text.replace(BLOCK_RE, '').trim() !== '') return null;
  const [key, message] = blocks as [RegExpExecArray, RegExpExecArray];
  if (key[1] !== 'PUBLIC KEY BLOCK' || message[1] !== 'MESSAGE') return null;
  return { key: key[0], message: message[0] };
}

/** The latest date JavaScript has: openpgp's "created after date" and expiry checks never fire. */
const VERIFY_WITHOUT_TIME = new Date(8.64e15);

const ALLOWED_PACKETS = new Set<number>([
  openpgp.enums.packet.onePassSignature,
  openpgp.enums.packet.literalData,
  openpgp.enums.packet.signature,
]);

async function readParts(text: string): Promise<{ key: Key; message: openpgp.Message<string> } | null> {
  const parts = splitBlocks(text);
  if (!parts) return null;
  try {
    const key = await openpgp.readKey({ armoredKey: parts.key });
    const message = await openpgp.readMessage({ armoredMessage: parts.message });
    if (key.isPrivate() || key.keyPacket.version !== 4) return null;
    if (!message.packets.every((p) => ALLOWED_PACKETS.has((p.constructor as { tag?: number }).tag ?? -1))) return null;
    return { key, message };
  } catch {
    return null;
  }
}

function parseJson(data: Uint8Array): AdminCommand | null {
  if (data.byteLength > MAX_JSON_BYTES) return null;
  try {
    const parsed = adminCommandSchema.safeParse(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * Checks an admin command file at `date`. The signature is checked before the pin so a
 * forgery is reported as `forged` whichever key it names; times come last, from the signed JSON.
 * Never throws on hostile input.
 */
export async function verifyAdminCommand(
  text: unknown,
  opts: { pinnedFingerprints: readonly string[]; date: Date },
): Promise<VerifiedAdminCommand> {
  const fail = (reason: AdminCommandRejection): VerifiedAdminCommand => ({ ok: false, reason });
  if (typeof text !== 'string' || text.length > MAX_ADMIN_COMMAND_CHARS) return fail('malformed');
  const parts = await readParts(text);
  if (!parts) return fail('malformed');
  const now = opts.date.getTime();
  let data: Uint8Array;
  let created: number;
  try {
    const result = await openpgp.verify({
      message: parts.message,
      verificationKeys: parts.key,
      expectSigned: true,
      format: 'binary',
      // The times that matter are checked below, on the signed fields: openpgp would report a
      // signature from a clock a few minutes ahead as a bad signature. openpgp still checks that
      // the key was valid when it signed.
      date: VERIFY_WITHOUT_TIME,
      config: { maxDecompressedMessageSize: MAX_JSON_BYTES },
    });
    if (result.signatures.length !== 1) return fail('forged');
    await result.signatures[0]!.verified;
    const signature = await result.signatures[0]!.signature;
    created = signature.packets[0]?.created?.getTime() ?? Number.POSITIVE_INFINITY;
    data = result.data;
  } catch {
    return fail('forged');
  }
  const command = parseJson(data);
  if (!command) return fail('malformed');
  const signer = normalizeFingerprint(parts.key.getFingerprint());
  if (!opts.pinnedFingerprints.some((f) => normalizeFingerprint(f) === signer)) return fail('unpinned-signer');
  const issued = parseXmppDateTime(command.issuedAt)!.getTime();
  const expires = parseXmppDateTime(command.expiresAt)!.getTime();
  if (expires <= issued || expires - issued > MAX_ADMIN_COMMAND_VALIDITY_MS) return fail('malformed');
  if (issued > now + ADMIN_CLOCK_SKEW_MS || created > now + ADMIN_CLOCK_SKEW_MS) return fail('not-yet-valid');
  if (expires <= now) return fail('expired');
  return { ok: true, command, signer };
}
