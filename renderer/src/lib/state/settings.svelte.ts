/** User settings within policy limits, the policy summary, and the theme (applied to <html>). */
import type { ChannelInput, ChannelOutput, OwnPresence } from '../../../../common/ipc-contract';
import type { IpcError } from '../../../../common/result';
import { clinic } from '../clinic';

export type Theme = 'system' | 'light' | 'dark';
type SettingsValue = ChannelOutput<'settings:get'>;
type PolicyValue = ChannelOutput<'policy:get'>;

const THEME_KEY = 'clinic-theme';

class SettingsState {
  value = $state<SettingsValue | null>(null);
  policy = $state<PolicyValue | null>(null);
  /** Theme is not PHI; remembered locally so the lock screen uses it too. */
  theme = $state<Theme>('system');

  init(): void {
    const saved = localStorage.getItem(THEME_KEY);
    if (saved === 'light' || saved === 'dark' || saved === 'system') this.theme = saved;
    this.applyTheme();
  }

  applyTheme(): void {
    const root = document.documentElement;
    if (this.theme === 'system') delete root.dataset.theme;
    else root.dataset.theme = this.theme;
  }

  async loadPolicy(): Promise<void> {
    const r = await clinic().policy.get();
    if (r.ok) this.policy = r.value;
  }

  async load(): Promise<void> {
    const r = await clinic().settings.get();
    if (!r.ok) return;
    this.value = r.value;
    if (r.value.theme !== this.theme) {
      this.theme = r.value.theme;
      localStorage.setItem(THEME_KEY, this.theme);
      this.applyTheme();
    }
  }

  /** Our own presence as last saved (issue 12 §7); Available until settings load. */
  get presence(): OwnPresence {
    return this.value?.presence ?? { show: 'available', status: '' };
  }

  /** IT set this policy key: Settings shows it locked, "Managed by your organization". */
  managed(key: string): boolean {
    return this.policy?.managedKeys?.includes(key) ?? false;
  }

  isMuted(conversationId: string): boolean {
    return this.value?.mutedConversations.includes(conversationId) ?? false;
  }

  async update(change: ChannelInput<'settings:update'>): Promise<IpcError | null> {
    if (change.theme) {
      this.theme = change.theme;
      localStorage.setItem(THEME_KEY, change.theme);
      this.applyTheme();
    }
    const r = await clinic().settings.update(change);
    if (!r.ok) return r.error;
    await this.load();
    return null;
  }
}

export const settings = new SettingsState();
