/**
 * Anchored audit chains (issue 15 item 4; docs/protocol.md "Audit anchoring"): the batch a
 * workstation sends to the policy's compliance account, and the one place its format is defined —
 * the workstation (main/audit/anchor-batches.ts) builds it, clinic-admin report reads it.
 *
 * A batch is JSON (one flat record, a strict zod schema, the exact signed bytes are the bytes
 * parsed, as admin commands: admin-command.ts), signed by the account's OpenPGP key and encrypted
 * to the compliance key only. It holds the audit rows as stored — seq, time, type, the detail JSON
 * (ids and JIDs, never message text), the row's HMAC and its predecessor's — plus a public hash
 * chain over them. The HMACs need the workstation's audit key to check; the hash chain does not:
 *
 *   link(0) = 64 zeros;  link(seq) = SHA-256("clinic-anchor-v1" ‖ link(seq-1) ‖ seq ‖ at ‖ type ‖ detail ‖ prevMac ‖ mac)
 *
 * (each field length-prefixed). A batch says which link it continues from (`prevLink`, recomputed
 * from the rows on the workstation each time) and which it ends on (`head`), so the receiver sees
 * an anchored row edited later (the next batch starts from another link), a gap, and a rollback.
 */
import { createHash } from 'node:crypto';
import * as openpgp from 'openpgp';
import type { PrivateKey, PublicKey } from 'openpgp';
import { z } from 'zod';
import { BARE_JID_RE, DEVICE_ID_RE } from './admin-command';

export const ANCHOR_VERSION = 1;
/** Rows per batch: ~200 bytes each, so a batch stays far below a server's stanza size limit (Prosody: 256 KiB). */
export const MAX_ANCHOR_ENTRIES = 200;
export const MAX_ANCHOR_ARMOR_CHARS = 192 * 1024;
const MAX_JSON_BYTES = 128 * 1024;
export const GENESIS_LINK = '0'.repeat(64);

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const hexMac = z.string().regex(/^[0-9a-f]{0,128}$/);

export const anchorEntrySchema = z.strictObject({
  seq: z.number().int().min(1),
  at: z.number().int().min(0),
  type: z.string().min(1).max(64),
  detail: z.string().max(4096),
  prevMac: hexMac,
  mac: hexMac,
});
export type AnchorEntry = z.infer<typeof anchorEntrySchema>;

export const anchorBatchSchema = z.strictObject({
  v: z.literal(ANCHOR_VERSION),
  account: z
    .string()
    .max(320)
    .refine((s) => BARE_JID_RE.test(s), 'expected a bare JID'),
  /** The workstation profile's id (the device id of remote wipe). */
  workstation: z.string().regex(DEVICE_ID_RE),
  /** 1, 2, 3, … per workstation profile: a number seen twice with other content is a rollback. */
  batch: z.number().int().min(1),
  /** The workstation's clock (ms) when the batch was first built; a resend keeps it. */
  sentAt: z.number().int().min(0),
  prevLink: hex64,
  head: z.strictObject({ seq: z.number().int().min(0), link: hex64 }),
  entries: z.array(anchorEntrySchema).max(MAX_ANCHOR_ENTRIES),
  /** What the workstation's own HMAC check of its whole log found (main/audit/chain.ts), at most 50. */
  localProblems: z.array(z.strictObject({ seq: z.number().int(), kind: z.string().max(16) })).max(50),
});
export type AnchorBatch = z.infer<typeof anchorBatchSchema>;

function field(h: ReturnType<typeof createHash>, v: string): void {
  const b = Buffer.from(v, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  h.update(len).update(b);
}

/** The link of `e` after `prev` (hex). */
export function entryLink(prev: string, e: AnchorEntry): string {
  const h = createHash('sha256');
  for (const v of ['clinic-anchor-v1', prev, String(e.seq), String(e.at), e.type, e.detail, e.prevMac, e.mac])
    field(h, v);
  return h.digest('hex');
}

/** The link after all of `entries`, starting from `prev`. */
export function chainLink(prev: string, entries: readonly AnchorEntry[]): string {
  return entries.reduce(entryLink, prev);
}

/** The digest a receiver deduplicates on: the same batch resent has the same JSON, so the same digest. */
export const batchDigest = (json: string): string => createHash('sha256').update(json, 'utf8').digest('hex');

/** Signs (account key) and encrypts (compliance key only) one batch; ASCII armor. */
export async function sealAnchorBatch(
  batch: AnchorBatch,
  signingKey: PrivateKey,
  complianceKey: PublicKey,
  date: Date,
): Promise<string> {
  const json = JSON.stringify(anchorBatchSchema.parse(batch));
  const message = await openpgp.createMessage({ binary: new TextEncoder().encode(json), date });
  return openpgp.encrypt({ message, signingKeys: signingKey, encryptionKeys: complianceKey, date, format: 'armored' });
}

/** The latest date JavaScript has: the signature's time is not the check here (admin-command.ts). */
export const VERIFY_WITHOUT_TIME = new Date(8.64e15);

/** A batch as its workstation signed it: the exact JSON bytes (base64) and the detached signature over them (armored). */
export interface SignedBatchText {
  data: string;
  signature: string;
}

/**
 * Decrypts one batch with the compliance key. What comes out is still SIGNED: the JSON bytes and
 * the workstation's signature over them, kept apart (a v4 signature over literal binary data is
 * the same as a detached one over those bytes). Whose key must have made it is named inside, so
 * `readSignedBatch` checks it next; the report keeps this as its evidence.
 */
export async function openAnchorBatch(
  armored: string,
  complianceKey: PrivateKey,
): Promise<{ ok: true; signed: SignedBatchText } | { ok: false; reason: 'undecryptable' }> {
  if (armored.length > MAX_ANCHOR_ARMOR_CHARS) return { ok: false, reason: 'undecryptable' };
  try {
    const message = await openpgp.readMessage({ armoredMessage: armored });
    const result = await openpgp.decrypt({
      message,
      decryptionKeys: complianceKey,
      format: 'binary',
      date: VERIFY_WITHOUT_TIME,
      config: { maxDecompressedMessageSize: MAX_JSON_BYTES },
    });
    const signatures = await Promise.all(result.signatures.map((s) => s.signature));
    const packets = new openpgp.PacketList<openpgp.AnyPacket>();
    for (const sig of signatures) packets.push(...sig.packets);
    const signature = new openpgp.Signature(packets as openpgp.PacketList<openpgp.SignaturePacket>).armor();
    return { ok: true, signed: { data: Buffer.from(result.data).toString('base64'), signature } };
  } catch {
    return { ok: false, reason: 'undecryptable' };
  }
}

export type SignedBatch =
  | {
      ok: true;
      batch: AnchorBatch;
      /** The exact signed JSON (batchDigest is over it). */
      json: string;
      /** Every signature valid and made by `key`; false without a key. */
      signatureOk: boolean;
    }
  | { ok: false; reason: 'malformed' | 'unsigned' };

/** Reads a signed batch (openAnchorBatch's output) and checks its signatures against `key`. Never throws. */
export async function readSignedBatch(signed: SignedBatchText, key: PublicKey | null): Promise<SignedBatch> {
  if (signed.data.length > MAX_JSON_BYTES * 2 || signed.signature.length > 16 * 1024)
    return { ok: false, reason: 'malformed' };
  const data = new Uint8Array(Buffer.from(signed.data, 'base64'));
  let signatureOk = false;
  try {
    const signature = await openpgp.readSignature({ armoredSignature: signed.signature });
    if (signature.packets.length === 0) return { ok: false, reason: 'unsigned' };
    if (key) {
      const result = await openpgp.verify({
        message: await openpgp.createMessage({ binary: data }),
        signature,
        verificationKeys: [key],
        date: VERIFY_WITHOUT_TIME,
      });
      const checks = await Promise.allSettled(result.signatures.map((sig) => sig.verified));
      signatureOk = checks.length > 0 && checks.every((c) => c.status === 'fulfilled');
    }
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  try {
    const json = new TextDecoder('utf-8', { fatal: true }).decode(data);
    const parsed = anchorBatchSchema.safeParse(JSON.parse(json));
    return parsed.success ? { ok: true, batch: parsed.data, json, signatureOk } : { ok: false, reason: 'malformed' };
  } catch {
    return { ok: false, reason: 'malformed' };
  }
}
