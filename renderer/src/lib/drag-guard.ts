/**
 * The page never starts a drag of its own. A browser drags an image or a link out of the window
 * as data the system writes wherever it is dropped: a preview of a patient's photo would leave
 * the app, outside the clinic's export policy and its audit. So every dragstart is cancelled here,
 * before any other handler runs; drag-out of a file (AttachmentCard, policy exportAllowed) asks
 * main instead, which starts the system's drag with an audited copy (attachments:dragOut).
 * Dropping files into the window (the composer) is not a dragstart and is not affected.
 */
export function guardDrags(target: EventTarget): () => void {
  const cancel = (e: Event): void => e.preventDefault();
  target.addEventListener('dragstart', cancel, { capture: true });
  return () => target.removeEventListener('dragstart', cancel, { capture: true });
}
