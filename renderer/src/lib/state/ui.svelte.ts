/**
 * Navigation and transient UI: which screen, which conversation, open dialogs, toasts, the
 * unread count in the document title. Ids only (never text), so the current conversation id
 * survives a lock and unlock returns to the same place (issue 3 §6).
 */
import { registerPhiReset } from '../phi';

export type Screen = 'inbox' | 'directory' | 'contact' | 'patients' | 'settings' | 'audit';
export type Dialog = 'switcher' | 'search' | 'shortcuts' | null;

export interface Toast {
  id: number;
  title: string;
  body: string;
  conversationId: string | null;
  /** Marked Urgent by the sender (issue 12 §7): shown distinctly. */
  urgent?: boolean;
  /** It mentions us (care-team rooms, issue 18 §4): says so. */
  mention?: boolean;
}

class UiState {
  screen = $state<Screen>('inbox');
  conversationId = $state<string | null>(null);
  contactJid = $state<string | null>(null);
  /** The conversation the contact screen was opened from: its back link returns there (issue 12 §8). */
  contactFrom = $state<string | null>(null);
  dialog = $state<Dialog>(null);
  toasts = $state<Toast[]>([]);
  /** Bumped whenever a conversation is opened, even the one already shown: its composer takes focus. */
  focusRequest = $state(0);
  private nextToast = 1;

  constructor() {
    registerPhiReset(() => {
      this.dialog = null;
      this.toasts = [];
      this.contactJid = null;
      this.contactFrom = null;
      if (this.screen === 'contact') this.screen = 'inbox';
    });
  }

  go(screen: Screen): void {
    this.dialog = null;
    this.screen = screen;
  }

  openConversation(id: string): void {
    this.dialog = null;
    this.screen = 'inbox';
    this.conversationId = id;
    this.focusRequest += 1;
  }

  /**
   * Switch user, or another profile unlocked: every screen starts over (issue 12 §4), so the next
   * person never lands in the previous person's conversation, settings, audit or contact pane, nor
   * in a dialog left open. Ids are per profile (rowids): a kept one would name someone else's row.
   */
  startOver(): void {
    this.conversationId = null;
    this.contactJid = null;
    this.dialog = null;
    this.toasts = [];
    this.screen = 'inbox';
  }

  openContact(jid: string): void {
    this.dialog = null;
    this.contactFrom = this.screen === 'inbox' ? this.conversationId : null;
    this.contactJid = jid;
    this.screen = 'contact';
  }

  /**
   * Shows a toast; an ordinary one goes by itself after 8 s. An Urgent one (issue 12 §7) stays until
   * the person dismisses it, opens its conversation or reads it elsewhere: an urgent message that
   * vanishes while nobody was looking would be missed.
   */
  toast(t: Omit<Toast, 'id'>): void {
    const id = this.nextToast++;
    this.toasts = [...this.toasts.slice(-2), { ...t, id }];
    if (t.urgent !== true) setTimeout(() => this.dismiss(id), 8000);
  }

  dismiss(id: number): void {
    this.toasts = this.toasts.filter((t) => t.id !== id);
  }

  /** A conversation with nothing unread (read here or on another workstation): its toasts are stale. */
  dismissConversation(conversationId: string): void {
    if (this.toasts.some((t) => t.conversationId === conversationId))
      this.toasts = this.toasts.filter((t) => t.conversationId !== conversationId);
  }
}

export const ui = new UiState();
