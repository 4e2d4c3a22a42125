/**
 * Plain SMS on a patient's documented request (issue 17 item 4: their right of access to their own
 * information, in the form they ask for). Only when the policy allows it (patientPlainSmsAllowed,
 * default off): otherwise every call is refused (FORBIDDEN) and audited.
 *
 * - The request is recorded per patient of the imported list: who recorded it, when, and where it is
 *   documented (a free-text reference), in the session's encrypted store (store/plain-sms-requests.ts).
 *   It can be withdrawn. Both are audited with the patient's row id and the staff JID only.
 * - A plain send needs that request and the sender's confirmation of the warning that the text goes
 *   unencrypted through the phone network. It goes to the gateway as <send mode='plain-sms'/>
 *   (patient-gateway.ts), which refuses it unless its own config allows plain SMS; opt-out, quiet
 *   hours and the frequency cap still apply there. The text is not stored here, and never audited:
 *   the audit has the patient's row id, the staff JID and the gateway's id and state.
 * - Not queued: a plain send needs the connection now (NOT_CONNECTED otherwise), so the person who
 *   confirmed the warning sees the answer.
 */
import { randomUUID } from 'node:crypto';
import type { PlainSmsRequest, PlainSmsSent } from '../../common/contract/patient-plain-sms';
import type { ChannelParsedInput } from '../../common/ipc-contract';
import { AppError } from '../../common/result';
import { REFUSALS } from '../patients/send-text';
import { plainSmsRequests } from '../store/plain-sms-requests';
import type { MessagingContext } from './context';
import { findPatientGateway, PatientGatewayRefused, sendPlainSms } from './patient-gateway';

export interface PatientPlainSms {
  requests(): PlainSmsRequest[];
  record(draft: ChannelParsedInput<'patients:recordPlainSmsRequest'>): PlainSmsRequest;
  withdraw(patientId: string): void;
  send(draft: ChannelParsedInput<'patients:sendPlainSms'>): Promise<PlainSmsSent>;
}

export function createPatientPlainSms(ctx: MessagingContext): PatientPlainSms {
  const { store, audit, clock, policy } = ctx.opts;
  const saved = plainSmsRequests(store);
  const domain = ctx.ownJid.slice(ctx.ownJid.indexOf('@') + 1);

  const refuse = (code: 'FORBIDDEN' | 'NOT_FOUND', reason: string, message: string, patient?: string): never => {
    audit.append('patient-text', { plainSms: 'refused', reason, by: ctx.ownJid, ...(patient ? { patient } : {}) });
    throw new AppError(code, message, { refused: reason });
  };
  const allowed = (patient?: string) => {
    if (!policy.patientPlainSmsAllowed)
      refuse(
        'FORBIDDEN',
        'policy-off',
        'Plain SMS is not allowed by the clinic policy (patientPlainSmsAllowed is off).',
        patient,
      );
  };
  const listed = (patientId: string) => {
    const [p] = store.patientLists.patientsById([patientId]);
    return p ?? refuse('NOT_FOUND', 'no-patient', 'That patient is not in the patient list.', patientId);
  };

  return {
    requests() {
      allowed();
      return saved.list();
    },
    record({ patientId, reference }) {
      allowed(patientId);
      listed(patientId);
      const r = saved.record({ patientId, reference, recordedBy: ctx.ownJid, recordedAt: clock.now() });
      // The row id and who: never the reference (free text), the number or the name.
      audit.append('patient-text', { plainSms: 'request-recorded', patient: patientId, by: ctx.ownJid });
      return r;
    },
    withdraw(patientId) {
      allowed(patientId);
      if (!saved.withdraw(patientId))
        refuse('NOT_FOUND', 'no-request', 'This patient has no recorded request for plain SMS.', patientId);
      audit.append('patient-text', { plainSms: 'request-withdrawn', patient: patientId, by: ctx.ownJid });
    },
    async send({ patientId, text }) {
      allowed(patientId);
      const patient = listed(patientId);
      if (!saved.get(patientId))
        refuse(
          'FORBIDDEN',
          'no-request',
          'This patient has no recorded request for plain SMS: record where they asked for it first.',
          patientId,
        );
      const c = ctx.conn();
      if (!c?.isReady())
        throw new AppError('NOT_CONNECTED', 'Not connected to the clinic server: the plain SMS was not sent.');
      const iq = (el: Parameters<typeof c.iq>[0]) => c.iq(el);
      const gateway = await findPatientGateway(iq, domain);
      if (!gateway) throw new AppError('NOT_FOUND', 'The clinic server has no patient gateway.');
      try {
        const sent = await sendPlainSms(iq, gateway, { request: randomUUID(), phone: patient.phone, text });
        audit.append('patient-text', {
          plainSms: 'sent',
          patient: patientId,
          by: ctx.ownJid,
          id: sent.id,
          state: sent.state,
        });
        return { id: sent.id, state: sent.state };
      } catch (err) {
        if (!(err instanceof PatientGatewayRefused)) throw err;
        const reason = err.reason ?? err.condition ?? 'unknown';
        audit.append('patient-text', { plainSms: 'refused', reason, by: ctx.ownJid, patient: patientId });
        const code =
          err.reason === 'rate-limited' ? 'THROTTLED' : err.reason === 'forbidden' ? 'FORBIDDEN' : 'CONFLICT';
        throw new AppError(code, err.reason ? REFUSALS[err.reason] : 'The patient gateway did not accept the text.', {
          refused: reason,
        });
      }
    },
  };
}
