/**
 * Drafts (issue 12 §2, nothing typed is lost): the composer's text is saved to main (drafts:set,
 * encrypted in the store like the messages) a moment after each change, and at once when the
 * conversation closes, when the idle warning shows and before a lock drops it from this page.
 * Main may lock on its own (idle, OS lock, suspend) and then refuses the save, so the delay is
 * short: only what was typed in the last moment before such a lock can miss it. An idle lock
 * comes long after the last keystroke, so its draft is always saved.
 * The text is PHI: it is held here only until it is sent to main, and never logged.
 */
import { clinic } from './clinic';
import { registerPhiReset } from './phi';

export const DRAFT_SAVE_DELAY_MS = 300;

let pending: { conversationId: string; text: string } | null = null;
let timer: ReturnType<typeof setTimeout> | null = null;
/** Conversations whose draft main holds as we last loaded or saved it: nothing to save again. */
const known = new Map<string, string>();

/** The conversation's draft ('' when none, or when main cannot answer). */
export async function loadDraft(conversationId: string): Promise<string> {
  // A save still waiting here is newer than what main holds.
  if (pending?.conversationId === conversationId) return pending.text;
  const r = await clinic().drafts.get({ conversationId });
  const text = r.ok ? r.value.text : '';
  if (r.ok) known.set(conversationId, text);
  return text;
}

/**
 * Sends the waiting save now. It is on the IPC channel before anything called after it (a send,
 * a lock), and main handles calls in order, so it is stored first.
 */
export function flushDraft(): Promise<void> {
  if (timer !== null) clearTimeout(timer);
  timer = null;
  const p = pending;
  pending = null;
  if (!p) return Promise.resolve();
  known.set(p.conversationId, p.text);
  return clinic()
    .drafts.set(p)
    .then((r) => {
      // Not saved (locked meanwhile, conversation gone): say nothing is known, so the next change saves.
      if (!r.ok) known.delete(p.conversationId);
    });
}

/** The composer's text changed (typing, pasting). */
export function draftChanged(conversationId: string, text: string): void {
  // Flushing never rejects: a failed save is a Result it handles.
  if (pending && pending.conversationId !== conversationId) void flushDraft();
  if (!pending && known.get(conversationId) === text) return;
  pending = { conversationId, text };
  if (timer !== null) clearTimeout(timer);
  // Flushing never rejects: a failed save is a Result it handles.
  timer = setTimeout(() => void flushDraft(), DRAFT_SAVE_DELAY_MS);
}

/** Main accepted the message and removed the draft it came from (messages:send). */
export function draftSent(conversationId: string): void {
  if (pending?.conversationId === conversationId) {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    pending = null;
  }
  known.set(conversationId, '');
}

registerPhiReset(() => {
  // Before the text leaves this page: a lock asked for here (Ctrl+L, the lock button, switch user)
  // reaches main after this save. After a lock main made itself, main refuses it (LOCKED).
  void flushDraft();
  known.clear();
});
