/**
 * What an activity report rests on (issue 15 item 4): every batch found in the compliance archive
 * as its workstation SIGNED it (decrypted, still signed: main/crypto/audit-anchor.ts
 * openAnchorBatch), and the public keys of the accounts that signed them. The report embeds this
 * evidence; `analyse` turns it into the verdict and the tables, and does so the same way when
 * `clinic-admin report` writes the report and when `verify-report` rechecks a saved one.
 */
import * as openpgp from 'openpgp';
import type { PublicKey } from 'openpgp';
import { z } from 'zod';
import { batchDigest, readSignedBatch } from '../../main/crypto/audit-anchor';
import { normalizeFingerprint } from '../../main/crypto/keys';
import { checkChains, type ChainReport, type Finding, type ReceivedBatch } from './check-chains';

const batchEvidence = z.strictObject({
  /** The archive's id for it, the sending account (server-stamped) and the archive time. */
  archiveId: z.string().max(200),
  from: z.string().max(320),
  stamp: z.string().max(40).nullable(),
  /** The batch as signed (JSON bytes in base64, detached signature); null: not decryptable with the compliance key. */
  signed: z.strictObject({ data: z.string(), signature: z.string() }).nullable(),
});

export const evidenceSchema = z.strictObject({
  v: z.literal(1),
  compliance: z.string().max(320),
  generatedAt: z.number().int(),
  from: z.number().int(),
  to: z.number().int(),
  overdueHours: z.number().int().min(1),
  /** account → its published key when the report was made (null: it publishes none). */
  keys: z.record(z.string(), z.strictObject({ fingerprint: z.string(), armored: z.string() }).nullable()),
  batches: z.array(batchEvidence),
  /**
   * The server's own metadata (report --prosody-config): who exchanged messages with whom, when.
   * NOT signed by any workstation: verify-report can only say the page matches it. null: not asked.
   */
  server: z.array(z.strictObject({ account: z.string(), peer: z.string(), at: z.number().int() })).nullable(),
});
export type Evidence = z.infer<typeof evidenceSchema>;

export interface Analysis {
  chains: ChainReport;
  findings: Finding[];
  ok: boolean;
  /** Batches whose signature checked out against their account's key. */
  signed: number;
}

async function keyOf(e: Evidence, account: string, cache: Map<string, PublicKey | null>): Promise<PublicKey | null> {
  if (cache.has(account)) return cache.get(account)!;
  const k = e.keys[account];
  let key: PublicKey | null = null;
  if (k) {
    try {
      const read = await openpgp.readKey({ armoredKey: k.armored });
      // The listed fingerprint is what the report shows: the key must be that one.
      if (!read.isPrivate() && normalizeFingerprint(read.getFingerprint()) === k.fingerprint) key = read;
    } catch {
      key = null;
    }
  }
  cache.set(account, key);
  return key;
}

/** Re-verifies every signature and every chain from the evidence alone. */
export async function analyse(e: Evidence): Promise<Analysis> {
  const received: ReceivedBatch[] = [];
  const extra: Finding[] = [];
  const cache = new Map<string, PublicKey | null>();
  let signed = 0;
  for (const b of e.batches) {
    if (b.signed === null) {
      extra.push({
        kind: 'forged',
        account: b.from,
        workstation: '?',
        message: `a batch from ${b.from} (archive id ${b.archiveId}) is not encrypted to the compliance key; ignored`,
      });
      continue;
    }
    // The key is chosen by the account the batch names; the check then says whether it signed it.
    const named = await readSignedBatch(b.signed, null);
    if (!named.ok) {
      extra.push({
        kind: 'forged',
        account: b.from,
        workstation: '?',
        message: `a batch from ${b.from} is ${named.reason}; ignored`,
      });
      continue;
    }
    const opened = await readSignedBatch(b.signed, await keyOf(e, named.batch.account, cache));
    if (!opened.ok) continue;
    if (opened.signatureOk) signed++;
    received.push({
      from: b.from,
      batch: opened.batch,
      digest: batchDigest(opened.json),
      signatureOk: opened.signatureOk,
    });
  }
  const chains = checkChains(received, { end: e.to, overdueHours: e.overdueHours });
  const findings = [...extra, ...chains.findings];
  return { chains, findings, ok: findings.length === 0, signed };
}
