/**
 * The audit hash chain (ARCHITECTURE.md §7; HIPAA §164.312(b)). Each row's MAC is
 * HMAC-SHA256(audit key, v1 ‖ at ‖ type ‖ detail ‖ prev_mac), length-prefixed so fields cannot
 * run into each other. The row stores prev_mac too, so verify() can say *how* the chain broke:
 * a row whose own MAC fails but whose successor still points at it was edited; a row nobody
 * points at and whose MAC fails was inserted; a valid row pointing at a MAC that no longer
 * exists follows a deletion; a valid row pointing at another existing row was reordered.
 * The head (last seq + MAC, itself MACed) catches a truncated tail.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AuditHead, AuditRow } from '../store/types';

export const GENESIS = Buffer.alloc(32, 0);

export type ProblemKind = 'edited' | 'deleted' | 'inserted' | 'reordered';
export interface Problem {
  seq: number;
  kind: ProblemKind;
}

function field(h: ReturnType<typeof createHmac>, v: string | Buffer): void {
  const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  h.update(len).update(b);
}

export function rowMac(key: Buffer, r: Pick<AuditRow, 'at' | 'type' | 'detail' | 'prevMac'>): Buffer {
  const h = createHmac('sha256', key);
  field(h, 'clinic-audit-v1');
  field(h, String(r.at));
  field(h, r.type);
  field(h, r.detail);
  field(h, r.prevMac);
  return h.digest();
}

export function headMac(key: Buffer, seq: number, mac: Buffer): Buffer {
  const h = createHmac('sha256', key);
  field(h, 'clinic-audit-head-v1');
  field(h, String(seq));
  field(h, mac);
  return h.digest();
}

const eq = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);

/** Checks rows given in seq order against the key and the stored head. */
export function verifyChain(
  key: Buffer,
  rowsInOrder: Iterable<AuditRow>,
  head: AuditHead | undefined,
): { checked: number; problems: Problem[] } {
  const rows = [...rowsInOrder];
  const problems: Problem[] = [];
  const macs = new Map<string, number>(); // mac hex → count
  for (const r of rows) macs.set(r.mac.toString('hex'), (macs.get(r.mac.toString('hex')) ?? 0) + 1);
  const seen = new Set<string>();
  let lastGood: Buffer = GENESIS;
  let lastGoodSeq = 0;

  rows.forEach((r, i) => {
    const hex = r.mac.toString('hex');
    const next = rows[i + 1];
    const valid = eq(rowMac(key, r), r.mac);
    const duplicate = seen.has(hex);
    seen.add(hex);
    const pointedAt = next ? eq(next.prevMac, r.mac) : !!head && eq(head.mac, r.mac);
    if (duplicate) {
      problems.push({ seq: r.seq, kind: 'inserted' }); // a replayed copy of an existing row
      return;
    }
    if (!valid && !pointedAt) {
      problems.push({ seq: r.seq, kind: 'inserted' }); // forged: no MAC of ours, nothing links to it
      return;
    }
    if (!valid) problems.push({ seq: r.seq, kind: 'edited' });
    else if (!eq(r.prevMac, lastGood)) {
      const predecessorExists = eq(r.prevMac, GENESIS) || macs.has(r.prevMac.toString('hex'));
      if (predecessorExists) problems.push({ seq: r.seq, kind: 'reordered' });
      else problems.push({ seq: r.seq > lastGoodSeq + 1 ? lastGoodSeq + 1 : r.seq, kind: 'deleted' });
    }
    lastGood = r.mac;
    lastGoodSeq = r.seq;
  });

  if (head) {
    const headOk = eq(headMac(key, head.seq, head.mac), head.headMac);
    if (!headOk) problems.push({ seq: head.seq, kind: 'edited' });
    else if (!eq(head.mac, lastGood)) {
      if (head.seq > lastGoodSeq || !macs.has(head.mac.toString('hex')))
        problems.push({ seq: lastGoodSeq + 1, kind: 'deleted' });
      else problems.push({ seq: head.seq, kind: 'reordered' });
    }
  } else if (rows.length > 0) {
    problems.push({ seq: rows[0]!.seq, kind: 'inserted' }); // rows without any head we wrote
  }
  return { checked: rows.length, problems };
}
