/**
 * What the patient gateway sends a staff account (issue 17; docs/protocol.md "Patient gateway"):
 * <state/> changes of a text, and a patient's <reply/>, each from the patient's JID at a component
 * of our own server. A state moves the text forward; a reply is decrypted with our own key (the
 * gateway only ever held ciphertext) and stored once by its id. Either is accepted only from the
 * patient the text went to. Hostile or malformed messages are logged (no content) and dropped.
 */
import type { XmlElement } from '@xmpp/client';
import * as openpgp from 'openpgp';
import { parsePatientReply, type PatientReply } from '../../common/patient-reply';
import { errorName } from '../log';
import type { StoredPatientText } from '../store/repos/patient-texts';
import type { MessagingContext } from './context';
import { NS_PATIENT_GATEWAY, parseStateMessage } from './patient-gateway';

export function createPatientGatewayInbound(
  ctx: MessagingContext,
  emit: (t: StoredPatientText | undefined) => void,
  /** A new reply was stored (its text and what the patient wrote): the inbox notifies. */
  replied?: (t: StoredPatientText, body: string) => void,
): { onStanza(el: XmlElement): boolean } {
  const { store, audit, logger, clock } = ctx.opts;
  const domain = ctx.ownJid.slice(ctx.ownJid.indexOf('@') + 1);

  /** The gateway domain a stanza comes from, when it is a component of our own server. */
  const componentOf = (el: XmlElement): string | null => {
    const from = String(el.attrs.from ?? '').split('/')[0]!;
    const host = from.slice(from.indexOf('@') + 1);
    return host.endsWith(`.${domain}`) ? host : null;
  };

  function onState(el: XmlElement, gateway: string): void {
    const change = parseStateMessage(el, gateway);
    if (!change) return logger.warn('patient gateway: a malformed state change was ignored');
    if (store.patientTexts.byLink(change.id)?.patientJid !== change.patient)
      return logger.warn('patient gateway: a state change for no text of ours was ignored');
    const t = store.patientTexts.advance(change.id, change.state, change.reason);
    if (!t) return; // not a step forward (a repeat, or one from the archive)
    audit.append('patient-text', { id: t.id, state: t.state, ...(t.failure ? { reason: t.failure } : {}) });
    emit(t);
  }

  async function onReply(reply: PatientReply): Promise<void> {
    const t = store.patientTexts.byLink(reply.messageId);
    const own = ctx.identity();
    // Only the patient the text went to may answer it.
    if (!t || t.patientJid !== reply.patientJid || !own)
      return logger.warn('patient gateway: a reply to no text of ours was ignored');
    let body: string;
    try {
      const message = await openpgp.readMessage({ binaryMessage: reply.ciphertext });
      const out = await openpgp.decrypt({
        message,
        decryptionKeys: own.privateKey,
        format: 'utf8',
        date: new Date(clock.now()),
      });
      body = out.data;
    } catch (err) {
      audit.append('patient-text', { id: t.id, state: t.state, reply: reply.replyId, reason: 'reply-undecryptable' });
      return logger.warn('patient gateway: a reply could not be decrypted', { error: errorName(err) });
    }
    const updated = store.patientTexts.addReply(reply.messageId, {
      id: reply.replyId,
      at: reply.at,
      verified: reply.verified,
      body,
    });
    if (!updated) return; // delivered again (same reply id): kept once
    audit.append('patient-text', { id: t.id, state: updated.state, reply: reply.replyId, verified: reply.verified });
    // Before the events: a reply to the conversation in view is stored read first (no unread flash).
    replied?.(updated, body);
    emit(updated);
  }

  return {
    onStanza(el) {
      if (el.name !== 'message') return false;
      const isState = el.getChild('state', NS_PATIENT_GATEWAY) !== undefined;
      const isReply = el.getChild('reply', NS_PATIENT_GATEWAY) !== undefined;
      // Only from a component of our own server (patients.<domain>); anything else is not the gateway.
      const gateway = componentOf(el);
      if ((!isState && !isReply) || !gateway) return false;
      if (isState) {
        onState(el, gateway);
        return true;
      }
      const parsed = parsePatientReply(el, { gatewayDomain: gateway });
      if (parsed?.ok)
        onReply(parsed.reply).catch((err: unknown) =>
          logger.warn('patient gateway reply failed', { error: errorName(err) }),
        );
      else logger.warn('patient gateway: a malformed reply was ignored', { problem: parsed?.problem ?? 'none' });
      return true;
    },
  };
}
