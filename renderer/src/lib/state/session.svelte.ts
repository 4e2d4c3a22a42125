/**
 * Session state: vault status, profiles (names only), unlock / lock. On 'session:locked' every
 * PHI-bearing state is dropped at once (issue 3 §3) before the lock screen renders.
 */
import type { ServerConfig } from '../../../../common/ipc-contract';
import type { IpcError } from '../../../../common/result';
import { clinic } from '../clinic';
import { NOTICE_TEXTS } from '../errors';
import { dropPhi, registerPhiReset } from '../phi';
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
  /**
   * First sign-in with a new key: its backup code, shown once (first-run/BackupStep.svelte) until
   * the person confirms they printed or stored it. It opens the key: dropped on any lock.
   */
  setupBackup = $state<{ code: string; fingerprint: string } | null>(null);

  constructor() {
    registerPhiReset(() => {
      this.setupBackup = null;
    });
  }

  private unsubs: (() => void)[] = [];
  private creating = false;

  /** The signed-in person's name (nav rail, lock button), '' while locked. */
  get activeName(): string {
    if (this.phase !== 'unlocked') return '';
    return this.profiles.find((p) => p.id === this.activeProfileId)?.displayName ?? '';
  }

  async start(): Promise<void> {
    const api = clinic();
    this.unsubs.push(
      api.on('session:locked', (p) => {
        // Measured from main's event when the lock was not asked for here (idle, OS lock, suspend).
        if (this.phase === 'unlocked') performance.mark('clinic:lock-start');
        dropPhi();
        if (p.reason === 'switch-user') ui.startOver();
        this.lockReason = p.reason;
        this.phase = 'locked';
        // refresh() answers with Results and shows a failure as phase 'unavailable': it never rejects.
        void this.refresh();
      }),
      // IT's remote wipe erased the open profile (issue 15): it is gone from the list now; the
      // chooser or first sign-in says why.
      api.on('session:wiped', () => {
        this.notice = NOTICE_TEXTS.remoteWiped;
        this.addingProfile = false;
        // refresh() answers with Results and shows a failure as phase 'unavailable': it never rejects.
        void this.refresh();
      }),
      api.on('session:unlocked', (p) => {
        // A first sign-in enters the session itself, after fetching the backup code to show first.
        if (this.phase !== 'unlocked' && !this.creating) this.enterUnlocked(p.profileId);
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
    if (this.activeProfileId !== null && this.activeProfileId !== profileId) ui.startOver();
    this.activeProfileId = profileId;
    this.lockReason = null;
    this.notice = null;
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
    displayName?: string;
    xmppPassword: string;
    passphrase: string;
    server: ServerConfig;
    keyBackupCode?: string;
    replaceAccountKey?: boolean;
  }): Promise<IpcError | null> {
    this.creating = true;
    try {
      return await this.signInFirstTime(input);
    } finally {
      this.creating = false;
    }
  }

  private async signInFirstTime(input: Parameters<SessionState['createProfile']>[0]): Promise<IpcError | null> {
    const r = await clinic().vault.createProfile({ ...input, policyAcknowledged: true });
    if (!r.ok) return r.error;
    // A key made now has a backup code the person must keep (issue 12 §5): shown once, before the
    // inbox. Read with the passphrase just typed, as Settings does (main audits the showing).
    // A restored key's code was just typed: nothing to show.
    if (!input.keyBackupCode) {
      const b = await clinic().account.keyBackup({ passphrase: input.passphrase });
      this.setupBackup = b.ok ? b.value : null;
    }
    await this.refresh();
    if (this.phase !== 'unlocked') this.enterUnlocked(r.value.profileId);
    return null;
  }

  /** Drops PHI first so nothing lingers even if main's event is slow. */
  async lock(reason: 'manual' | 'switch-user' = 'manual'): Promise<void> {
    performance.mark('clinic:lock-start');
    dropPhi();
    this.phase = 'locked';
    // The lock screen reads it at once (no one preselected after a switch of user); main's event confirms it.
    this.lockReason = reason;
    if (reason === 'switch-user') {
      ui.startOver();
      await clinic().vault.switchUser();
    } else await clinic().vault.lock({ reason });
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
