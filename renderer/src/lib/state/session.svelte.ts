/**
 * Session state: vault status, profiles (names only), unlock / lock. On 'session:locked' every
 * PHI-bearing state is dropped at once (issue 3 §3) before the lock screen renders.
 */
import type { ServerConfig } from '../../../../common/ipc-contract';
import type { IpcError } from '../../../../common/result';
import { clinic } from '../clinic';
import { dropPhi } from '../phi';
import { ui } from './ui.svelte';

export type SessionPhase = 'loading' | 'no-profiles' | 'locked' | 'unlocked' | 'unavailable';

export interface ProfileEntry {
  id: string;
  displayName: string;
  openable: boolean;
}

class SessionState {
  phase = $state<SessionPhase>('loading');
  profiles = $state<ProfileEntry[]>([]);
  activeProfileId = $state<string | null>(null);
  keychain = $state<{ available: boolean; reason: string | null }>({ available: true, reason: null });
  lockReason = $state<string | null>(null);
  /** Bumped on every unlock; screens use it to re-load their data. */
  generation = $state(0);
  /** Whether the user explicitly asked for first-run while profiles exist ("add a person"). */
  addingProfile = $state(false);
  loadError = $state<string | null>(null);
  /** A one-off explanation for the next screen (no PHI), e.g. that a profile was just erased. */
  notice = $state<string | null>(null);
  /** A security warning from the last unlock (no PHI), shown over the app until dismissed. */
  securityAlert = $state<string | null>(null);

  private unsubs: (() => void)[] = [];

  async start(): Promise<void> {
    const api = clinic();
    this.unsubs.push(
      api.on('session:locked', (p) => {
        // Measured from main's event when the lock was not asked for here (idle, OS lock, suspend).
        if (this.phase === 'unlocked') performance.mark('clinic:lock-start');
        dropPhi();
        this.lockReason = p.reason;
        this.phase = 'locked';
        // refresh() answers with Results and shows a failure as phase 'unavailable': it never rejects.
        void this.refresh();
      }),
      api.on('session:unlocked', (p) => {
        if (this.phase !== 'unlocked') this.enterUnlocked(p.profileId);
      }),
    );
    await this.refresh();
  }

  stop(): void {
    for (const u of this.unsubs.splice(0)) u();
  }

  async refresh(): Promise<void> {
    const api = clinic();
    const [status, profiles] = await Promise.all([api.vault.status(), api.vault.listProfiles()]);
    if (!status.ok) {
      this.loadError = status.error.message;
      this.phase = 'unavailable';
      return;
    }
    this.loadError = null;
    this.keychain = status.value.keychain;
    this.profiles = profiles.ok ? profiles.value : [];
    if (status.value.state === 'unlocked' && status.value.activeProfileId) {
      if (this.phase !== 'unlocked') this.enterUnlocked(status.value.activeProfileId);
    } else {
      if (this.phase === 'unlocked') dropPhi();
      this.phase = status.value.state;
    }
  }

  private enterUnlocked(profileId: string): void {
    // The open conversation's id is kept across a lock so unlock returns to it (ui.svelte.ts), but
    // ids are per profile (rowids): after a switch of user the same id names someone else's
    // conversation, which the view would show and main would mark read (conversations:view).
    if (this.activeProfileId !== null && this.activeProfileId !== profileId) ui.leaveConversation();
    this.activeProfileId = profileId;
    this.lockReason = null;
    this.addingProfile = false;
    this.generation += 1;
    this.phase = 'unlocked';
  }

  async unlock(profileId: string, passphrase: string): Promise<IpcError | null> {
    const r = await clinic().vault.unlock({ profileId, passphrase });
    if (!r.ok) return r.error;
    performance.mark('clinic:unlock-ok');
    this.securityAlert = r.value.auditRollback
      ? 'The activity record on this PC is older than when this profile was last used here: its data was replaced with an earlier copy. This has been added to the audit log. Tell your IT or privacy officer.'
      : null;
    this.enterUnlocked(r.value.profileId);
    return null;
  }

  async createProfile(input: {
    jid: string;
    displayName: string;
    xmppPassword: string;
    passphrase: string;
    server: ServerConfig;
    keyBackupCode?: string;
    replaceAccountKey?: boolean;
  }): Promise<IpcError | null> {
    const r = await clinic().vault.createProfile({ ...input, policyAcknowledged: true });
    if (!r.ok) return r.error;
    await this.refresh();
    if (this.phase !== 'unlocked') this.enterUnlocked(r.value.profileId);
    return null;
  }

  /** Drops PHI first so nothing lingers even if main's event is slow. */
  async lock(reason: 'manual' | 'switch-user' = 'manual'): Promise<void> {
    performance.mark('clinic:lock-start');
    dropPhi();
    this.phase = 'locked';
    if (reason === 'switch-user') await clinic().vault.switchUser();
    else await clinic().vault.lock({ reason });
    await this.refresh();
  }

  /** A profile this PC can open needs its passphrase (main counts a wrong one like a failed unlock). */
  async removeProfile(profileId: string, passphrase?: string): Promise<IpcError | null> {
    const r = await clinic().vault.removeProfile(passphrase ? { profileId, passphrase } : { profileId });
    await this.refresh();
    return r.ok ? null : r.error;
  }
}

export const session = new SessionState();
