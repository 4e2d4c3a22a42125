/** The audit report: entries (ids and reasons, never message text), chain verification, CSV export. */
import type { AuditEntry, ChannelOutput } from '../../../../common/ipc-contract';
import { clinic } from '../clinic';
import { registerPhiReset } from '../phi';

class AuditState {
  items = $state.raw<AuditEntry[]>([]);
  nextBefore = $state<number | null>(null);
  verifyResult = $state<ChannelOutput<'audit:verify'> | null>(null);
  error = $state<string | null>(null);
  loading = $state(false);

  constructor() {
    registerPhiReset(() => {
      this.items = [];
      this.nextBefore = null;
      this.verifyResult = null;
      this.error = null;
    });
  }

  async load(more = false): Promise<void> {
    this.loading = true;
    const r = await clinic().audit.list({ before: more ? this.nextBefore : null, limit: 100 });
    this.loading = false;
    if (!r.ok) {
      this.error = r.error.message;
      return;
    }
    this.error = null;
    this.items = more ? [...this.items, ...r.value.items] : r.value.items;
    this.nextBefore = r.value.nextBefore;
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
