/**
 * Edit (XEP-0308 Last Message Correction) and delete for everyone (XEP-0424 Message Retraction)
 * inside the signed <signcrypt/> payload (issue 12 §6, PROTOCOL.md "Protocols the next
 * capabilities use"). Both name the changed message by its origin-id. Who may change it (only its
 * original sender) is decided where the original is known: main/xmpp/message-change.ts.
 */
import { childElements, escapeAttr, type XmlElement } from './xml';
import { SigncryptRejectedError } from './errors';

export const CORRECT_NS = 'urn:xmpp:message-correct:0';
export const RETRACT_NS = 'urn:xmpp:message-retract:1';
const FALLBACK_NS = 'urn:xmpp:fallback:0';
/** Longer ids are not ours (origin-ids are ~40 chars). */
const MAX_REF_ID = 128;

/** What a payload changes: `id` is the origin-id of the message it edits or deletes. */
export interface MessageChange {
  kind: 'edit' | 'retract';
  id: string;
}

/**
 * The body a client without XEP-0424 shows for a retraction (XEP-0424 §4 recommends a fallback
 * body); ours never shows it: the fallback element marks it.
 */
export const RETRACT_FALLBACK_BODY = 'This message was deleted by its sender.';

/** The elements written before <body/>; a retraction also marks its body as fallback (XEP-0428). */
export function changeXml(change: MessageChange): string {
  if (!change.id || change.id.length > MAX_REF_ID) throw new RangeError('a change needs the message id');
  const id = escapeAttr(change.id);
  return change.kind === 'edit'
    ? `<replace xmlns='${CORRECT_NS}' id='${id}'/>`
    : `<retract xmlns='${RETRACT_NS}' id='${id}'/><fallback xmlns='${FALLBACK_NS}' for='${RETRACT_NS}'/>`;
}

/**
 * The payload's change, if any. A payload that claims a change we cannot apply (both kinds,
 * several, no id or one longer than any of ours) is refused as malformed: shown as a new message it
 * would put a correction's text where the sender meant to replace or remove it.
 */
export function readChange(payload: XmlElement): MessageChange | null {
  const edits = childElements(payload, 'replace', CORRECT_NS);
  const retracts = childElements(payload, 'retract', RETRACT_NS);
  if (edits.length + retracts.length === 0) return null;
  const el = edits.length + retracts.length === 1 ? (edits[0] ?? retracts[0]!) : null;
  const id = el?.attrs.id ?? '';
  if (!el || !id || id.length > MAX_REF_ID) {
    throw new SigncryptRejectedError('malformed', 'unusable correction or retraction reference');
  }
  return { kind: edits.length ? 'edit' : 'retract', id };
}
