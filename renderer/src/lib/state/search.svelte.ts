/** Full-text search results (text + highlight ranges from the store). PHI: dropped on lock. */
import type { ChannelOutput } from '../../../../common/ipc-contract';
import { clinic } from '../clinic';
import { registerPhiReset } from '../phi';

export type SearchHit = ChannelOutput<'messages:search'>['items'][number];

class SearchState {
  query = $state('');
  results = $state.raw<SearchHit[]>([]);
  searching = $state(false);
  searched = $state(false);
  error = $state<string | null>(null);
  private epoch = 0;

  constructor() {
    registerPhiReset(() => this.reset());
  }

  reset(): void {
    this.epoch += 1;
    this.query = '';
    this.results = [];
    this.searching = false;
    this.searched = false;
    this.error = null;
  }

  async run(query: string): Promise<void> {
    const q = query.trim();
    const epoch = ++this.epoch;
    if (!q) {
      this.results = [];
      this.searched = false;
      return;
    }
    this.searching = true;
    const r = await clinic().messages.search({ query: q, cursor: null, limit: 50 });
    if (epoch !== this.epoch) return;
    this.searching = false;
    this.searched = true;
    if (!r.ok) {
      this.error = r.error.message;
      this.results = [];
      return;
    }
    this.error = null;
    this.results = r.value.items;
  }
}

export const search = new SearchState();
