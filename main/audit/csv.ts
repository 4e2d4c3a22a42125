/** The audit report as CSV (RFC 4180): seq, time, event, then the detail as key=value pairs. */
import type { AuditRow } from '../store/types';
import type { AuditDetail } from './index';

function cell(v: string): string {
  // Quote everything; also defuse spreadsheet formulas (a JID cannot start with these, but be safe).
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return `"${safe.replace(/"/g, '""')}"`;
}

export function toCsv(rows: Iterable<AuditRow>): string {
  const lines = ['seq,time,event,detail'];
  for (const r of rows) {
    // append() stores scalars only (it throws on anything else), so String() is the whole value.
    const detail = JSON.parse(r.detail) as AuditDetail;
    const pairs = Object.entries(detail)
      .map(([k, v]) => `${k}=${v === null ? '' : String(v)}`)
      .join('; ');
    lines.push([String(r.seq), cell(new Date(r.at).toISOString()), cell(r.type), cell(pairs)].join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
