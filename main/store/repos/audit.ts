/** Raw audit rows and the chain head; main/audit/ computes and checks the MACs. */
import type { AuditEventType } from '../../../common/contract/domain';
import type { Db } from '../open-db';
import type { AuditHead, AuditRepo, AuditRow } from '../types';

interface Row {
  seq: number;
  at: number;
  type: AuditEventType;
  detail: string;
  prev_mac: Buffer;
  mac: Buffer;
}

const toRow = (r: Row): AuditRow => ({
  seq: r.seq,
  at: r.at,
  type: r.type,
  detail: r.detail,
  prevMac: r.prev_mac,
  mac: r.mac,
});

export function createAuditRepo(db: Db): AuditRepo {
  const last = db.prepare<[], Row>('SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1');
  const head = db.prepare<[], { seq: number; mac: Buffer; head_mac: Buffer }>(
    'SELECT seq, mac, head_mac FROM audit_head WHERE id = 1',
  );
  const insert = db.prepare<[number, number, string, string, Buffer, Buffer]>(
    'INSERT INTO audit_log (seq, at, type, detail, prev_mac, mac) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const setHead = db.prepare<[number, Buffer, Buffer]>(
    `INSERT INTO audit_head (id, seq, mac, head_mac) VALUES (1, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, mac = excluded.mac, head_mac = excluded.head_mac`,
  );
  const listFirst = db.prepare<[number], Row>('SELECT * FROM audit_log ORDER BY seq DESC LIMIT ?');
  const listBefore = db.prepare<[number, number], Row>(
    'SELECT * FROM audit_log WHERE seq < ? ORDER BY seq DESC LIMIT ?',
  );
  const all = db.prepare<[], Row>('SELECT * FROM audit_log ORDER BY seq');
  const append = db.transaction((row: AuditRow, h: AuditHead) => {
    insert.run(row.seq, row.at, row.type, row.detail, row.prevMac, row.mac);
    setHead.run(h.seq, h.mac, h.headMac);
  });
  return {
    last: () => {
      const r = last.get();
      return r ? toRow(r) : undefined;
    },
    head: () => {
      const r = head.get();
      return r ? { seq: r.seq, mac: r.mac, headMac: r.head_mac } : undefined;
    },
    append: (row, h) => append.immediate(row, h),
    list: (before, limit) => (before === null ? listFirst.all(limit) : listBefore.all(before, limit)).map(toRow),
    all: function* () {
      for (const r of all.iterate()) yield toRow(r);
    },
  };
}
