/** Raw audit rows and the chain head; main/audit/ computes and checks the MACs. */
import type { AuditEventType } from '../../../common/contract/domain';
import type Database from 'better-sqlite3-multiple-ciphers';
import type { Db } from '../open-db';
import type { AuditFilter, AuditHead, AuditRepo, AuditRow } from '../types';

/**
 * The detail keys whose value is a colleague's (or our own) bare JID, as main writes them today:
 * `to` (message-sent), `from` (message-received), `peer` (message-rejected/-opened/-edited/-deleted,
 * message-change-rejected), `jid` (key-* events, sign-in). The audit screen's person filter looks
 * in exactly these; an event that starts naming a JID under a new key must be added here.
 */
export const AUDIT_JID_KEYS = ['peer', 'jid', 'from', 'to'] as const;

/**
 * The filtered page query and its parameters; the SQL text depends only on which parts are set.
 * It walks the seq key newest first and stops once the page is full, so paging needs no sort and
 * no extra index; a filter that matches almost nothing reads the whole log (about 40 ms for
 * 100,000 rows, measured here), which beat keeping an index per JID key. Exported for the plan test.
 */
export function auditListQuery(
  before: number | null,
  limit: number,
  f: AuditFilter,
): { sql: string; params: (number | string)[] } {
  const clauses: string[] = [];
  const params: (number | string)[] = [];
  const add = (clause: string, value: number | string): void => {
    clauses.push(clause);
    params.push(value);
  };
  if (before !== null) add('seq < ?', before);
  if (f.from !== undefined) add('at >= ?', f.from);
  if (f.to !== undefined) add('at <= ?', f.to);
  if (f.types !== undefined) add('type IN (SELECT value FROM json_each(?))', JSON.stringify(f.types));
  if (f.person !== undefined) {
    // detail is the canonical JSON text main/audit/ wrote (a flat object of scalars).
    const paths = AUDIT_JID_KEYS.map((k) => `lower(json_extract(detail, '$.${k}'))`).join(', ');
    add(`? IN (${paths})`, f.person.toLowerCase());
  }
  const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
  return { sql: `SELECT * FROM audit_log ${where} ORDER BY seq DESC LIMIT ?`, params: [...params, limit] };
}

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
  // At most 2^5 shapes of filtered query: prepared once each.
  const filtered = new Map<string, Database.Statement<(number | string)[], Row>>();
  const listFiltered = (before: number | null, limit: number, f: AuditFilter): Row[] => {
    const { sql, params } = auditListQuery(before, limit, f);
    let stmt = filtered.get(sql);
    if (!stmt) filtered.set(sql, (stmt = db.prepare<(number | string)[], Row>(sql)));
    return stmt.all(...params);
  };
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
    list: (before, limit, filter) =>
      (filter
        ? listFiltered(before, limit, filter)
        : before === null
          ? listFirst.all(limit)
          : listBefore.all(before, limit)
      ).map(toRow),
    all: function* () {
      for (const r of all.iterate()) yield toRow(r);
    },
  };
}
