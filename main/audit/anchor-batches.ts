/**
 * Which audit rows go to the compliance account next (issue 15 item 4): the batch format is
 * main/crypto/audit-anchor.ts, the sending main/xmpp/audit-anchoring.ts. What was anchored lives in
 * the profile's own encrypted store (setting `audit:anchor`), beside the rows it describes, so a
 * restored old database also restores an old anchoring state — and then re-sends batch numbers and
 * seqs the compliance account already holds with other content: the report calls that a rollback.
 *
 * A batch that was built but not acknowledged by the server stays `pending` and is rebuilt with the
 * same rows, number and time (the same JSON), so a resend is a duplicate the receiver drops.
 */
import {
  chainLink,
  entryLink,
  GENESIS_LINK,
  MAX_ANCHOR_ENTRIES,
  type AnchorBatch,
  type AnchorEntry,
} from '../crypto/audit-anchor';
import { auditAnchoringEnabled, type Policy } from '../policy/schema';
import type { AuditRow, Store } from '../store/types';
import type { AuditLog } from './index';

const SETTING = 'audit:anchor';

export interface AnchorState {
  /** The last batch the server acknowledged (0: none yet), the last seq it carried, and the chain's link there. */
  batch: number;
  seq: number;
  link: string;
  /** When that acknowledgement came (the session's clock), null before the first. */
  at: number | null;
  /** Built, not yet acknowledged: rows after `fromSeq` up to `toSeq`. */
  pending: {
    batch: number;
    fromSeq: number;
    toSeq: number;
    sentAt: number;
    localProblems: AnchorBatch['localProblems'];
  } | null;
}

const EMPTY: AnchorState = { batch: 0, seq: 0, link: GENESIS_LINK, at: null, pending: null };

export function anchorState(store: Pick<Store, 'getSetting'>): AnchorState {
  return store.getSetting<AnchorState>(SETTING) ?? EMPTY;
}

const toEntry = (r: AuditRow): AnchorEntry => ({
  seq: r.seq,
  at: r.at,
  type: r.type,
  detail: r.detail,
  prevMac: r.prevMac.toString('hex'),
  mac: r.mac.toString('hex'),
});

/**
 * The rows up to `fromSeq` hashed again from the store (so a row edited after it was anchored
 * changes the link this batch continues from), and the rows after it: up to `toSeq`, or up to
 * MAX_ANCHOR_ENTRIES new ones. `known`: the link at `fromSeq` computed earlier in the same run.
 */
function readRange(
  store: Store,
  fromSeq: number,
  toSeq: number | null,
  known: string | undefined,
): { prevLink: string; entries: AnchorEntry[] } {
  let prevLink = known ?? GENESIS_LINK;
  const entries: AnchorEntry[] = [];
  for (const row of store.audit.all()) {
    if (row.seq <= fromSeq) {
      if (known === undefined) prevLink = entryLink(prevLink, toEntry(row));
    } else if (toSeq === null ? entries.length < MAX_ANCHOR_ENTRIES : row.seq <= toSeq) entries.push(toEntry(row));
    else break;
  }
  return { prevLink, entries };
}

/**
 * What one anchoring run carries from batch to batch, so a backlog of many batches rehashes the log
 * and runs the HMAC check once per run, not once per batch: the first batch of every run still
 * recomputes its starting link from the stored rows.
 */
export interface AnchorRun {
  /** The link after `seq`, as the previous batch of this run ended. */
  head?: { seq: number; link: string };
  localProblems?: AnchorBatch['localProblems'];
}

export interface BuiltBatch {
  batch: AnchorBatch;
  /** Whether rows remain after this one (a backlog goes in several bounded batches). */
  more: boolean;
}

/**
 * The next batch to send: the pending one again, or a new one with the rows after the last
 * anchored seq (none: a heartbeat, so an idle workstation is not taken for a stopped one).
 */
export function nextBatch(
  store: Store,
  audit: Pick<AuditLog, 'verify'>,
  who: { account: string; workstation: string },
  now: number,
  run: AnchorRun = {},
): BuiltBatch {
  const state = anchorState(store);
  let pending = state.pending;
  const fromSeq = pending?.fromSeq ?? state.seq;
  const known = run.head?.seq === fromSeq ? run.head.link : undefined;
  const { prevLink, entries } = readRange(store, fromSeq, pending?.toSeq ?? null, known);
  if (!pending) {
    const toSeq = entries.length > 0 ? entries[entries.length - 1]!.seq : state.seq;
    // Kept with the pending batch: a resend must be the same JSON even if the log changed since.
    const localProblems = (run.localProblems ??= audit
      .verify()
      .problems.slice(0, 50)
      .map((p) => ({ seq: p.seq, kind: p.kind })));
    pending = { batch: state.batch + 1, fromSeq: state.seq, toSeq, sentAt: now, localProblems };
    store.setSetting(SETTING, { ...state, pending });
  }
  const last = store.audit.last();
  const batch: AnchorBatch = {
    v: 1,
    account: who.account,
    workstation: who.workstation,
    batch: pending.batch,
    sentAt: pending.sentAt,
    prevLink,
    head: { seq: pending.toSeq, link: chainLink(prevLink, entries) },
    entries,
    localProblems: pending.localProblems,
  };
  run.head = batch.head;
  return { batch, more: (last?.seq ?? 0) > pending.toSeq };
}

/** The server acknowledged `batch`: it is the anchored state now. */
export function markAnchored(store: Store, batch: AnchorBatch, now: number): AnchorState {
  const state: AnchorState = { batch: batch.batch, seq: batch.head.seq, link: batch.head.link, at: now, pending: null };
  store.setSetting(SETTING, state);
  return state;
}

export interface AnchoringStatus {
  enabled: boolean;
  /** When the server last acknowledged a batch (the session's clock), null: never. */
  lastAnchoredAt: number | null;
  anchoredSeq: number;
  overdue: boolean;
}

/**
 * What the audit screen shows (item 5): when the chain was last anchored and whether that is
 * overdue (`auditAnchorOverdueHours`). Never anchored counts from the log's first entry, so a
 * profile set up a minute ago is not overdue yet.
 */
export function anchoringStatus(
  store: Pick<Store, 'getSetting' | 'audit'>,
  policy: Pick<Policy, 'complianceAccount' | 'complianceKeyFingerprint' | 'auditAnchorOverdueHours'>,
  now: number,
): AnchoringStatus {
  const enabled = auditAnchoringEnabled(policy);
  const state = anchorState(store);
  let since = state.at ?? now;
  if (state.at === null)
    for (const first of store.audit.all()) {
      since = first.at;
      break; // only the oldest row
    }
  const overdue = enabled && now - since > policy.auditAnchorOverdueHours * 3600_000;
  return { enabled, lastAnchoredAt: state.at, anchoredSeq: state.seq, overdue };
}
