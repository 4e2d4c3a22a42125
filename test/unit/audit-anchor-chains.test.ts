/**
 * The report's chain check (admin/report/check-chains.ts, issue 15 item 4) on hand-built batches:
 * pure logic, no server; and the batch's sealing and signature check (main/crypto/audit-anchor.ts)
 * with throwaway keys. The integration test (audit-anchoring) runs the same cases end
 * to end with real workstations, Prosody and the CLI.
 */
import * as openpgp from 'openpgp';
import { describe, expect, it } from 'vitest';
import { checkChains, type ReceivedBatch } from '../../admin/report/check-chains';
import {
  batchDigest,
  chainLink,
  GENESIS_LINK,
  openAnchorBatch,
  readSignedBatch,
  sealAnchorBatch,
  type AnchorBatch,
  type AnchorEntry,
} from '../../main/crypto/audit-anchor';

const HOUR = 3600_000;
const T0 = Date.UTC(2030, 0, 1);
const ALICE = 'alice@clinic.example';
const WS = 'ws-alice-0001';

/** A workstation's log: seq n at T0 + n hours, MACs that link (any 64-hex values do for the receiver). */
function entry(seq: number, type = 'message-sent', tag = ''): AnchorEntry {
  const mac = (n: number) => (n === 0 ? '0'.repeat(64) : `${tag}${n}`.padStart(64, 'a'));
  return {
    seq,
    at: T0 + seq * HOUR,
    type,
    detail: JSON.stringify({ to: 'bob@clinic.example' }),
    prevMac: mac(seq - 1),
    mac: mac(seq),
  };
}

/** Batch `n` carrying `entries` after the log `before` (the rows already anchored, as the workstation has them). */
function batch(n: number, before: AnchorEntry[], entries: AnchorEntry[], sentAt: number): ReceivedBatch {
  const prevLink = chainLink(GENESIS_LINK, before);
  const b: AnchorBatch = {
    v: 1,
    account: ALICE,
    workstation: WS,
    batch: n,
    sentAt,
    prevLink,
    head: { seq: before.length + entries.length, link: chainLink(prevLink, entries) },
    entries,
    localProblems: [],
  };
  return { from: ALICE, batch: b, digest: batchDigest(JSON.stringify(b)), signatureOk: true };
}

const log = Array.from({ length: 9 }, (_, i) => entry(i + 1));
const clean = [
  batch(1, [], log.slice(0, 3), T0 + 3 * HOUR),
  batch(2, log.slice(0, 3), log.slice(3, 6), T0 + 6 * HOUR),
  batch(3, log.slice(0, 6), log.slice(6, 9), T0 + 9 * HOUR),
];
const opts = { end: T0 + 10 * HOUR, overdueHours: 24 };
const kinds = (r: ReturnType<typeof checkChains>) => r.findings.map((f) => f.kind);

describe('checkChains', () => {
  it('verifies a clean chain and counts a resent batch (same content) once', () => {
    const r = checkChains([...clean.slice(0, 2), clean[1]!, clean[2]!], opts);
    expect(r.findings).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.workstations).toHaveLength(1);
    expect(r.workstations[0]).toMatchObject({ account: ALICE, workstation: WS, batches: 3, headSeq: 9 });
    expect(r.workstations[0]!.entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('names a gap: a batch that never arrived', () => {
    const r = checkChains([clean[0]!, clean[2]!], opts);
    expect(kinds(r)).toContain('gap');
    expect(r.findings[0]).toMatchObject({ account: ALICE, workstation: WS });
    expect(r.findings.map((f) => f.message).join()).toMatch(/batches 2–2 never arrived/);
  });

  it('names an edit of a row after it was anchored: the next batch continues from another link', () => {
    const edited = [...log.slice(0, 3)];
    edited[1] = { ...edited[1]!, detail: JSON.stringify({ to: 'carol@clinic.example' }) };
    const r = checkChains([clean[0]!, batch(2, edited, log.slice(3, 6), T0 + 6 * HOUR)], opts);
    expect(kinds(r)).toEqual(['edited']);
    expect(r.findings[0]!.message).toMatch(/up to seq 3, anchored earlier, was changed or removed/);
  });

  it('names a batch whose rows do not hash to its head', () => {
    const b = batch(1, [], log.slice(0, 3), T0);
    const tampered = { ...b, batch: { ...b.batch, entries: [log[0]!, { ...log[1]!, type: 'unlock' }, log[2]!] } };
    expect(kinds(checkChains([tampered], opts))).toEqual(['edited']);
  });

  it('names a rollback: an older database re-sends batch numbers and seqs with other content', () => {
    const other = Array.from({ length: 3 }, (_, i) => entry(i + 4, 'unlock', 'b'));
    other[0] = { ...other[0]!, prevMac: log[2]!.mac };
    const r = checkChains([...clean, batch(2, log.slice(0, 3), other, T0 + 9 * HOUR)], opts);
    expect(kinds(r)).toContain('rollback');
    expect(r.findings.map((f) => f.message).join('\n')).toMatch(/batch 2 arrived twice with different content/);
    expect(r.findings.map((f) => f.message).join('\n')).toMatch(/entries 4–6 were anchored before with other content/);
  });

  it('names a workstation that stopped anchoring longer ago than the threshold', () => {
    const r = checkChains(clean, { end: T0 + 9 * HOUR + 25 * HOUR, overdueHours: 24 });
    expect(r.findings).toEqual([expect.objectContaining({ kind: 'stopped', account: ALICE, workstation: WS })]);
    expect(checkChains(clean, { end: T0 + 9 * HOUR + 23 * HOUR, overdueHours: 24 }).ok).toBe(true);
  });

  it('names a forged batch (not signed by the account, or sent by another account) and leaves it out of the chain', () => {
    const forged = { ...batch(4, log, [entry(10)], T0 + 10 * HOUR), signatureOk: false };
    const relayed = { ...batch(4, log, [entry(10)], T0 + 10 * HOUR), from: 'mallory@clinic.example' };
    const r = checkChains([...clean, forged, relayed], opts);
    expect(kinds(r)).toEqual(['forged', 'forged']);
    expect(r.findings[0]!.message).toMatch(/not signed by alice@clinic\.example's published key/);
    expect(r.findings[1]!.message).toMatch(/sent by mallory@clinic\.example/);
    expect(r.workstations[0]!.headSeq).toBe(9);
  });

  it("reports the workstation's own HMAC check", () => {
    const b = batch(1, [], log.slice(0, 3), T0);
    b.batch.localProblems = [{ seq: 2, kind: 'edited' }];
    const r = checkChains([{ ...b, digest: batchDigest(JSON.stringify(b.batch)) }], opts);
    expect(r.findings.map((f) => f.message)).toEqual(["the workstation's own chain check found entry 2 edited"]);
  });
});

describe('sealed batches (main/crypto/audit-anchor.ts)', () => {
  it('opens only with the compliance key, and the signature checks out only against the signing key and the exact bytes', async () => {
    const make = async (name: string) =>
      (await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name }], format: 'object' }))
        .privateKey;
    const [account, compliance, other] = await Promise.all([make('a'), make('c'), make('o')]);
    const b = batch(1, [], log.slice(0, 3), T0).batch;
    const sealed = await sealAnchorBatch(b, account, compliance.toPublic(), new Date(T0));
    expect(sealed).not.toContain('message-sent'); // encrypted: no row is readable on the wire
    expect(await openAnchorBatch(sealed, other)).toEqual({ ok: false, reason: 'undecryptable' });
    const opened = await openAnchorBatch(sealed, compliance);
    if (!opened.ok) throw new Error('the compliance key must open it');
    const good = await readSignedBatch(opened.signed, account.toPublic());
    expect(good).toMatchObject({ ok: true, signatureOk: true, batch: b });
    expect(await readSignedBatch(opened.signed, other.toPublic())).toMatchObject({ ok: true, signatureOk: false });
    const edited = Buffer.from(JSON.stringify({ ...b, batch: 2 })).toString('base64');
    expect(await readSignedBatch({ ...opened.signed, data: edited }, account.toPublic())).toMatchObject({
      signatureOk: false,
    });
  });
});
