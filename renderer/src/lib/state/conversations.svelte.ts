/** The inbox: conversation summaries, paged; kept sorted by last activity. PHI: dropped on lock. */
import type { ConversationSummary } from '../../../../common/ipc-contract';
import { clinic } from '../clinic';
import { registerPhiReset } from '../phi';

const lastAt = (c: ConversationSummary): number => c.lastMessage?.at ?? 0;

class ConversationsState {
  items = $state.raw<ConversationSummary[]>([]);
  nextCursor = $state<string | null>(null);
  loading = $state(false);
  loaded = $state(false);
  error = $state<string | null>(null);
  private epoch = 0;

  constructor() {
    registerPhiReset(() => this.reset());
  }

  reset(): void {
    this.epoch += 1;
    this.items = [];
    this.nextCursor = null;
    this.loading = false;
    this.loaded = false;
    this.error = null;
  }

  get unreadTotal(): number {
    let n = 0;
    for (const c of this.items) n += c.unread;
    return n;
  }

  byId(id: string | null): ConversationSummary | undefined {
    return id ? this.items.find((c) => c.id === id) : undefined;
  }

  async load(): Promise<void> {
    const epoch = ++this.epoch;
    this.loading = true;
    const r = await clinic().conversations.list({ cursor: null, limit: 100 });
    if (epoch !== this.epoch) return;
    this.loading = false;
    if (!r.ok) {
      this.error = r.error.message;
      return;
    }
    this.error = null;
    this.items = r.value.items;
    this.nextCursor = r.value.nextCursor;
    this.loaded = true;
  }

  async loadMore(): Promise<void> {
    if (!this.nextCursor || this.loading) return;
    const epoch = this.epoch;
    this.loading = true;
    const r = await clinic().conversations.list({ cursor: this.nextCursor, limit: 100 });
    if (epoch !== this.epoch) return;
    this.loading = false;
    if (!r.ok) return;
    const seen = new Set(this.items.map((c) => c.id));
    this.items = [...this.items, ...r.value.items.filter((c) => !seen.has(c.id))];
    this.nextCursor = r.value.nextCursor;
  }

  upsert(c: ConversationSummary): void {
    if (!this.loaded) return;
    const rest = this.items.filter((x) => x.id !== c.id);
    const at = lastAt(c);
    const i = rest.findIndex((x) => lastAt(x) < at);
    if (i < 0) rest.push(c);
    else rest.splice(i, 0, c);
    this.items = rest;
  }

  patch(id: string, change: Partial<ConversationSummary>): void {
    this.items = this.items.map((c) => (c.id === id ? { ...c, ...change } : c));
  }

  async open(peerJid: string): Promise<string | null> {
    const r = await clinic().conversations.open({ peerJid });
    if (!r.ok) {
      this.error = r.error.message;
      return null;
    }
    if (!this.items.some((c) => c.id === r.value.conversationId)) await this.load();
    return r.value.conversationId;
  }
}

export const conversations = new ConversationsState();
