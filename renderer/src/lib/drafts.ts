/**
 * Drafts (issue 12 §2, nothing typed is lost): the composer's text is saved to main (drafts:set,
 * encrypted in the store like the messages) as soon as it changes — while one save is on its way,
 * further changes wait and go as one save when it is answered — and at once when the conversation
 * closes, when the idle warning shows and before a lock drops it from this page. Main may lock on
 * its own (idle, OS lock, suspend) and then refuses a save that arrives after it, so nothing waits
 * for a pause in typing: only a change made while the previous save was still on its way (a few
 * milliseconds) can miss such a lock.
 * The text is PHI: it is held here only until it is sent to main, and never logged.
 */
import { clinic } from './clinic';
import { registerPhiReset } from './phi';

let pending: { conversationId: string; text: string } | null = null;
/** The save on its way to main, if any: changes made meanwhile go once it is answered. */
let inFlight: Promise<void> | null = null;
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
  const p = pending;
  pending = null;
  if (!p) return inFlight ?? Promise.resolve();
  known.set(p.conversationId, p.text);
  const save: Promise<void> = clinic()
    .drafts.set(p)
    .then((r) => {
      // Not saved (locked meanwhile, conversation gone): say nothing is known, so the next change saves.
      if (!r.ok) known.delete(p.conversationId);
    })
    .finally(() => {
      if (inFlight !== save) return;
      inFlight = null;
      // What was typed while it was on its way. Flushing never rejects: a failed save is a Result.
      if (pending) void flushDraft();
    });
  inFlight = save;
  return save;
}

/** The composer's text changed (typing, pasting). */
export function draftChanged(conversationId: string, text: string): void {
  // Flushing never rejects: a failed save is a Result it handles.
  if (pending && pending.conversationId !== conversationId) void flushDraft();
  if (!pending && known.get(conversationId) === text) return;
  pending = { conversationId, text };
  // Flushing never rejects: a failed save is a Result it handles.
  if (!inFlight) void flushDraft();
}

/** Main accepted the message and removed the draft it came from (messages:send). */
export function draftSent(conversationId: string): void {
  if (pending?.conversationId === conversationId) pending = null;
  known.set(conversationId, '');
}

registerPhiReset(() => {
  // Before the text leaves this page: a lock asked for here (Ctrl+L, the lock button, switch user)
  // reaches main after this save. After a lock main made itself, main refuses it (LOCKED).
  void flushDraft();
  known.clear();
});
