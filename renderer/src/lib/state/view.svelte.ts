/**
 * What the person can see, told to main (issue 11 §5, issue 12 §1 "Read means read"):
 *
 * - conversations:view, once per change: the conversation they are following live — the inbox
 *   shows it at its newest message, the session is unlocked, the window visible and focused.
 *   Main stores a message that arrives live in it read: it appears where they are looking. A patient
 *   conversation (issue 17) counts once its thread is loaded (it has no scroll to follow: the
 *   thread is on screen): main stores a patient's reply to it read and raises no notification.
 * - conversations:markRead, when an unread inbound message has been on screen (MessageList's
 *   `shown`) for a moment under the same conditions: main marks read up to that message and sends
 *   the XEP-0333 displayed marker. A message stored by catch-up while locked stays "Delivered" for
 *   its sender until the person unlocks and it is on their screen.
 */
import { clinic } from '../clinic';
import { messages } from './messages.svelte';
import { patientThread, phoneOf } from './patient-thread.svelte';
import { session } from './session.svelte';
import { ui } from './ui.svelte';

/**
 * How long a message stays on screen before it counts as seen: the list settles (it opens at the
 * top for a frame before scrolling to the newest row), and rows flicked past are not read.
 */
const DWELL_MS = 300;

class ViewState {
  /** document.visibilityState, kept reactive (start()). */
  visible = $state(true);
  /** The window has the keyboard focus (start()). */
  focused = $state(true);
  /** The open conversation is a patient conversation (issue 17): its number, else null. */
  private readonly patientPhone = $derived(phoneOf(ui.conversationId));
  /** The open conversation's contents are on screen: a chat's messages, or a patient's thread. */
  private readonly shown = $derived(
    this.patientPhone !== null
      ? patientThread.loaded && patientThread.phone === this.patientPhone
      : messages.conversationId === ui.conversationId,
  );
  /** The person is looking at the open conversation: unlocked, inbox, window visible and focused. */
  readonly looking = $derived(
    session.phase === 'unlocked' &&
      ui.screen === 'inbox' &&
      this.visible &&
      this.focused &&
      ui.conversationId !== null &&
      this.shown,
  );
  /** The conversation followed live, or null (a patient's thread is followed whenever it is shown). */
  readonly conversationId = $derived(
    this.looking && (this.patientPhone !== null || messages.following) ? ui.conversationId : null,
  );

  /** Follows visibility and focus, reports view changes and what was seen; returns the stop function. */
  start(): () => void {
    const onVisibility = () => {
      this.visible = document.visibilityState === 'visible';
    };
    const onFocus = () => {
      this.focused = true;
    };
    const onBlur = () => {
      this.focused = false;
    };
    onVisibility();
    this.focused = document.hasFocus();
    document.addEventListener('visibilitychange', onVisibility);
    window.addEventListener('focus', onFocus);
    window.addEventListener('blur', onBlur);
    let dwell: ReturnType<typeof setTimeout> | undefined;
    const stop = $effect.root(() => {
      $effect(() => {
        const conversationId = this.conversationId;
        // Locked: main's view ended with the session it belonged to (each unlock starts with none),
        // and it would answer LOCKED anyway. The unlock makes `conversationId` change again.
        if (session.phase === 'unlocked') void clinic().conversations.view({ conversationId });
      });
      $effect(() => {
        clearTimeout(dwell);
        // A patient conversation marks its replies read itself (PatientConversation.svelte).
        if (!this.looking || this.patientPhone !== null || !messages.shown || !messages.hasUnseen()) return;
        // markSeen keeps its failures in state (asks again next time): nothing to catch.
        dwell = setTimeout(() => void messages.markSeen(), DWELL_MS);
      });
    });
    return () => {
      clearTimeout(dwell);
      document.removeEventListener('visibilitychange', onVisibility);
      window.removeEventListener('focus', onFocus);
      window.removeEventListener('blur', onBlur);
      stop();
    };
  }
}

export const view = new ViewState();
