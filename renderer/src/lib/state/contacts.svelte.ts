/** The staff directory and contact details (names, roles, presence, trust). PHI: dropped on lock. */
import type { Contact, Presence } from '../../../../common/ipc-contract';
import type { IpcError } from '../../../../common/result';
import { clinic } from '../clinic';
import { registerPhiReset } from '../phi';

class ContactsState {
  directory = $state.raw<Contact[]>([]);
  loaded = $state(false);
  error = $state<string | null>(null);
  me = $state<{ jid: string; displayName: string; fingerprint: string | null } | null>(null);

  constructor() {
    registerPhiReset(() => this.reset());
  }

  reset(): void {
    this.directory = [];
    this.loaded = false;
    this.error = null;
    this.me = null;
  }

  byJid(jid: string | null | undefined): Contact | undefined {
    return jid ? this.directory.find((c) => c.jid === jid) : undefined;
  }

  async load(): Promise<void> {
    const [dir, me] = await Promise.all([clinic().contacts.directory(), clinic().account.me()]);
    if (me.ok) this.me = me.value;
    if (!dir.ok) {
      this.error = dir.error.message;
      return;
    }
    this.error = null;
    this.directory = [...dir.value].sort((a, b) => a.displayName.localeCompare(b.displayName));
    this.loaded = true;
  }

  async refreshOne(jid: string): Promise<Contact | null> {
    const r = await clinic().contacts.get({ jid });
    if (!r.ok) return null;
    this.upsert(r.value);
    return r.value;
  }

  upsert(c: Contact): void {
    const i = this.directory.findIndex((x) => x.jid === c.jid);
    if (i < 0) {
      if (!this.loaded) return;
      this.directory = [...this.directory, c].sort((a, b) => a.displayName.localeCompare(b.displayName));
    } else {
      const next = this.directory.slice();
      next[i] = c;
      this.directory = next;
    }
  }

  setPresence(jid: string, presence: Presence, status: string | null = null): void {
    const i = this.directory.findIndex((x) => x.jid === jid);
    if (i < 0) return;
    const next = this.directory.slice();
    next[i] = { ...next[i]!, presence, presenceStatus: status };
    this.directory = next;
  }

  async verify(jid: string, fingerprint: string): Promise<IpcError | null> {
    const r = await clinic().contacts.verify({ jid, fingerprint });
    if (!r.ok) return r.error;
    this.upsert(r.value);
    return null;
  }

  /** The 60-digit number to compare with this colleague for one of their keys (pinned or new), or null. */
  async safetyNumber(jid: string, fingerprint: string): Promise<string | null> {
    const r = await clinic().contacts.safetyNumber({ jid, fingerprint });
    return r.ok ? r.value.number : null;
  }

  async acceptKeyChange(jid: string, fingerprint: string): Promise<IpcError | null> {
    const r = await clinic().contacts.acceptKeyChange({ jid, fingerprint });
    if (!r.ok) return r.error;
    this.upsert(r.value);
    return null;
  }
}

export const contacts = new ContactsState();
