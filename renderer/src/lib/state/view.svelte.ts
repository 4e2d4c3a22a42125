/**
 * Which conversation the user has in view, told to main once per change (conversations:view,
 * issue 11 §5). Main then stores inbound messages to it read as they arrive, so a message in the
 * open conversation costs one event and no call back. Null when no conversation is open, another
 * screen shows, the window is hidden, or the session is locked.
 */
import { clinic } from '../clinic';
import { session } from './session.svelte';
import { ui } from './ui.svelte';

class ViewState {
  /** document.visibilityState, kept reactive (start()). */
  visible = $state(true);
  readonly conversationId = $derived(
    session.phase === 'unlocked' && ui.screen === 'inbox' && this.visible ? ui.conversationId : null,
  );

  /** Follows visibility and reports each change of `conversationId`; returns the stop function. */
  start(): () => void {
    const onVisibility = () => {
      this.visible = document.visibilityState === 'visible';
    };
    onVisibility();
    document.addEventListener('visibilitychange', onVisibility);
    const stop = $effect.root(() => {
      $effect(() => {
        const conversationId = this.conversationId;
        // Locked: main's view ended with the session it belonged to (each unlock starts with none),
        // and it would answer LOCKED anyway. The unlock makes `conversationId` change again.
        if (session.phase === 'unlocked') void clinic().conversations.view({ conversationId });
      });
    });
    return () => {
      document.removeEventListener('visibilitychange', onVisibility);
      stop();
    };
  }
}

export const view = new ViewState();
