/**
 * The audit log (ARCHITECTURE.md §7): append-only, HMAC-chained rows in the encrypted store.
 * Details carry ids, JIDs, codes and reasons — never message text; keys that look like text
 * are refused so a careless caller fails loudly instead of leaking PHI into the log.
 */
import type { AuditEntry, AuditEventType } from '../../common/contract/domain';
import { systemClock, type Clock } from '../clock';
import type { AuditFilter, AuditRow, Store } from '../store/types';
import { GENESIS, headMac, rowMac, verifyChain, type Problem } from './chain';
import { toCsv } from './csv';

export type AuditDetail = Record<string, string | number | boolean | null>;

export interface AuditVerifyResult {
  ok: boolean;
  checked: number;
  problems: Problem[];
  /**
   * Stored messages that have no message-sent/-received/-rejected entry (issue 10 §11): a store
   * written around the audit log. How many, and the first few ids.
   */
  unaudited: { count: number; ids: string[] };
}

const MESSAGE_EVENTS = new Set<AuditEventType>(['message-sent', 'message-received', 'message-rejected']);
const UNAUDITED_IDS_SHOWN = 20;

/** Messages in the store without their audit entry (a chain can be intact and still miss them). */
function unauditedMessages(store: Store, rows: Iterable<AuditRow>): { count: number; ids: string[] } {
  const audited = new Set<string>();
  for (const r of rows) {
    if (!MESSAGE_EVENTS.has(r.type)) continue;
    const id = (JSON.parse(r.detail) as AuditDetail).messageId;
    if (typeof id === 'string') audited.add(id);
  }
  const ids: string[] = [];
  let count = 0;
  for (const id of store.messages.auditableIds()) {
    if (audited.has(id)) continue;
    count++;
    if (ids.length < UNAUDITED_IDS_SHOWN) ids.push(id);
  }
  return { count, ids };
}

export interface AuditLog {
  append(type: AuditEventType, detail?: AuditDetail): void;
  /**
   * Newest first; `before` is a seq (exclusive), null for the newest. With a filter, only matching
   * entries, paged the same way (the store query filters, so a long log is not read whole).
   */
  list(before: number | null, limit: number, filter?: AuditFilter): { items: AuditEntry[]; nextBefore: number | null };
  verify(): AuditVerifyResult;
  /** CSV report: seq, time (ISO 8601), event, detail — ids and JIDs only. */
  exportCsv(): { filename: string; csv: string };
  /** Zero-fills the MAC key (session lock); the log is unusable afterwards. */
  close(): void;
}

export interface CreateAuditLogOptions {
  store: Store;
  /** The vault's 32-byte audit MAC key. */
  key: Buffer;
  /** The session's clock; tests that do not care about time leave it out (the system clock). */
  clock?: Pick<Clock, 'now'>;
}

const FORBIDDEN_DETAIL = /body|text|plaintext|passphrase|password|secret|privatekey|content/i;

/** Sorted keys so the stored JSON (which the MAC covers) does not depend on insertion order. */
function canonicalDetail(detail: AuditDetail): string {
  const out: AuditDetail = {};
  for (const k of Object.keys(detail).sort()) {
    if (FORBIDDEN_DETAIL.test(k))
      throw new Error(`audit detail key "${k}" is not allowed (no message text or secrets in the audit log)`);
    const v = detail[k];
    if (v !== null && !['string', 'number', 'boolean'].includes(typeof v))
      throw new Error(`audit detail "${k}" must be a scalar`);
    out[k] = v as AuditDetail[string];
  }
  return JSON.stringify(out);
}

export function createAuditLog({ store, key, clock = systemClock }: CreateAuditLogOptions): AuditLog {
  if (key.length !== 32) throw new Error('audit key must be 32 bytes');
  const macKey = Buffer.from(key); // our own copy: the vault zero-fills its buffer on lock
  let closed = false;
  const open = () => {
    if (closed) throw new Error('the audit log is closed (session locked)');
  };
  const now = () => clock.now();
  const toEntry = (r: { seq: number; at: number; type: AuditEventType; detail: string }): AuditEntry => ({
    seq: r.seq,
    at: r.at,
    type: r.type,
    detail: JSON.parse(r.detail) as AuditDetail,
  });

  return {
    append(type, detail = {}) {
      open();
      const json = canonicalDetail(detail);
      store.transaction(() => {
        const last = store.audit.last();
        const seq = (last?.seq ?? 0) + 1;
        const prevMac = last?.mac ?? GENESIS;
        const row: AuditRow = { seq, at: now(), type, detail: json, prevMac, mac: Buffer.alloc(0) };
        row.mac = rowMac(macKey, row);
        store.audit.append(row, { seq, mac: row.mac, headMac: headMac(macKey, seq, row.mac) });
      });
    },
    list(before, limit, filter) {
      const rows = store.audit.list(before, limit + 1, filter);
      const more = rows.length > limit;
      const items = (more ? rows.slice(0, limit) : rows).map(toEntry);
      return { items, nextBefore: more ? items[items.length - 1]!.seq : null };
    },
    verify() {
      open();
      const rows = [...store.audit.all()];
      const { checked, problems } = verifyChain(macKey, rows, store.audit.head());
      const unaudited = unauditedMessages(store, rows);
      return { ok: problems.length === 0 && unaudited.count === 0, checked, problems, unaudited };
    },
    exportCsv() {
      const stamp = new Date(now()).toISOString().slice(0, 10);
      return { filename: `clinic-messenger-audit-${stamp}.csv`, csv: toCsv(store.audit.all()) };
    },
    close() {
      closed = true;
      macKey.fill(0);
    },
  };
}
