/**
 * Verifying the anchored audit chains (issue 15 item 4): pure, no I/O, no clock. Input: every
 * batch found in the compliance account's archive, in archive order, already decrypted and with
 * its signature checked against the sending account's published key (report.ts). Output: per
 * workstation (account + profile id) the anchored entries and what is wrong, by name:
 *
 *  - forged:   the signature is not by the account's key, or the batch came from another account;
 *  - gap:      batch numbers or seqs skipped (entries never anchored);
 *  - rollback: a batch number or seq anchored again with other content (an older copy of the
 *              database was put back, and the workstation re-sent from there);
 *  - edited:   a batch does not hash to its own head, a later batch continues from another link
 *              than the last anchored one (a row anchored earlier was changed or removed on the
 *              workstation), or the workstation's own HMAC check found an edited row;
 *  - stopped:  nothing anchored in the last `overdueHours` before the end of the report.
 *
 * A batch sent twice with the same content (a resend after a lost ack) is one batch.
 */
import { entryLink, GENESIS_LINK, type AnchorBatch, type AnchorEntry } from '../../main/crypto/audit-anchor';

export interface ReceivedBatch {
  /** The archive's sender (bare JID). */
  from: string;
  batch: AnchorBatch;
  /** SHA-256 of the signed JSON (audit-anchor.ts batchDigest). */
  digest: string;
  /** Every signature valid and by the published key of `batch.account`. */
  signatureOk: boolean;
}

export type FindingKind = 'forged' | 'gap' | 'rollback' | 'edited' | 'stopped';

export interface Finding {
  kind: FindingKind;
  account: string;
  workstation: string;
  message: string;
}

export interface WorkstationChain {
  account: string;
  workstation: string;
  /** Anchored entries, first version of each seq, in seq order. */
  entries: AnchorEntry[];
  batches: number;
  lastSentAt: number | null;
  headSeq: number;
}

export interface ChainReport {
  ok: boolean;
  findings: Finding[];
  workstations: WorkstationChain[];
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

interface State {
  chain: WorkstationChain;
  byNumber: Map<number, string>;
  /** seq → link after it, and the entry's content as first anchored. */
  links: Map<number, string>;
  content: Map<number, string>;
  lastBatch: number;
}

/** Whether the batch is consistent in itself: consecutive seqs, MACs that link, the head it claims. */
function internallyConsistent(b: AnchorBatch): boolean {
  const fromSeq = b.head.seq - b.entries.length;
  let link = b.prevLink;
  for (const [i, e] of b.entries.entries()) {
    if (e.seq !== fromSeq + i + 1) return false;
    if (i > 0 && e.prevMac !== b.entries[i - 1]!.mac) return false;
    link = entryLink(link, e);
  }
  return link === b.head.link;
}

function checkBatch(s: State, b: AnchorBatch, add: (kind: FindingKind, message: string) => void): void {
  if (!internallyConsistent(b)) {
    add('edited', `batch ${b.batch} does not hash to its own head (its rows were changed after it was signed)`);
    return;
  }
  const fromSeq = b.head.seq - b.entries.length;
  const lastSeq = s.chain.headSeq;
  if (b.batch > s.lastBatch + 1) add('gap', `batches ${s.lastBatch + 1}–${b.batch - 1} never arrived`);
  if (fromSeq > lastSeq) add('gap', `entries ${lastSeq + 1}–${fromSeq} were never anchored`);
  const expected = fromSeq === 0 ? GENESIS_LINK : s.links.get(fromSeq);
  if (expected !== undefined && expected !== b.prevLink) {
    if (fromSeq < lastSeq)
      add('rollback', `batch ${b.batch} re-sends from entry ${fromSeq + 1} after a different history (older database)`);
    else
      add(
        'edited',
        `an entry up to seq ${fromSeq}, anchored earlier, was changed or removed on the workstation (batch ${b.batch} continues from another chain link)`,
      );
  }
  let link = b.prevLink;
  const rolledBack: number[] = [];
  for (const e of b.entries) {
    link = entryLink(link, e);
    const text = JSON.stringify(e);
    const before = s.content.get(e.seq);
    if (before === undefined) {
      s.content.set(e.seq, text);
      s.links.set(e.seq, link);
      s.chain.entries.push(e);
    } else if (before !== text) rolledBack.push(e.seq);
  }
  if (rolledBack.length > 0)
    add(
      'rollback',
      `entries ${rolledBack[0]}–${rolledBack[rolledBack.length - 1]} were anchored before with other content (batch ${b.batch}: an older copy of the database was put back)`,
    );
  for (const p of b.localProblems) add('edited', `the workstation's own chain check found entry ${p.seq} ${p.kind}`);
  s.chain.headSeq = Math.max(lastSeq, b.head.seq);
}

/** Verifies every workstation's chain; `end` is the report's end (ms), `overdueHours` the policy's threshold. */
export function checkChains(
  batches: readonly ReceivedBatch[],
  opts: { end: number; overdueHours: number },
): ChainReport {
  const findings: Finding[] = [];
  const states = new Map<string, State>();
  const seenLocal = new Set<string>();
  for (const r of batches) {
    const { account, workstation } = r.batch;
    const add = (kind: FindingKind, message: string) => {
      const key = `${account}/${workstation}/${kind}/${message}`;
      if (!seenLocal.has(key)) findings.push({ kind, account, workstation, message });
      seenLocal.add(key);
    };
    if (!r.signatureOk || r.from !== account) {
      add(
        'forged',
        r.from !== account
          ? `batch ${r.batch.batch} names ${account} but was sent by ${r.from}; ignored`
          : `batch ${r.batch.batch} is not signed by ${account}'s published key; ignored`,
      );
      continue;
    }
    const id = `${account}/${workstation}`;
    let s = states.get(id);
    if (!s) {
      const chain: WorkstationChain = { account, workstation, entries: [], batches: 0, lastSentAt: null, headSeq: 0 };
      s = { chain, byNumber: new Map(), links: new Map(), content: new Map(), lastBatch: 0 };
      states.set(id, s);
    }
    const known = s.byNumber.get(r.batch.batch);
    if (known === r.digest) continue; // a resend after a lost ack: the same batch
    if (known !== undefined)
      add(
        'rollback',
        `batch ${r.batch.batch} arrived twice with different content (an older copy of the database was put back)`,
      );
    else s.byNumber.set(r.batch.batch, r.digest);
    checkBatch(s, r.batch, add);
    s.chain.batches++;
    s.lastBatch = Math.max(s.lastBatch, r.batch.batch);
    s.chain.lastSentAt = Math.max(s.chain.lastSentAt ?? 0, r.batch.sentAt);
  }
  const overdueMs = opts.overdueHours * 3600_000;
  for (const { chain } of states.values()) {
    chain.entries.sort((a, b) => a.seq - b.seq);
    if (chain.lastSentAt !== null && opts.end - chain.lastSentAt > overdueMs)
      findings.push({
        kind: 'stopped',
        account: chain.account,
        workstation: chain.workstation,
        message: `last anchored ${iso(chain.lastSentAt)}, more than ${opts.overdueHours} h before the end of the report (${iso(opts.end)})`,
      });
  }
  const workstations = [...states.values()]
    .map((s) => s.chain)
    .sort((a, b) => a.account.localeCompare(b.account) || a.workstation.localeCompare(b.workstation));
  return { ok: findings.length === 0, findings, workstations };
}
