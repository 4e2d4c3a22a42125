/**
 * The session: which profile is unlocked and the services open for it. Handlers reach every
 * PHI-holding service only through `active()`, which throws LOCKED when nothing is unlocked.
 */
import type {
  ChannelOutput,
  ChannelParsedInput,
  ConnectionState,
  LockReason,
  NotificationPreview,
  OwnPresence,
} from '../../common/ipc-contract';
import type { OpenedCopies } from '../attachments/opened-copies';
import type { AuditLog } from '../audit';
import type { PolicyChange } from '../policy/live';
import type { Store } from '../store';
import type { Messaging } from '../xmpp';

/** What is open while a profile is unlocked. Never cache it: it is gone after lock. */
export interface ActiveSession {
  profileId: string;
  jid: string;
  displayName: string;
  store: Store;
  audit: AuditLog;
  messaging: Messaging;
  /** Copies of files opened in another app (issue 16 §5), removed when the session closes. */
  opened?: OpenedCopies;
}

export type VaultStatus = ChannelOutput<'vault:status'>;
export type ProfileListItem = ChannelOutput<'vault:listProfiles'>[number];
export type CreateProfileInput = ChannelParsedInput<'vault:createProfile'>;

/** The user's settings after clamping to policy (users may only tighten). */
export interface EffectiveSettings {
  lockTimeoutMinutes: number;
  notificationPreview: NotificationPreview;
  theme: 'system' | 'light' | 'dark';
  /** Notification sounds (issue 12 §7). */
  sound: boolean;
  /** Conversation ids that do not notify (an urgent message may, per policy.urgentBypassesDnd). */
  mutedConversations: string[];
  /** Our own presence, kept across lock and unlock and sent on every connect. */
  presence: OwnPresence;
}

/** settings:update: the settings plus the mute action on one conversation. */
export type SettingsChange = Partial<Omit<EffectiveSettings, 'mutedConversations'>> & {
  mute?: { conversationId: string; muted: boolean };
};

export interface Session {
  isUnlocked(): boolean;
  /** Restarts the inactivity timer (renderer input, throttled). */
  reportActivity(): void;
  connection(): { state: ConnectionState; detail: string | null };
  /** The unlocked profile's services. Throws AppError('LOCKED') when locked. */
  active(): ActiveSession;
  dispose(): Promise<void>;

  // --- vault operations (main/ipc/handlers/vault.ts) ---------------------------------
  status(): Promise<VaultStatus>;
  listProfiles(): Promise<ProfileListItem[]>;
  /** First sign-in: profile + keys + store + first XMPP connect; removes the half-made profile on failure. */
  createProfile(input: CreateProfileInput): Promise<{ profileId: string }>;
  /** WRONG_PASSPHRASE | THROTTLED | PROFILE_WIPED | DEVICE_MISMATCH | KEYCHAIN_UNAVAILABLE | NOT_FOUND | STORE_* */
  /** `auditRollback`: the database is older than the audit head this PC mirrored (audited, reported). */
  unlock(profileId: string, passphrase: string): Promise<ChannelOutput<'vault:unlock'>>;
  /** Idempotent: locking a locked session does nothing (and emits nothing). */
  lock(reason: LockReason): Promise<void>;
  /** A profile this PC can open needs its passphrase (WRONG_PASSPHRASE, counted like an unlock). */
  removeProfile(profileId: string, passphrase?: string): Promise<void>;
  changePassphrase(current: string, next: string): Promise<void>;
  /** Re-checks the open profile's passphrase (key-backup code). Counted and throttled like an unlock; locks at the threshold. */
  confirmPassphrase(passphrase: string): Promise<void>;

  // --- settings (main/ipc/handlers/settings.ts) --------------------------------------
  /** Reads the unlocked profile's settings clamped to policy. Throws LOCKED. */
  settings(): EffectiveSettings;
  /** Stores the change (FORBIDDEN when it loosens policy) and re-arms the idle timer. Throws LOCKED. */
  updateSettings(change: SettingsChange): void;
  /** The managed policy changed while the app runs (core.ts): the open profile follows it (lifecycle.ts). */
  policyChanged(change: PolicyChange): void;
}
