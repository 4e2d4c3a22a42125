/** Server connection state; no PHI, kept across lock. */
import type { ConnectionState } from '../../../../common/ipc-contract';
import { clinic } from '../clinic';

class ConnectionStore {
  state = $state<ConnectionState>('offline');
  detail = $state<string | null>(null);
  syncing = $state(false);
  /** Catch-up's progress while it runs (issue 12 §9): messages fetched, and how many when known. */
  sync = $state<{ done: number; total: number | null } | null>(null);

  start(): () => void {
    // The IPC call answers with a Result (the state stays 'offline' on failure): it never rejects.
    void clinic()
      .app.connection()
      .then((r) => {
        if (r.ok) {
          this.state = r.value.state;
          this.detail = r.value.detail;
        }
      });
    const a = clinic().on('connection:state', (p) => {
      this.state = p.state;
      this.detail = p.detail;
    });
    const b = clinic().on('sync:progress', (p) => {
      this.syncing = !p.finished;
      this.sync = p.finished ? null : { done: p.done, total: p.total };
    });
    return () => {
      a();
      b();
    };
  }
}

export const connection = new ConnectionStore();
