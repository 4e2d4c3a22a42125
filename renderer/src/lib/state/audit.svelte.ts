/** The audit report: entries (ids and reasons, never message text), chain verification, CSV export. */
import type { AuditEntry, ChannelOutput } from '../../../../common/ipc-contract';
import { emptyAuditFilterForm, type AuditFilter, type AuditFilterForm } from '../audit-filter';
import { clinic } from '../clinic';
import { registerPhiReset } from '../phi';

class AuditState {
  items = $state.raw<AuditEntry[]>([]);
  nextBefore = $state<number | null>(null);
  verifyResult = $state<ChannelOutput<'audit:verify'> | null>(null);
  /** When the chain was last anchored with the compliance account (issue 15 item 5); null until loaded. */
  anchoring = $state<ChannelOutput<'audit:anchoring'> | null>(null);
  error = $state<string | null>(null);
  loading = $state(false);
  /** The filter the listed entries match (issue 15 item 5); undefined: the whole log. */
  filter = $state.raw<AuditFilter | undefined>(undefined);
  /** The filter bar's values behind `filter`, so the bar shows them again when the screen comes back. */
  form = $state.raw<AuditFilterForm>(emptyAuditFilterForm());

  constructor() {
    registerPhiReset(() => {
      this.items = [];
      this.nextBefore = null;
      this.verifyResult = null;
      this.anchoring = null;
      this.error = null;
      this.filter = undefined;
      this.form = emptyAuditFilterForm();
    });
  }

  /** The newest entries matching the filter from the start, or (more) the next older page. */
  async load(more = false): Promise<void> {
    this.loading = true;
    const filter = this.filter;
    const r = await clinic().audit.list({
      before: more ? this.nextBefore : null,
      limit: 100,
      ...(filter ? { filter } : {}),
    });
    // A reply for a filter that changed meanwhile is stale: the newer load shows its own.
    if (filter !== this.filter) return;
    this.loading = false;
    if (!r.ok) {
      this.error = r.error.message;
      return;
    }
    this.error = null;
    this.items = more ? [...this.items, ...r.value.items] : r.value.items;
    this.nextBefore = r.value.nextBefore;
  }

  /** Lists from the newest again with another filter (undefined: none). */
  async setFilter(form: AuditFilterForm, filter: AuditFilter | undefined): Promise<void> {
    this.form = form;
    this.filter = filter;
    this.items = [];
    this.nextBefore = null;
    await this.load();
  }

  /** Reads the anchoring status; a failure leaves the line out (the list's own errors are shown). */
  async loadAnchoring(): Promise<void> {
    const r = await clinic().audit.anchoring();
    this.anchoring = r.ok ? r.value : null;
  }

  async verify(): Promise<void> {
    const r = await clinic().audit.verify();
    if (r.ok) this.verifyResult = r.value;
    else this.error = r.error.message;
  }

  async exportCsv(): Promise<{ filename: string; csv: string } | null> {
    const r = await clinic().audit.exportCsv();
    if (!r.ok) {
      this.error = r.error.message;
      return null;
    }
    return r.value;
  }
}

export const audit = new AuditState();
